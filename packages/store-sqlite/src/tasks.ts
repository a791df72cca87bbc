import {
  ConveyorError,
  err,
  formatStoreId,
  INITIAL_TASK_VERSION,
  type NewTask,
  ok,
  parseStoreId,
  type Result,
  type SaveTransition,
  STORE_ID_WIDTH,
  type StageSnapshot,
  TASK_ID_PREFIX,
  TASK_STATUSES,
  type Task,
  type TaskQuery,
  type TaskStore,
} from '@conveyor/core';
import { PKG } from './errors.js';
import { errors, type SqliteContext } from './sqlite-context.js';
import { createTaskHistory } from './task-history.js';

const TASK_COLUMNS =
  'seq, project, issue_id, repo, branch, title, description, snapshot, version, created_at, updated_at';

interface TaskRow {
  seq: number;
  project: string;
  issue_id: string;
  repo: string;
  branch: string;
  title: string;
  description: string;
  snapshot: string;
  version: number;
  created_at: number;
  updated_at: number;
}

function toTask(row: TaskRow): Task {
  return {
    id: formatStoreId(TASK_ID_PREFIX, row.seq),
    project: row.project,
    issueId: row.issue_id,
    repo: row.repo,
    branch: row.branch,
    title: row.title,
    description: row.description,
    snapshot: JSON.parse(row.snapshot) as StageSnapshot,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The `tasks` table (and, through `task-history.ts`, its history). */
export function createSqliteTasks(ctx: SqliteContext): Required<TaskStore> {
  const { prepare, run } = ctx;
  const history = createTaskHistory(ctx);
  const insertTask = prepare(
    `INSERT INTO tasks (project, issue_id, repo, branch, title, description, stage, status, snapshot, version, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ${INITIAL_TASK_VERSION}, ?, ?)
     ON CONFLICT (project, issue_id) DO NOTHING
     RETURNING ${TASK_COLUMNS}`,
  );
  const taskBySeq = prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE seq = ?`);
  const transitionSource = prepare(`SELECT ${TASK_COLUMNS}, stage, status FROM tasks WHERE seq = ?`);
  const taskByIssue = prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE project = ? AND issue_id = ?`);
  const taskByBranch = prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE repo = ? AND branch = ? ORDER BY seq LIMIT 1`);
  const updateTask = prepare(
    'UPDATE tasks SET snapshot = ?, stage = ?, status = ?, version = version + 1, updated_at = ? WHERE seq = ? AND version = ?',
  );

  const getRow = (taskId: string): TaskRow | undefined => {
    const seq = parseStoreId(TASK_ID_PREFIX, taskId);
    return seq === undefined ? undefined : (taskBySeq.get(seq) as TaskRow | undefined);
  };

  return {
    createTaskIfAbsent(input: NewTask) {
      return run<{ task: Task; created: boolean }>('createTaskIfAbsent', () => {
        const inserted = insertTask.get(
          input.project,
          input.issueId,
          input.repo,
          input.branch,
          input.title,
          input.description,
          input.snapshot.stage,
          input.snapshot.status,
          JSON.stringify(input.snapshot),
          input.now,
          input.now,
        ) as TaskRow | undefined;
        if (inserted) return ok({ task: toTask(inserted), created: true });
        const existing = taskByIssue.get(input.project, input.issueId) as TaskRow | undefined;
        if (!existing) {
          return err(
            new ConveyorError(
              PKG,
              'internal',
              `createTaskIfAbsent: (${input.project}, ${input.issueId}) conflicted but no task was found`,
            ),
          );
        }
        return ok({ task: toTask(existing), created: false });
      });
    },

    getTask(taskId) {
      return run('getTask', () => {
        const row = getRow(taskId);
        return ok(row ? toTask(row) : undefined);
      });
    },

    findTaskByIssue(project, issueId) {
      return run('findTaskByIssue', () => {
        const row = taskByIssue.get(project, issueId) as TaskRow | undefined;
        return ok(row ? toTask(row) : undefined);
      });
    },

    findTaskByBranch(repo, branch) {
      return run('findTaskByBranch', () => {
        const row = taskByBranch.get(repo, branch) as TaskRow | undefined;
        return ok(row ? toTask(row) : undefined);
      });
    },

    listTasks(query: TaskQuery) {
      return run('listTasks', () => {
        const bad = errors.checkLimit('listTasks', query.limit);
        if (bad) return err(bad);
        const where: string[] = [];
        const params: unknown[] = [];
        const add = (clause: string, value: unknown): void => {
          where.push(clause);
          params.push(value);
        };
        if (query.project !== undefined) add('project = ?', query.project);
        if (query.repo !== undefined) add('repo = ?', query.repo);
        if (query.stage !== undefined) add('stage = ?', query.stage);
        if (query.statuses !== undefined || query.excludeStatuses !== undefined) {
          // "not these" becomes "one of those", which the (status, updated_at) index serves
          const excluded = query.excludeStatuses ?? [];
          const allowed = [...new Set(query.statuses ?? TASK_STATUSES)].filter((st) => !excluded.includes(st));
          if (allowed.length === 0) return ok([]);
          where.push(`status IN (${allowed.map(() => '?').join(', ')})`);
          params.push(...allowed);
        }
        if (query.updatedBefore !== undefined) add('updated_at < ?', query.updatedBefore);
        if (query.afterId !== undefined) {
          const after = parseStoreId(TASK_ID_PREFIX, query.afterId);
          // an id this store did not make still pages in id order: compare the formatted ids
          if (after === undefined) add(`printf('${TASK_ID_PREFIX}%0${STORE_ID_WIDTH}d', seq) > ?`, query.afterId);
          else add('seq > ?', after);
        }
        let sql = `SELECT ${TASK_COLUMNS} FROM tasks`;
        if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
        sql += ' ORDER BY seq';
        if (query.limit !== undefined) {
          sql += ' LIMIT ?';
          params.push(query.limit);
        }
        return ok((prepare(sql).all(...params) as TaskRow[]).map(toTask));
      });
    },

    saveTransition(input: SaveTransition) {
      return run('saveTransition', (): Result<Task, ConveyorError> => {
        const seq = parseStoreId(TASK_ID_PREFIX, input.taskId);
        if (seq === undefined) return err(errors.taskNotFound('saveTransition', input.taskId));
        return ctx.immediate((): Result<Task, ConveyorError> => {
          const row = transitionSource.get(seq) as (TaskRow & Pick<StageSnapshot, 'stage' | 'status'>) | undefined;
          if (!row) return err(errors.taskNotFound('saveTransition', input.taskId));
          if (row.version !== input.expectedVersion) {
            return err(errors.versionConflict(input.taskId, row.version, input.expectedVersion));
          }
          const snapshot = JSON.stringify(input.snapshot);
          updateTask.run(snapshot, input.snapshot.stage, input.snapshot.status, input.now, seq, input.expectedVersion);
          history.append(input.taskId, row, input);
          // parsed back from what was written: the caller gets a copy, as from every read
          return ok(toTask({ ...row, snapshot, version: row.version + 1, updated_at: input.now }));
        });
      });
    },

    listHistory(taskId) {
      return run('listHistory', () => ok(history.list(taskId)));
    },
  };
}
