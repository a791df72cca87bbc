import {
  type Clock,
  createWorker,
  type Job,
  type Logger,
  ok,
  type Pipeline,
  type ProcessExit,
  type Store,
  silentLogger,
  systemClock,
  type Task,
  type Worker,
  type WorkerOptions,
} from '@conveyor/core';

/** Options of {@link createStubWorker}. */
export interface StubWorkerOptions {
  readonly store: Store;
  /** default 2 */
  readonly maxConcurrency?: number;
  /** default the system clock */
  readonly clock?: Clock;
  /** default silent */
  readonly logger?: Logger;
  /** default the worker's own */
  readonly intervalMs?: number;
  readonly wake?: WorkerOptions['wake'];
  /** the pid stamped for a job (default: this process's) */
  readonly pidOf?: (jobId: string) => number;
  /** when and how a started job's process ends (default: at once, exit 0) */
  readonly exitOf?: (jobId: string) => Promise<ProcessExit>;
}

/** A real worker whose processes are stubs, with a record of what it started. */
export interface StubWorker extends Worker {
  /** the ids of the jobs it launched, in launch order (a job twice here ran twice) */
  readonly launched: readonly string[];
}

const EXIT_0: ProcessExit = { exitCode: 0, signal: null, timedOut: false };

/**
 * A real `createWorker` on `store` whose launcher starts no process: each job
 * "runs" until `exitOf(jobId)` resolves (default: exits 0 at once), and whose
 * pipeline advances nothing (`runDecision` is `silent`). For tests of stores
 * and daemons under failures: what was claimed, started and finished, and
 * that the loop survives.
 *
 * @example
 * ```ts
 * const worker = createStubWorker({ store, maxConcurrency: 3 });
 * await worker.tick();
 * await worker.idle();
 * expect(worker.launched).toHaveLength(3);
 * ```
 */
export function createStubWorker(options: StubWorkerOptions): StubWorker {
  const launched: string[] = [];
  const pipeline: Pick<Pipeline, 'advance' | 'runDecision'> = {
    runDecision: async (job: Job) => ok({ action: 'silent' as const, taskId: job.taskId }),
    advance: async (taskId: string) => ok({ task: { id: taskId } as Task, changed: false, failedEffects: [] }),
  };
  const worker = createWorker({
    store: options.store,
    pipeline,
    launcher: {
      launch: async (spec) => {
        launched.push(spec.jobId);
        return ok({
          pid: options.pidOf?.(spec.jobId) ?? process.pid,
          exited: options.exitOf?.(spec.jobId) ?? Promise.resolve(EXIT_0),
          kill() {},
        });
      },
    },
    commandFor: () => ({ command: 'true', args: [] }),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    maxConcurrency: options.maxConcurrency ?? 2,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.wake === undefined ? {} : { wake: options.wake }),
  });
  return Object.assign(worker, { launched });
}
