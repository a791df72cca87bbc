import type { HistoryEntry, StageSnapshot, Task } from '../ports/domain.js';
import type { SaveTransition } from '../ports/task-store.js';

/** The `version` of a task that was just created. */
export const INITIAL_TASK_VERSION = 1;

/**
 * The `seq` of the history entry a transition from `expectedVersion` writes.
 * Every saved transition bumps the version by one and writes one entry in the
 * same transaction, so the entries of a task are numbered 1, 2, 3… by the
 * version they left, with no `MAX(seq)` to read.
 *
 * @example
 * ```ts
 * historySeq(INITIAL_TASK_VERSION); // 1: the first transition of a task
 * ```
 */
export function historySeq(expectedVersion: number): number {
  return expectedVersion - INITIAL_TASK_VERSION + 1;
}

/**
 * The history entry of a transition that passed the version guard: from the
 * task's current stage and status to the new snapshot's.
 *
 * @example
 * ```ts
 * const entry = transitionEntry(task.id, task.snapshot, input);
 * ```
 */
export function transitionEntry(
  taskId: string,
  from: Pick<StageSnapshot, 'stage' | 'status'>,
  input: SaveTransition,
): HistoryEntry {
  return {
    taskId,
    seq: historySeq(input.expectedVersion),
    fromStage: from.stage,
    fromStatus: from.status,
    toStage: input.snapshot.stage,
    toStatus: input.snapshot.status,
    cause: input.cause,
    ...(input.verdictSummary === undefined ? {} : { verdictSummary: input.verdictSummary }),
    at: input.now,
  };
}

/**
 * The task as it stands after a transition: the new snapshot, the next
 * version, `updatedAt` = `now`.
 *
 * @example
 * ```ts
 * const saved = transitioned(task, input);
 * ```
 */
export function transitioned(task: Task, input: SaveTransition): Task {
  return { ...task, snapshot: input.snapshot, version: task.version + 1, updatedAt: input.now };
}
