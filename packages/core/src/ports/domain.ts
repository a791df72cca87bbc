import type { VerdictStatus } from '../gates/types.js';

/** Where a task stands inside its current stage. */
export type TaskStatus =
  /** a job of the stage is queued or running */
  | 'active'
  /** the stage's job is done and a person must approve before the task moves on */
  | 'awaiting_approval'
  /** the stage's job is done; the gates of the outgoing edge decide */
  | 'gating'
  /**
   * waiting for a person: the gates could not decide (infrastructure errors or
   * deferrals past their caps); `reason` says why. An approval decides again.
   */
  | 'blocked'
  /** stopped: retries or deferrals exhausted, or a job kept failing; `reason` says why */
  | 'failed'
  /** stopped by a person (rejected in review or in the tracker) */
  | 'rejected'
  /** reached the final stage */
  | 'done';

/** One key per status: adding a status to the union without listing it here does not compile. */
const EVERY_TASK_STATUS: { readonly [S in TaskStatus]: true } = {
  active: true,
  awaiting_approval: true,
  gating: true,
  blocked: true,
  failed: true,
  rejected: true,
  done: true,
};

/** Every task status, in the order of the union (the one list backends and filters read). */
export const TASK_STATUSES: readonly TaskStatus[] = Object.freeze(Object.keys(EVERY_TASK_STATUS) as TaskStatus[]);

/** Statuses from which a task never moves again without a person. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = Object.freeze(['failed', 'rejected', 'done']);

/**
 * Whether a task in this status is stopped for good (see {@link TERMINAL_TASK_STATUSES}).
 *
 * @example
 * ```ts
 * if (isTerminalTaskStatus(task.snapshot.status)) return; // nothing left to reconcile
 * ```
 */
export function isTerminalTaskStatus(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}

/** The last edge decision remembered on a task. */
export interface LastVerdict {
  /** the edge, `from->to` */
  readonly edge: string;
  /** the folded verdict of the edge (`error` already counts as fail) */
  readonly status: VerdictStatus;
  /** one line; never contains a secret */
  readonly summary: string;
}

/**
 * The state of the stage machine for one task: all the pure `transition` reads
 * and writes. Stored as JSON on the task row.
 */
export interface StageSnapshot {
  /** the current stage id */
  readonly stage: string;
  /** where the task stands inside the stage */
  readonly status: TaskStatus;
  /** grows by one for every enqueued job; `${taskId}:${step}` is the job's idempotency key */
  readonly step: number;
  /** rollbacks to the developer stage so far */
  readonly developerRetries: number;
  /** consecutive `defer` verdicts on the current edge */
  readonly deferrals: number;
  /** non-zero exits of the current stage's job so far */
  readonly jobAttempts: number;
  /** how long the consecutive deferrals of the current edge have waited so far, ms (absent = 0) */
  readonly deferredMs?: number;
  /** consecutive decisions of the current edge that ended in `error` (absent = 0) */
  readonly decisionErrors?: number;
  /** findings carried verbatim into the next developer job */
  readonly findings?: string;
  /** the last edge decision */
  readonly lastVerdict?: LastVerdict;
  /** why the task failed or was rejected */
  readonly reason?: string;
}

/** A task: one tracker issue of one project moving through the stages. */
export interface Task {
  /** store-assigned id */
  readonly id: string;
  /** the project key; one host serves many projects from one database */
  readonly project: string;
  /** the tracker's issue id; unique per project */
  readonly issueId: string;
  /** the repository, `owner/name` */
  readonly repo: string;
  /** the task branch */
  readonly branch: string;
  /** the issue title */
  readonly title: string;
  /** the issue description, handed to agents */
  readonly description: string;
  /** the stage machine state */
  readonly snapshot: StageSnapshot;
  /** grows by one on every saved transition (optimistic concurrency) */
  readonly version: number;
  /** epoch milliseconds */
  readonly createdAt: number;
  /** epoch milliseconds */
  readonly updatedAt: number;
}

/** Input of `Store.createTaskIfAbsent`. */
export interface NewTask {
  readonly project: string;
  readonly issueId: string;
  readonly repo: string;
  readonly branch: string;
  readonly title: string;
  readonly description: string;
  readonly snapshot: StageSnapshot;
  readonly now: number;
}

/** One saved transition: why a task is where it is. */
export interface HistoryEntry {
  readonly taskId: string;
  /** 1, 2, 3… per task, in order */
  readonly seq: number;
  readonly fromStage: string;
  readonly fromStatus: TaskStatus;
  readonly toStage: string;
  readonly toStatus: TaskStatus;
  /** what caused it (`job.finished`, `gates.decided`, …) */
  readonly cause: string;
  /** the verdict summary, when a gate decided */
  readonly verdictSummary?: string;
  /** epoch milliseconds */
  readonly at: number;
}

/** The statuses a job ends in: what `finishJob` may set, and what a job never leaves. */
export type TerminalJobStatus = 'succeeded' | 'failed' | 'cancelled';

/** The lifecycle of a job: queued, running, then one of the {@link TerminalJobStatus}. */
export type JobStatus = 'queued' | 'running' | TerminalJobStatus;

/** Every job status. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze([
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
]);

/** The statuses a job ends in. */
export const TERMINAL_JOB_STATUSES: readonly TerminalJobStatus[] = Object.freeze(['succeeded', 'failed', 'cancelled']);

/** `agent` runs a process; `decision` runs the gates of the task's edge in-process, under the same claim limit. */
export type JobKind = 'agent' | 'decision';

/** What an agent job is asked to do. */
export interface JobInput {
  /** the task description handed to the agent */
  readonly description: string;
  /** findings of the gate that rolled the task back, verbatim */
  readonly findings?: string;
}

/** A unit of work for the worker. */
export interface Job {
  readonly id: string;
  readonly taskId: string;
  readonly stage: string;
  readonly agent: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  /** 1 for the first run of a step */
  readonly attempt: number;
  /** idempotency key, `${taskId}:${step}`: a step is enqueued once */
  readonly stepKey: string;
  /** for `decision` jobs: the edge to decide */
  readonly edge?: string;
  readonly input: JobInput;
  readonly pid?: number;
  readonly exitCode?: number | null;
  /** not claimable before this time (epoch ms) */
  readonly availableAt: number;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** why it ended as it did */
  readonly reason?: string;
}

/** Input of `Store.enqueueJob`. */
export interface NewJob {
  readonly taskId: string;
  readonly stage: string;
  readonly agent: string;
  readonly kind: JobKind;
  readonly stepKey: string;
  readonly attempt: number;
  readonly edge?: string;
  readonly input: JobInput;
  readonly availableAt: number;
  readonly now: number;
}

/** A held lease. */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  /** the fencing token: strictly greater than every token handed out before for this name */
  readonly token: number;
  readonly acquiredAt: number;
  readonly expiresAt: number;
}

/** Outcome of an acquire: the lease, or who holds it now. */
export type LeaseAcquisition =
  | { readonly acquired: true; readonly lease: Lease }
  | { readonly acquired: false; readonly current: Lease };

/** Outcome of the terminal flip: exactly one of two racing finishers `won`. */
export interface FinishOutcome {
  readonly won: boolean;
  /** the job as stored after the call */
  readonly job: Job;
}
