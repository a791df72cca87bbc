import type { ConveyorEventBus } from '../events/bus.js';
import type { Pipeline } from '../pipeline/types.js';
import type { FinishOutcome, Job, Task } from '../ports/domain.js';
import type { FinishJob } from '../ports/job-store.js';
import type { Clock, LaunchedProcess, Launcher, LaunchSpec, Logger, ProcessExit } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { type ConveyorError, describeError, toConveyorError, tryAsync } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { safeLogger } from '../runtime/logger.js';
import { DEFAULT_WORKER_INTERVAL_MS } from '../settings/daemon-defaults.js';
import { createDaemonLoop, type Daemon } from './loop.js';

const PKG = '@conveyor/core';

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  readonly store: Store;
  readonly pipeline: Pick<Pipeline, 'advance' | 'runDecision'>;
  readonly launcher: Launcher;
  /** what to run for an agent job (the worker fills in `jobId`) */
  readonly commandFor: (job: Job, task: Task) => Omit<LaunchSpec, 'jobId'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: Pick<ConveyorEventBus, 'emit'>;
  /** running jobs across every worker sharing the store (default 2) */
  readonly maxConcurrency?: number;
  /** default {@link DEFAULT_WORKER_INTERVAL_MS} (2 s) */
  readonly intervalMs?: number;
  /** `stop()` kills running processes instead of waiting for them (they then fail and are retried) */
  readonly killOnStop?: boolean;
  /**
   * Subscribes to "a job was enqueued" so an idle worker claims at once instead
   * of at its next poll (e.g. `(wakeUp) => store.onJobAvailable(wakeUp)` with
   * `@conveyor/store-postgres`); returns the unsubscribe. Wake-ups during a
   * claim coalesce into one more claim.
   */
  readonly wake?: (wakeUp: () => void) => () => void;
  /** the pid stamped on decision jobs (they run in this process; default `process.pid`) */
  readonly pid?: number;
}

/** The worker daemon, plus a way to wait for the jobs it started. */
export interface Worker extends Daemon {
  /** Resolves when every job this worker started has finished and advanced. */
  idle(): Promise<void>;
  /** Jobs of this worker still running. */
  running(): number;
  /** True while this worker watches the job (started it and has not recorded its end). */
  owns(jobId: string): boolean;
}

/**
 * The worker: each tick claims queued jobs up to `maxConcurrency`, starts each
 * agent job through the `Launcher`, stamps its pid right after the start, and
 * when the process ends performs the terminal flip (succeeded iff exit 0);
 * only the winner of the flip asks the pipeline to advance. A `decision` job
 * starts no process: it runs the edge's gates in this process
 * (`pipeline.runDecision`), counted against the same `maxConcurrency`, stamped
 * with this process's pid, and aborted by `stop()`.
 *
 * @example
 * ```ts
 * const worker = createWorker({ store, pipeline, launcher, clock: systemClock, logger, maxConcurrency: 2,
 *   commandFor: (job) => ({ command: 'node', args: ['agents/run.js', job.agent] }) });
 * worker.start();
 * ```
 */
