import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type { FinishOutcome, Job, JobStatus, NewJob, TerminalJobStatus } from './domain.js';

/** A filter for `JobStore.listJobs`. */
export interface JobQuery {
  readonly statuses?: readonly JobStatus[];
  readonly taskId?: string;
  readonly limit?: number;
}

/** Input of `JobStore.claimJobs`. */
export interface ClaimJobs {
  /** the most jobs that may be running at once, those already running included */
  readonly maxConcurrency: number;
  readonly now: number;
}

/** Input of `JobStore.finishJob`. */
export interface FinishJob {
  readonly jobId: string;
  readonly status: TerminalJobStatus;
  readonly exitCode?: number | null;
  readonly reason?: string;
  readonly now: number;
}

/** Input of `JobStore.finishAndClaim`: a terminal flip, then a claim. */
export interface FinishAndClaim {
  readonly finish: FinishJob;
  readonly claim: ClaimJobs;
}

/** What `JobStore.finishAndClaim` did. */
export interface FinishAndClaimOutcome {
  /** the flip's outcome, as `finishJob` would have returned it */
  readonly finished: FinishOutcome;
  /** the jobs claimed for the caller (now `running`; the caller must run them) */
  readonly claimed: Job[];
  /** why nothing was claimed when the flip was recorded but the claim failed (a fallback's second call) */
  readonly claimError?: ConveyorError;
}

/**
 * An optional fast path of the job queue, outside the required {@link JobStore}
 * methods: a store that can end a job and claim the next in one round trip
 * offers it, and the worker uses it when present (otherwise `finishJob`, and a
 * later claim). `completeStore` adds a fallback that makes the two calls.
 */
export interface JobStoreFastPaths {
  /**
   * `finishJob(input.finish)` then `claimJobs(input.claim)`, with the same
   * guarantees as the two calls: the flip only `WHERE status = 'running'` (of
   * racing finishers exactly one wins), the claim never exceeds
   * `maxConcurrency` nor a project's limit, and the claim counts the slot the
   * flip freed. The claim is made whether or not the flip won. An error means
   * nothing was flipped (a fallback whose claim fails after the flip returns
   * the flip with `claimed: []` and `claimError`).
   *
   * @example
   * ```ts
   * const next = await store.finishAndClaim?.({
   *   finish: { jobId: job.id, status: 'succeeded', exitCode: 0, now: clock.now() },
   *   claim: { maxConcurrency: 4, now: clock.now() },
   * });
   * if (next?.ok) for (const job of next.value.claimed) start(job);
   * ```
   */
  finishAndClaim?(input: FinishAndClaim): AsyncResult<FinishAndClaimOutcome, ConveyorError>;
}

/**
 * The job queue: enqueue once per step, claim under a concurrency limit, and
 * a terminal flip that exactly one of two racing finishers wins. Every method
 * is required: none can be built from the others without losing atomicity.
 *
 * @example
 * ```ts
 * const claimed = await jobs.claimJobs({ maxConcurrency: 4, now: clock.now() });
 * if (!claimed.ok) return claimed;
 * for (const job of claimed.value) start(job);
 * ```
 */
export interface JobStore {
  /** Idempotent by `stepKey`: a second call returns the first job with `created: false`. */
  enqueueJob(input: NewJob): AsyncResult<{ job: Job; created: boolean }, ConveyorError>;
  /**
   * Atomically moves queued jobs with `availableAt <= now` to `running`, by
   * `availableAt` then id, never letting the number of running jobs exceed
   * `maxConcurrency`.
   */
  claimJobs(input: ClaimJobs): AsyncResult<Job[], ConveyorError>;
  /** Stamps the pid of a running job; `conflict` when it is not running. */
  setJobPid(jobId: string, pid: number): AsyncResult<void, ConveyorError>;
  /** The terminal flip, only `WHERE status = 'running'`: of two racing finishers exactly one wins. */
  finishJob(input: FinishJob): AsyncResult<FinishOutcome, ConveyorError>;
  /** `undefined` when there is no such job. */
  getJob(jobId: string): AsyncResult<Job | undefined, ConveyorError>;
  /** Ordered by id. */
  listJobs(query: JobQuery): AsyncResult<Job[], ConveyorError>;
  /** Cancels the task's queued jobs; returns how many. */
  cancelQueuedJobs(taskId: string, reason: string, now: number): AsyncResult<number, ConveyorError>;
}
