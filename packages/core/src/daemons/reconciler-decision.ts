import type { Job, Task } from '../ports/domain.js';
import { TERMINAL_TASK_STATUSES } from '../ports/domain.js';

/** What the reconciler must do for one task. */
export type ReconcileAction =
  /** created but never started (a crash lost `task.created`) */
  | { readonly type: 'start'; readonly taskId: string }
  /** active with no job for its step (a crash lost the enqueue) */
  | { readonly type: 'enqueue'; readonly taskId: string }
  /** its step's job ended but the task never advanced (a crash between flip and advance) */
  | { readonly type: 'advance'; readonly taskId: string; readonly job: Job }
  /** gating with no decision job under way: settle the step's decision from the record */
  | { readonly type: 'settle'; readonly taskId: string };

/** What the reconciler knows of one candidate task. */
export interface ReconcileCandidate {
  readonly task: Task;
  /** true when the task has a queued or running job */
  readonly hasActiveJob: boolean;
  /** the job of the task's current step, when there is one */
  readonly stepJob?: Job;
}

/**
 * The reconciler's decision for one task, pure (level-triggered: it reads the
 * state, never the event that led there). `undefined` means leave it alone:
 * terminal, a job is active, still within the stage's grace, or waiting for a
 * person (awaiting approval, blocked).
 *
 * @example
 * ```ts
 * const action = decideReconcile({ task, hasActiveJob: false }, clock.now(), 15 * 60_000);
 * ```
 */
export function decideReconcile(
  candidate: ReconcileCandidate,
  now: number,
  graceMs: number,
): ReconcileAction | undefined {
  const { task, hasActiveJob, stepJob } = candidate;
  const { snapshot } = task;
  if (TERMINAL_TASK_STATUSES.includes(snapshot.status) || hasActiveJob) return undefined;
  if (now - task.updatedAt < graceMs) return undefined;
  if (snapshot.status === 'active') {
    if (snapshot.step === 0) return { type: 'start', taskId: task.id };
    if (stepJob === undefined) return { type: 'enqueue', taskId: task.id };
    if (stepJob.status === 'queued' || stepJob.status === 'running') return undefined;
    return { type: 'advance', taskId: task.id, job: stepJob };
  }
  if (snapshot.status === 'gating') {
    if (stepJob !== undefined && (stepJob.status === 'queued' || stepJob.status === 'running')) return undefined;
    return { type: 'settle', taskId: task.id };
  }
  // awaiting approval and blocked wait for a person
  return undefined;
}
