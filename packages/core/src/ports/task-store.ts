import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type { HistoryEntry, NewTask, StageSnapshot, Task, TaskStatus } from './domain.js';

/** A filter for `TaskStore.listTasks`. All fields combine with AND. */
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

/** Input of `TaskStore.saveTransition`. */
export interface SaveTransition {
  readonly taskId: string;
  /** the `version` the caller read; a mismatch is a `conflict` error and nothing is written */
  readonly expectedVersion: number;
  readonly snapshot: StageSnapshot;
  readonly cause: string;
  readonly verdictSummary?: string;
  readonly now: number;
}

/**
 * Tasks and their transition history: one task per (project, issueId), and
 * every saved transition guarded by the version the caller read.
 *
 * The two finders are optional: a backend without them gets the fallback of
 * {@link completeStore}, which pages through `listTasks` (correct, slower).
 *
 * @example
 * ```ts
 * const created = await tasks.createTaskIfAbsent({ project: 'web', issueId: 'PLN-1', repo: 'acme/web', branch: 'task/PLN-1', title: 'Add login', description: '', snapshot, now: clock.now() });
 * if (created.ok && created.value.created) log.info('new task', { id: created.value.task.id });
 * ```
 */
export interface TaskStore {
  /** One task per (project, issueId), even under racing callers. A new task starts at `version` 1. */
  createTaskIfAbsent(input: NewTask): AsyncResult<{ task: Task; created: boolean }, ConveyorError>;
  /** `undefined` when there is no such task. */
  getTask(taskId: string): AsyncResult<Task | undefined, ConveyorError>;
  /** Ordered by id. */
  listTasks(query: TaskQuery): AsyncResult<Task[], ConveyorError>;
  /** Writes the new snapshot and its history entry in one transaction, guarded by `expectedVersion`. */
  saveTransition(input: SaveTransition): AsyncResult<Task, ConveyorError>;
  /** Ordered by `seq`; empty for an unknown task. */
  listHistory(taskId: string): AsyncResult<HistoryEntry[], ConveyorError>;

  /** Optional (falls back to `listTasks({ project })`): the task of one tracker issue. */
  findTaskByIssue?(project: string, issueId: string): AsyncResult<Task | undefined, ConveyorError>;
  /** Optional (falls back to `listTasks({ repo })`): the oldest task on a branch. */
  findTaskByBranch?(repo: string, branch: string): AsyncResult<Task | undefined, ConveyorError>;
}
