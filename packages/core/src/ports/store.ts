import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type {
  FinishOutcome,
  HistoryEntry,
  Job,
  JobStatus,
  Lease,
  LeaseAcquisition,
  NewJob,
  NewTask,
  StageSnapshot,
  Task,
  TaskStatus,
} from './domain.js';

/** A filter for `Store.listTasks`. All fields combine with AND. */
export interface TaskQuery {
  readonly project?: string;
  readonly repo?: string;
  readonly stage?: string;
  readonly statuses?: readonly TaskStatus[];
  readonly excludeStatuses?: readonly TaskStatus[];
  /** only tasks last updated before this time (epoch ms) */
  readonly updatedBefore?: number;
  /** keyset pagination: ids greater than this */
  readonly afterId?: string;
  readonly limit?: number;
}

/** A filter for `Store.listJobs`. */
export interface JobQuery {
  readonly statuses?: readonly JobStatus[];
  readonly taskId?: string;
  readonly limit?: number;
}

/** Input of `Store.saveTransition`. */
export interface SaveTransition {
  readonly taskId: string;
  /** the `version` the caller read; a mismatch is a `conflict` error and nothing is written */
  readonly expectedVersion: number;
  readonly snapshot: StageSnapshot;
  readonly cause: string;
  readonly verdictSummary?: string;
  readonly now: number;
}

/** Input of `Store.finishJob`. */
export interface FinishJob {
  readonly jobId: string;
  readonly status: 'succeeded' | 'failed' | 'cancelled';
  readonly exitCode?: number | null;
  readonly reason?: string;
  readonly now: number;
}

/** Input of `Store.acquireLease`. */
export interface AcquireLease {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly now: number;
}

/** Input of `Store.renewLease`. */
export interface RenewLease {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
  readonly ttlMs: number;
  readonly now: number;
}

/** Input of `Store.releaseLease`. */
export interface ReleaseLease {
  readonly name: string;
  readonly holder: string;
  /** when given, only this exact grant is released */
  readonly token?: number;
}

/** Input of `Store.recordDelivery`. */
export interface RecordDelivery {
  /** `plane`, `gitea`, … */
  readonly source: string;
  readonly deliveryId: string;
  readonly now: number;
}

/** What a store can do beyond the contract. */
export interface StoreCapabilities {
  /** several processes may share the store (a SQLite file, a database server) */
  readonly crossProcess: boolean;
}

/**
 * Durable state: tasks, jobs, leases and the webhook delivery log.
 *
 * Every method is async and resolves to a `Result`; none throws. The atomic
 * operations are the contract the conformance suite proves
 * (`storeConformance` in `@conveyor/testkit`).
 *
 * @example
 * ```ts
 * const created = await store.createTaskIfAbsent({ project: 'web', issueId: 'PLN-1', repo: 'acme/web', branch: 'task/PLN-1', title: 'Add login', description: '', snapshot, now: clock.now() });
 * if (created.ok && created.value.created) log.info('new task', { id: created.value.task.id });
 * ```
 */
export interface Store {
  readonly capabilities: StoreCapabilities;

  /** One task per (project, issueId), even under racing callers. */
  createTaskIfAbsent(input: NewTask): AsyncResult<{ task: Task; created: boolean }, ConveyorError>;
  /** `undefined` when there is no such task. */
  getTask(taskId: string): AsyncResult<Task | undefined, ConveyorError>;
  findTaskByIssue(project: string, issueId: string): AsyncResult<Task | undefined, ConveyorError>;
  findTaskByBranch(repo: string, branch: string): AsyncResult<Task | undefined, ConveyorError>;
  /** Ordered by id. */
  listTasks(query: TaskQuery): AsyncResult<Task[], ConveyorError>;
  /** Writes the new snapshot and its history entry in one transaction, guarded by `expectedVersion`. */
  saveTransition(input: SaveTransition): AsyncResult<Task, ConveyorError>;
  /** Ordered by `seq`. */
  listHistory(taskId: string): AsyncResult<HistoryEntry[], ConveyorError>;

  /** Idempotent by `stepKey`: a second call returns the first job with `created: false`. */
  enqueueJob(input: NewJob): AsyncResult<{ job: Job; created: boolean }, ConveyorError>;
  /**
   * Atomically moves queued jobs with `availableAt <= now` to `running`, never
   * letting the number of running jobs exceed `maxConcurrency`.
   */
  claimJobs(input: { maxConcurrency: number; now: number }): AsyncResult<Job[], ConveyorError>;
  /** Stamps the pid of a running job. */
  setJobPid(jobId: string, pid: number): AsyncResult<void, ConveyorError>;
  /** The terminal flip, only `WHERE status = 'running'`: of two racing finishers exactly one wins. */
  finishJob(input: FinishJob): AsyncResult<FinishOutcome, ConveyorError>;
  getJob(jobId: string): AsyncResult<Job | undefined, ConveyorError>;
  /** Ordered by id. */
  listJobs(query: JobQuery): AsyncResult<Job[], ConveyorError>;
  /** Cancels the task's queued jobs; returns how many. */
  cancelQueuedJobs(taskId: string, reason: string, now: number): AsyncResult<number, ConveyorError>;

  /** Grants the lease when free or expired, with a fencing token greater than any before. */
  acquireLease(input: AcquireLease): AsyncResult<LeaseAcquisition, ConveyorError>;
  /** Extends a lease still held by `holder` with `token`; `lease_lost` otherwise. */
  renewLease(input: RenewLease): AsyncResult<Lease, ConveyorError>;
  /** Releases only for the holder that owns it. */
  releaseLease(input: ReleaseLease): AsyncResult<{ released: boolean }, ConveyorError>;
  getLease(name: string): AsyncResult<Lease | undefined, ConveyorError>;
  listLeases(): AsyncResult<Lease[], ConveyorError>;
  /** Frees every lease whose `expiresAt <= now`; returns what it freed. */
  reclaimExpiredLeases(now: number): AsyncResult<Lease[], ConveyorError>;

  /** Idempotent by (source, deliveryId): `firstSeen` is true once. */
  recordDelivery(input: RecordDelivery): AsyncResult<{ firstSeen: boolean }, ConveyorError>;

  close(): AsyncResult<void, ConveyorError>;
}

/**
 * Where a notifier keeps the message it shows for a task (e.g. a Telegram
 * chat id and message id), so a restart edits the same card.
 */
export interface CardRefStore {
  getCardRef(taskId: string, channel: string): AsyncResult<string | undefined, ConveyorError>;
  setCardRef(taskId: string, channel: string, ref: string): AsyncResult<void, ConveyorError>;
  deleteCardRef(taskId: string, channel: string): AsyncResult<void, ConveyorError>;
}
