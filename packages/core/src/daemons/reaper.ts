import type { ConveyorEventBus } from '../events/bus.js';
import type { Pipeline } from '../pipeline/types.js';
import type { Job } from '../ports/domain.js';
import type { Clock, Logger, ProcessProbe } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { describeError } from '../result/errors.js';
import { safeLogger } from '../runtime/logger.js';
import { DEFAULT_REAPER_INTERVAL_MS } from '../settings/daemon-defaults.js';
import { createDaemonLoop, type Daemon } from './loop.js';
import { decideReaping, type ReaperObservation } from './reaper-decision.js';

/** Options of {@link createReaper}. */
export interface ReaperOptions {
  readonly store: Store;
  readonly pipeline: Pick<Pipeline, 'advance'>;
  readonly probe: ProcessProbe;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: Pick<ConveyorEventBus, 'emit'>;
  /** default {@link DEFAULT_REAPER_INTERVAL_MS} (30 s) */
  readonly intervalMs?: number;
  /** consecutive dead ticks before a flip (default 3) */
  readonly deadTicks?: number;
  /** default 3600 s */
  readonly maxRunningSeconds?: number;
  /** a running job with no pid after this long is flipped (default 60 s) */
  readonly noPidGraceSeconds?: number;
  /** free expired leases each tick (default true) */
  readonly leaseReclaimEnabled?: boolean;
  /** the exit code of a job whose process ended, when known (e.g. `readExitRecord`) */
  readonly exitCodeOf?: (job: Job) => number | null | undefined;
  /**
   * Jobs a live worker of this process is watching (e.g. `(job) => worker.owns(job.id)`): their pid
   * is not probed (the worker records their exit); only the maximum running time applies.
   */
  readonly watched?: (job: Job) => boolean;
  /** kills an overdue process (default `process.kill(pid, 'SIGKILL')`) */
  readonly kill?: (pid: number) => void;
}

/**
 * The reaper: each tick looks at every `running` job (probing each pid once
 * per tick, however many jobs carry it). A pid dead for
 * `deadTicks` consecutive ticks (counts kept in memory), a dead pid with a
 * known exit code, a job running past the maximum, or a job with no pid after
 * a grace gets the terminal flip; the winner of the flip asks the pipeline to
 * advance (for exit 0 the stage's gates decide). It also frees expired leases.
 * The decision is {@link decideReaping}; this is the thin runner.
 *
 * @example
 * ```ts
 * const reaper = createReaper({ store, pipeline, probe: createProcessProbe(), clock: systemClock, logger, deadTicks: 3 });
 * reaper.start();
 * ```
 */
export function createReaper(options: ReaperOptions): Daemon {
  const { store, pipeline, probe, clock } = options;
  const logger = safeLogger(options.logger).child({ daemon: 'reaper' });
  const policy = {
    deadTicks: options.deadTicks ?? 3,
    maxRunningMs: (options.maxRunningSeconds ?? 3600) * 1000,
    noPidGraceMs: (options.noPidGraceSeconds ?? 60) * 1000,
  };
  const kill =
    options.kill ??
    ((pid: number) => {
      process.kill(pid, 'SIGKILL');
    });
  let deadCounts: ReadonlyMap<string, number> = new Map();

  /** What the probe said of each pid this tick: several jobs may share one pid, probed once. */
  type Probed = Awaited<ReturnType<ProcessProbe['isAlive']>>;

  async function observe(job: Job, probed: Map<number, Probed>): Promise<ReaperObservation> {
    if (options.watched?.(job) === true) return { job, alive: true };
    if (job.pid === undefined) return { job };
    let alive = probed.get(job.pid);
    if (alive === undefined) {
      alive = await probe.isAlive(job.pid);
      probed.set(job.pid, alive);
    }
    if (!alive.ok) {
      logger.warn('cannot probe a pid', { jobId: job.id, pid: job.pid, error: alive.error.message });
      return { job };
    }
    if (alive.value) return { job, alive: true };
    let exitCode: number | null | undefined;
    try {
      exitCode = options.exitCodeOf?.(job);
    } catch (thrown) {
      logger.warn('exitCodeOf threw', { jobId: job.id, error: describeError(thrown) });
    }
    return exitCode === undefined ? { job, alive: false } : { job, alive: false, exitCode };
  }

  return createDaemonLoop({
    name: 'reaper',
    intervalMs: options.intervalMs ?? DEFAULT_REAPER_INTERVAL_MS,
    clock,
    logger: options.logger,
    ...(options.events === undefined ? {} : { events: options.events }),
    async tick() {
      const running = await store.listJobs({ statuses: ['running'] });
      if (!running.ok) throw running.error;
      const observations: ReaperObservation[] = [];
      const probed = new Map<number, Probed>();
      for (const job of running.value) observations.push(await observe(job, probed));
      const now = clock.now();
      const decision = decideReaping(observations, deadCounts, now, policy);
      deadCounts = decision.deadCounts;
      let reaped = 0;
      let lost = 0;
      for (const action of decision.actions) {
        try {
          if (action.killPid !== undefined) {
            try {
              kill(action.killPid);
            } catch {
              /* already gone */
            }
          }
          const flip = await store.finishJob({
            jobId: action.jobId,
            status: action.status,
            exitCode: action.exitCode,
            reason: action.reason,
            now,
          });
          if (!flip.ok) throw flip.error;
          if (!flip.value.won) {
            lost += 1;
            continue;
          }
          reaped += 1;
          logger.warn('reaped a job', { jobId: action.jobId, status: action.status, reason: action.reason });
          const advanced = await pipeline.advance(flip.value.job.taskId, flip.value.job);
          if (!advanced.ok) throw advanced.error;
        } catch (thrown) {
          logger.error('reaping one job failed; skipped', { jobId: action.jobId, error: describeError(thrown) });
        }
      }
      let leasesReclaimed = 0;
      if (options.leaseReclaimEnabled ?? true) {
        const freed = await store.reclaimExpiredLeases(now);
        if (freed.ok) {
          leasesReclaimed = freed.value.length;
          for (const lease of freed.value)
            logger.warn('reclaimed an expired lease', { name: lease.name, holder: lease.holder });
        } else {
          logger.error('cannot reclaim leases', { error: freed.error.message });
        }
      }
      return { running: running.value.length, suspect: deadCounts.size, reaped, lostFlips: lost, leasesReclaimed };
    },
  });
}
