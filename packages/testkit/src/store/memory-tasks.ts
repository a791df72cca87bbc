import {
  type AsyncResult,
  type ConveyorError,
  err,
  formatStoreId,
  type HistoryEntry,
  INITIAL_TASK_VERSION,
  ok,
  type SaveTransition,
  TASK_ID_PREFIX,
  type Task,
  type TaskQuery,
  type TaskStore,
  transitionEntry,
  transitioned,
} from '@conveyor/core';
import { byId, copy, errors, type Guard } from './memory-shared.js';

/** Whether a task passes every filter of a query (the limit and order aside). */
function matches(task: Task, query: TaskQuery): boolean {
  const status = task.snapshot.status;
  return (
    (query.project === undefined || task.project === query.project) &&
    (query.repo === undefined || task.repo === query.repo) &&
    (query.stage === undefined || task.snapshot.stage === query.stage) &&
    (query.statuses === undefined || query.statuses.includes(status)) &&
    (query.excludeStatuses === undefined || !query.excludeStatuses.includes(status)) &&
    (query.updatedBefore === undefined || task.updatedAt < query.updatedBefore) &&
    (query.afterId === undefined || task.id > query.afterId)
  );
}

/**
 * The tasks table and its history, in memory. `projects` (task id → project)
 * is filled as tasks are created, for the jobs table's fair claims.
 */
export function createMemoryTasks(guard: Guard, projects?: Map<string, string>): Required<TaskStore> {
  const tasks = new Map<string, Task>();
  const taskByIssue = new Map<string, string>();
  const history = new Map<string, HistoryEntry[]>();
  let taskSeq = 0;
  const issueKey = (project: string, issueId: string): string => `${project}\u0000${issueId}`;

  return {
    createTaskIfAbsent(input): AsyncResult<{ task: Task; created: boolean }, ConveyorError> {
      return guard<{ task: Task; created: boolean }>('createTaskIfAbsent', () => {
        const key = issueKey(input.project, input.issueId);
        const existingId = taskByIssue.get(key);
        const existing = existingId === undefined ? undefined : tasks.get(existingId);
        if (existing) return ok({ task: copy(existing), created: false });
        taskSeq += 1;
        const task: Task = {
          id: formatStoreId(TASK_ID_PREFIX, taskSeq),
          project: input.project,
          issueId: input.issueId,
          repo: input.repo,
          branch: input.branch,
          title: input.title,
          description: input.description,
          snapshot: copy(input.snapshot),
          version: INITIAL_TASK_VERSION,
          createdAt: input.now,
          updatedAt: input.now,
        };
        tasks.set(task.id, task);
        taskByIssue.set(key, task.id);
        projects?.set(task.id, task.project);
        return ok({ task: copy(task), created: true });
      });
    },

    getTask(taskId) {
      return guard('getTask', () => {
        const task = tasks.get(taskId);
        return ok(task ? copy(task) : undefined);
      });
    },

    findTaskByIssue(project, issueId) {
      return guard('findTaskByIssue', () => {
        const id = taskByIssue.get(issueKey(project, issueId));
        const task = id === undefined ? undefined : tasks.get(id);
        return ok(task ? copy(task) : undefined);
      });
    },

    findTaskByBranch(repo, branch) {
      return guard('findTaskByBranch', () => {
        const found = [...tasks.values()].filter((t) => t.repo === repo && t.branch === branch).sort(byId)[0];
        return ok(found ? copy(found) : undefined);
      });
    },

    listTasks(query: TaskQuery) {
      return guard('listTasks', () => {
        const bad = errors.checkLimit('listTasks', query.limit);
        if (bad) return err(bad);
        const found = [...tasks.values()].filter((t) => matches(t, query)).sort(byId);
        const limited = query.limit === undefined ? found : found.slice(0, query.limit);
        return ok(limited.map(copy));
      });
    },

    saveTransition(input: SaveTransition) {
      return guard('saveTransition', () => {
        const task = tasks.get(input.taskId);
        if (!task) return err(errors.taskNotFound('saveTransition', input.taskId));
        if (task.version !== input.expectedVersion) {
          return err(errors.versionConflict(input.taskId, task.version, input.expectedVersion));
        }
        const entries = history.get(task.id) ?? [];
        entries.push(transitionEntry(task.id, task.snapshot, input));
        history.set(task.id, entries);
        const saved = transitioned(task, { ...input, snapshot: copy(input.snapshot) });
        tasks.set(task.id, saved);
        return ok(copy(saved));
      });
    },

    listHistory(taskId) {
      return guard('listHistory', () => ok((history.get(taskId) ?? []).map(copy)));
    },
  };
}
