import type { ConveyorEventBus } from '../events/bus.js';
import type { Clock, Logger } from '../ports/runtime.js';
import { describeError } from '../result/errors.js';
import { safeLogger } from '../runtime/logger.js';

/** What a daemon did on its last tick, for a host's `/queue`. */
export interface DaemonStatus {
  readonly name: string;
  /** true between `start()` and `stop()` */
  readonly running: boolean;
  readonly intervalMs: number;
  readonly ticks: number;
  /** epoch ms of the end of the last tick */
  readonly lastTickAt?: number;
  readonly lastTickMs?: number;
  /** what the last tick did (claimed, reaped, unblocked…) */
  readonly last: Readonly<Record<string, number>>;
  /** the same counts summed over every tick */
  readonly totals: Readonly<Record<string, number>>;
  /** the last tick's failure, if it failed as a whole */
  readonly lastError?: string;
}

/** A background loop: `start()`/`stop()`, a `tick()` that never throws, and its status. */
export interface Daemon {
  readonly name: string;
  /** Starts ticking every interval (the first tick runs at once). */
  start(): void;
  /** Stops ticking and waits for the tick in flight. */
  stop(): Promise<void>;
  /** Runs one tick now (joins the tick in flight, if any); never rejects. */
  tick(): Promise<Readonly<Record<string, number>>>;
  status(): DaemonStatus;
}

/** Options of {@link createDaemonLoop}. */
export interface DaemonLoopOptions {
  readonly name: string;
  readonly intervalMs: number;
  /** one unit of the daemon's work; returns counts of what it did */
  readonly tick: () => Promise<Record<string, number>>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: Pick<ConveyorEventBus, 'emit'>;
  /** called after `stop()` stopped ticking, before it resolves */
  readonly onStop?: () => Promise<void>;
}

/**
 * The loop every daemon shares: ticks never overlap, a tick that throws is
 * logged and recorded in the status and the loop goes on, and `stop()` waits
 * for the tick in flight.
 *
 * @example
 * ```ts
 * const loop = createDaemonLoop({ name: 'janitor', intervalMs: 5000, clock: systemClock, logger, tick: async () => ({ cleaned: 0 }) });
 * loop.start();
 * await loop.stop();
 * ```
 */
export function createDaemonLoop(options: DaemonLoopOptions): Daemon {
  const logger = safeLogger(options.logger).child({ daemon: options.name });
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<Readonly<Record<string, number>>> | undefined;
  let ticks = 0;
  let lastTickAt: number | undefined;
  let lastTickMs: number | undefined;
  let lastError: string | undefined;
  let last: Readonly<Record<string, number>> = {};
  const totals: Record<string, number> = {};

  async function runTick(): Promise<Readonly<Record<string, number>>> {
    const started = options.clock.now();
    const t0 = performance.now();
    let counts: Record<string, number> = {};
    try {
      counts = await options.tick();
      lastError = undefined;
    } catch (thrown) {
      lastError = describeError(thrown);
      logger.error('tick failed', { error: lastError });
    }
    ticks += 1;
    lastTickMs = performance.now() - t0;
    lastTickAt = options.clock.now();
    last = Object.freeze({ ...counts });
    for (const [key, value] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + value;
    try {
      options.events?.emit('daemon.tick', { daemon: options.name, at: started, summary: last });
    } catch {
      /* observers never break a daemon */
    }
    return last;
  }

  function tick(): Promise<Readonly<Record<string, number>>> {
    if (inFlight) return inFlight;
    inFlight = runTick().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(delay: number): void {
    if (!running) return;
    timer = setTimeout(() => {
      timer = undefined;
      void tick().then(() => schedule(options.intervalMs));
    }, delay);
  }

  return {
    name: options.name,
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (inFlight) await inFlight;
      if (options.onStop) {
        try {
          await options.onStop();
        } catch (thrown) {
          logger.error('stop failed', { error: describeError(thrown) });
        }
      }
    },
    tick,
    status: () => ({
      name: options.name,
      running,
      intervalMs: options.intervalMs,
      ticks,
      ...(lastTickAt === undefined ? {} : { lastTickAt }),
      ...(lastTickMs === undefined ? {} : { lastTickMs }),
      last,
      totals: { ...totals },
      ...(lastError === undefined ? {} : { lastError }),
    }),
  };
}

/** The status of several daemons, by name. */
export interface DaemonStatusBoard {
  /** Every daemon's status, in the order they were given. */
  snapshot(): DaemonStatus[];
}

/**
 * What each daemon did last, in one place: what a host's `/queue` shows.
 *
 * @example
 * ```ts
 * const board = createDaemonStatusBoard([worker, reaper, reconciler]);
 * res.end(JSON.stringify(board.snapshot()));
 * ```
 */
export function createDaemonStatusBoard(daemons: readonly Pick<Daemon, 'status'>[]): DaemonStatusBoard {
  const list = [...daemons];
  return { snapshot: () => list.map((d) => d.status()) };
}
