import type { ConveyorEventBus } from '../events/bus.js';
import { createProcessProbe } from '../launcher/process-probe.js';
import type { Pipeline } from '../pipeline/types.js';
import type { Notifier } from '../ports/notifier.js';
import type { Clock, Logger } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { createDaemonStatusBoard, type Daemon, type DaemonStatusBoard } from './loop.js';
import { createReaper, type ReaperOptions } from './reaper.js';
import { createReconciler, type ReconcilerOptions } from './reconciler.js';
import { createWorker, type Worker, type WorkerOptions } from './worker.js';

/** What the three daemons share. */
/** The options `createDaemons` passes to every daemon itself (so a daemon's own options leave them out). */
export type DaemonSharedOption = 'store' | 'pipeline' | 'clock' | 'logger' | 'events';

/** Options of {@link createDaemons}. */
export interface DaemonsOptions {
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: Pick<ConveyorEventBus, 'emit'>;
  /** handed to the reconciler, which updates the card of a task it unblocks */
  readonly notifier?: Notifier;
  /** the worker: `launcher` and `commandFor` are required; `enabled: false` never starts it */
  readonly worker: Omit<WorkerOptions, DaemonSharedOption> & { readonly enabled?: boolean };
  /** the reaper (default probe: `createProcessProbe()`); `enabled: false` never starts it */
  readonly reaper?: Partial<Omit<ReaperOptions, DaemonSharedOption | 'watched'>> & { readonly enabled?: boolean };
  /** the reconciler; `enabled: false` never starts it */
  readonly reconciler?: Omit<ReconcilerOptions, DaemonSharedOption | 'notifier'> & { readonly enabled?: boolean };
}

/** The worker, reaper and reconciler of one host, started and stopped together. */
export interface Daemons {
  readonly worker: Worker;
  readonly reaper: Daemon;
  readonly reconciler: Daemon;
  /** what each did on its last tick (a host's `/queue`) */
  readonly board: DaemonStatusBoard;
  /** the names of the daemons `start()` starts */
  readonly enabled: readonly string[];
  /** starts the enabled daemons */
  start(): void;
  /**
   * Stops in order: the worker first (it stops claiming; running jobs finish,
   * or are handed to the next reaper when `graceMs` runs out), then the reaper
   * and the reconciler. Resolves to `handedBack`: jobs still running at the end.
   */
  stop(graceMs?: number): Promise<{ readonly handedBack: number }>;
}

/**
 * Creates a host's three daemons from one set of options, wired the way they
 * must be: the reaper never probes a job this process's worker is watching
 * (the worker records its exit; probing it would race the worker), and stop
 * order is worker → reaper → reconciler.
 *
 * @example
 * ```ts
 * const daemons = createDaemons({
 *   store, pipeline, clock: systemClock, logger,
 *   worker: { launcher: createProcessLauncher({ logDir: 'logs' }), commandFor: (job) => ({ command: './agents/run.sh', args: [job.agent] }) },
 *   reconciler: { tracker, pollStates: ['Todo', 'Approved'] },
 * });
 * daemons.start();
 * process.on('SIGTERM', () => void daemons.stop(30_000));
 * ```
 */
export function createDaemons(options: DaemonsOptions): Daemons {
  const shared = {
    store: options.store,
    pipeline: options.pipeline,
    clock: options.clock,
    logger: options.logger,
    ...(options.events === undefined ? {} : { events: options.events }),
  };
  const { enabled: workerEnabled = true, ...workerOptions } = options.worker;
  const { enabled: reaperEnabled = true, probe, ...reaperOptions } = options.reaper ?? {};
  const { enabled: reconcilerEnabled = true, ...reconcilerOptions } = options.reconciler ?? {};
  const worker = createWorker({ ...shared, ...workerOptions });
  const reaper = createReaper({
    ...shared,
    ...reaperOptions,
    probe: probe ?? createProcessProbe(),
    watched: (job) => worker.owns(job.id),
  });
  const reconciler = createReconciler({
    ...shared,
    ...reconcilerOptions,
    ...(options.notifier === undefined ? {} : { notifier: options.notifier }),
  });
  const all: [Daemon, boolean][] = [
    [worker, workerEnabled],
    [reaper, reaperEnabled],
    [reconciler, reconcilerEnabled],
  ];
  return Object.freeze({
    worker,
    reaper,
    reconciler,
    board: createDaemonStatusBoard([worker, reaper, reconciler]),
    enabled: all.filter(([, on]) => on).map(([daemon]) => daemon.name),
    start() {
      for (const [daemon, on] of all) if (on) daemon.start();
    },
    async stop(graceMs?: number) {
      const stopped = worker.stop();
      if (graceMs === undefined) await stopped;
      else {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
          timer.unref();
        });
        await Promise.race([stopped, grace]);
        if (timer) clearTimeout(timer);
      }
      const handedBack = worker.running();
      if (handedBack > 0) {
        options.logger.warn('jobs still running when the grace ran out: the next reaper finishes them', { handedBack });
      }
      await reaper.stop();
      await reconciler.stop();
      return { handedBack };
    },
  });
}