export function createWorker(options: WorkerOptions): Worker {
  const { store, pipeline, launcher, clock } = options;
  const logger = safeLogger(options.logger).child({ daemon: 'worker' });
  const maxConcurrency = options.maxConcurrency ?? 2;
  const jobs = new Map<string, { promise: Promise<void>; process?: LaunchedProcess }>();
  let stopping = false;
  /** claims begun so far: tells a wake-up whether the tick it joined claimed before it arrived */
  let claimsBegun = 0;
  let unsubscribe: (() => void) | undefined;
  let waking = false;
  let wakeAgain = false;
  let decisions = new AbortController();

  /**
   * The terminal flip of an agent job. With a store that offers `finishAndClaim`
   * the flip also claims into the slot it frees (one round trip instead of two);
   * the claimed jobs start here as a tick's would.
   */
  async function flipJob(input: FinishJob): Promise<Result<FinishOutcome, ConveyorError>> {
    if (store.finishAndClaim === undefined || stopping) return store.finishJob(input);
    claimsBegun += 1;
    const next = await store.finishAndClaim({ finish: input, claim: { maxConcurrency, now: input.now } });
    if (!next.ok) return err(next.error);
    if (next.value.claimError !== undefined) {
      logger.warn('the claim after a job ended failed; the next tick claims', { error: next.value.claimError.message });
    }
    for (const claimed of next.value.claimed) track(claimed);
    return ok(next.value.finished);
  }

  async function finish(job: Job, exit: ProcessExit | undefined, reason?: string): Promise<void> {
    const succeeded = exit !== undefined && exit.exitCode === 0;
    const flip = await flipJob({
      jobId: job.id,
      status: succeeded ? 'succeeded' : 'failed',
      exitCode: exit === undefined ? null : exit.exitCode,
      ...(reason === undefined ? {} : { reason }),
      now: clock.now(),
    });
    if (!flip.ok) {
      logger.error('cannot record the end of a job; the reaper will', { jobId: job.id, error: flip.error.message });
      return;
    }
    if (!flip.value.won) {
      logger.info('job was already finished by someone else', { jobId: job.id, status: flip.value.job.status });
      return;
    }
    try {
      options.events?.emit('job.finished', {
        jobId: job.id,
        taskId: job.taskId,
        status: flip.value.job.status,
        exitCode: flip.value.job.exitCode ?? null,
      });
    } catch {
      /* observers never break the worker */
    }
    const advanced = await pipeline.advance(job.taskId, flip.value.job);
    if (!advanced.ok) logger.error('advance after a job failed', { jobId: job.id, error: advanced.error.message });
  }

  async function runDecisionJob(job: Job): Promise<void> {
    const stamped = await store.setJobPid(job.id, options.pid ?? process.pid);
    if (!stamped.ok) logger.warn('cannot stamp the pid of a decision', { jobId: job.id, error: stamped.error.message });
    // the pipeline ends the job itself once the outcome is recorded; what is left running here applied nothing
    const run = await pipeline.runDecision(job, decisions.signal);
    const done =
      run.ok && (run.value.action === 'applied' || run.value.action === 'stale' || run.value.action === 'silent');
    const reason = run.ok
      ? `${run.value.action}${run.value.reason === undefined ? '' : `: ${run.value.reason}`}`
      : run.error.message;
    if (!run.ok) logger.error('a decision failed', { jobId: job.id, taskId: job.taskId, error: run.error.message });
    const flip = await store.finishJob({
      jobId: job.id,
      status: done ? 'succeeded' : 'failed',
      exitCode: null,
      reason,
      now: clock.now(),
    });
    if (!flip.ok) {
      logger.error('cannot record the end of a decision; the reaper will', {
        jobId: job.id,
        error: flip.error.message,
      });
      return;
    }
    try {
      if (flip.value.won || done) {
        options.events?.emit('job.finished', {
          jobId: job.id,
          taskId: job.taskId,
          status: flip.value.job.status,
          exitCode: null,
        });
      }
    } catch {
      /* observers never break the worker */
    }
    // a decision that applied nothing (busy, lost, failed): settle it from the record
    if (flip.value.won && !done) {
      const settled = await pipeline.advance(job.taskId, flip.value.job);
      if (!settled.ok) logger.warn('settling a decision failed', { jobId: job.id, error: settled.error.message });
    }
  }

  async function runJob(job: Job): Promise<void> {
    const entry = jobs.get(job.id);
    if (job.kind === 'decision') {
      await runDecisionJob(job);
      return;
    }
    const task = await store.getTask(job.taskId);
    if (!task.ok || task.value === undefined) {
      await finish(job, undefined, task.ok ? `task ${job.taskId} does not exist` : task.error.message);
      return;
    }
    let spec: Omit<LaunchSpec, 'jobId'>;
    try {
      spec = options.commandFor(job, task.value);
    } catch (thrown) {
      await finish(job, undefined, `commandFor threw: ${describeError(thrown)}`);
      return;
    }
    // A launcher that throws breaks its contract; the job still fails now rather than
    // sitting `running` with no pid until the reaper's grace runs out.
    const started = await tryAsync(
      () => launcher.launch({ ...spec, jobId: job.id }),
      (thrown) => toConveyorError(PKG, thrown, 'process_failed', 'the launcher threw'),
    ).then((r) => (r.ok ? r.value : r));
    if (!started.ok) {
      logger.error('cannot start a job', { jobId: job.id, error: started.error.message });
      await finish(job, undefined, `cannot start: ${started.error.message}`);
      return;
    }
    const proc = started.value;
    if (entry) entry.process = proc;
    const stamped = await store.setJobPid(job.id, proc.pid);
    if (!stamped.ok)
      logger.warn('cannot stamp the pid', { jobId: job.id, pid: proc.pid, error: stamped.error.message });
    logger.info('job started', {
      jobId: job.id,
      taskId: job.taskId,
      stage: job.stage,
      agent: job.agent,
      pid: proc.pid,
    });
    try {
      options.events?.emit('job.started', { jobId: job.id, taskId: job.taskId, pid: proc.pid });
    } catch {
      /* observers never break the worker */
    }
    const exit = await proc.exited;
    const reason = exit.reason
      ? exit.reason
      : exit.timedOut
        ? 'timed out'
        : exit.exitCode === null
          ? `killed by ${exit.signal ?? 'a signal'}`
          : exit.exitCode === 0
            ? undefined
            : `exit code ${exit.exitCode}`;
    await finish(job, exit, reason);
  }

  function track(job: Job): void {
    const entry: { promise: Promise<void>; process?: LaunchedProcess } = { promise: Promise.resolve() };
    jobs.set(job.id, entry);
    entry.promise = runJob(job)
      .catch((thrown: unknown) => logger.error('job runner threw', { jobId: job.id, error: describeError(thrown) }))
      .finally(() => {
        jobs.delete(job.id);
        // with wake-ups, a freed slot is refilled at once rather than at the next poll
        if (unsubscribe !== undefined) wakeUp();
      });
  }

  const loop = createDaemonLoop({
    name: 'worker',
    intervalMs: options.intervalMs ?? DEFAULT_WORKER_INTERVAL_MS,
    clock,
    logger: options.logger,
    ...(options.events === undefined ? {} : { events: options.events }),
    async tick() {
      if (stopping) return { claimed: 0, running: jobs.size };
      // counted before the skip below: a wake-up that finds every slot taken is answered (the job
      // that frees a slot claims again), it must not retry
      claimsBegun += 1;
      // every job this worker runs is running in the store: no slot can be free, skip the round trip
      if (jobs.size >= maxConcurrency) return { claimed: 0, running: jobs.size };
      const claimed = await store.claimJobs({ maxConcurrency, now: clock.now() });
      if (!claimed.ok) throw claimed.error;
      for (const job of claimed.value) track(job);
      return { claimed: claimed.value.length, running: jobs.size };
    },
    async onStop() {
      stopping = true;
      unsubscribe?.();
      unsubscribe = undefined;
      decisions.abort(new Error('the worker is stopping'));
      if (options.killOnStop) for (const entry of jobs.values()) entry.process?.kill('SIGTERM');
      // a finishAndClaim in flight may still hand over jobs: wait for those too
      while (jobs.size > 0) await Promise.all([...jobs.values()].map((e) => e.promise));
    },
  });

  function wakeUp(): void {
    if (stopping || unsubscribe === undefined) return;
    if (waking) {
      wakeAgain = true;
      return;
    }
    waking = true;
    void (async () => {
      do {
        wakeAgain = false;
        const begun = claimsBegun;
        await loop.tick();
        // joined a tick whose claim began before this wake-up: claim once more
        if (claimsBegun === begun) wakeAgain = true;
      } while (wakeAgain && !stopping);
    })().finally(() => {
      waking = false;
    });
  }

  return {
    ...loop,
    start() {
      stopping = false;
      if (decisions.signal.aborted) decisions = new AbortController();
      loop.start();
      if (options.wake !== undefined && unsubscribe === undefined) {
        try {
          unsubscribe = options.wake(wakeUp);
        } catch (thrown) {
          logger.warn('cannot subscribe to wake-ups; polling only', { error: describeError(thrown) });
        }
      }
    },
    async idle() {
      while (jobs.size > 0) await Promise.all([...jobs.values()].map((e) => e.promise));
    },
    running: () => jobs.size,
    owns: (jobId: string) => jobs.has(jobId),
  };
}
