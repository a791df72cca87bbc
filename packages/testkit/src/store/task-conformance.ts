import { completeStore, type NewTask, type Store, type Task } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ConformanceContext,
  createTaskIn,
  failure,
  newTask,
  snapshotOf,
  value,
  withoutExtras,
} from './conformance-kit.js';

/**
 * The `TaskStore` cases: atomic task creation, finders, ordered and paged listing, copies, the optimistic transition guard and history ordering; and the `completeStore` fallbacks of the optional finders against the backend itself.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function taskStoreConformance(ctx: ConformanceContext): void {
  describe('TaskStore', () => {
    let store: Store;
    beforeEach(() => {
      store = ctx.store();
    });
    const createTask = (overrides: Partial<NewTask> = {}): Promise<Task> => createTaskIn(store, overrides);

    describe('tasks', () => {
      it('creates a task once per (project, issueId) and keeps the first one', async () => {
        const first = value(await store.createTaskIfAbsent(newTask()));
        expect(first.created).toBe(true);
        expect(first.task).toMatchObject({
          project: 'web',
          issueId: 'PLN-1',
          repo: 'acme/web',
          branch: 'task/PLN-1',
          title: 'Issue PLN-1',
          description: 'do the thing',
          snapshot: snapshotOf(),
          createdAt: 1_000,
          updatedAt: 1_000,
        });
        expect(typeof first.task.id).toBe('string');
        expect(first.task.version).toBe(1);

        const second = value(await store.createTaskIfAbsent(newTask({ title: 'another title', now: 2_000 })));
        expect(second.created).toBe(false);
        expect(second.task).toEqual(first.task);

        const other = value(await store.createTaskIfAbsent(newTask({ project: 'api' })));
        expect(other.created).toBe(true);
        expect(other.task.id).not.toBe(first.task.id);
        expect(value(await store.listTasks({}))).toHaveLength(2);
      });

      it('gets and finds tasks by id, issue and branch', async () => {
        const a = await createTask({ issueId: 'PLN-1' });
        const b = await createTask({ issueId: 'PLN-2', repo: 'acme/api' });
        expect(value(await store.getTask(a.id))).toEqual(a);
        expect(value(await store.getTask('no-such-task'))).toBeUndefined();
        expect(value(await store.findTaskByIssue('web', 'PLN-2'))).toEqual(b);
        expect(value(await store.findTaskByIssue('api', 'PLN-2'))).toBeUndefined();
        expect(value(await store.findTaskByBranch('acme/web', 'task/PLN-1'))).toEqual(a);
        expect(value(await store.findTaskByBranch('acme/api', 'task/PLN-2'))).toEqual(b);
        expect(value(await store.findTaskByBranch('acme/web', 'task/PLN-2'))).toBeUndefined();
      });

      it('finds the same tasks through the completeStore fallbacks, past the first page', async () => {
        const fallback = completeStore(withoutExtras(store));
        expect(fallback.findTaskByIssue).not.toBe(store.findTaskByIssue);
        const created: Task[] = [];
        for (let i = 0; i < 205; i += 1) {
          created.push(await createTask({ issueId: `F-${i}`, repo: i % 2 === 0 ? 'acme/web' : 'acme/api' }));
        }
        await createTask({ issueId: 'F-0', project: 'ops', branch: 'task/shared' });
        const last = created[204];
        if (!last) throw new Error('205 tasks should have been created');
        for (const probe of [created[0], created[203], last]) {
          if (!probe) continue;
          expect(value(await fallback.findTaskByIssue(probe.project, probe.issueId))).toEqual(probe);
          expect(value(await fallback.findTaskByBranch(probe.repo, probe.branch))).toEqual(
            value(await store.findTaskByBranch(probe.repo, probe.branch)),
          );
        }
        expect(value(await fallback.findTaskByIssue('web', 'F-999'))).toBeUndefined();
        expect(value(await fallback.findTaskByIssue('ops', 'F-0'))?.branch).toBe('task/shared');
        expect(value(await fallback.findTaskByBranch('acme/web', 'task/F-1'))).toBeUndefined();
      });

      it('lists tasks ordered by id with filters', async () => {
        const t1 = await createTask({ issueId: 'A-1', now: 100 });
        const t2 = await createTask({ issueId: 'A-2', now: 200, repo: 'acme/api', snapshot: snapshotOf('review') });
        const t3 = await createTask({
          issueId: 'A-3',
          now: 300,
          project: 'ops',
          snapshot: snapshotOf('development', 'done'),
        });
        const t4 = await createTask({ issueId: 'A-4', now: 400, snapshot: snapshotOf('review', 'gating') });
        const ids = (tasks: Task[]): string[] => tasks.map((t) => t.id);

        const all = value(await store.listTasks({}));
        expect(ids(all)).toEqual([t1.id, t2.id, t3.id, t4.id]);
        expect([...ids(all)].sort()).toEqual(ids(all));
        expect(ids(value(await store.listTasks({ project: 'web' })))).toEqual([t1.id, t2.id, t4.id]);
        expect(ids(value(await store.listTasks({ repo: 'acme/api' })))).toEqual([t2.id]);
        expect(ids(value(await store.listTasks({ stage: 'review' })))).toEqual([t2.id, t4.id]);
        expect(ids(value(await store.listTasks({ statuses: ['done', 'gating'] })))).toEqual([t3.id, t4.id]);
        expect(ids(value(await store.listTasks({ excludeStatuses: ['done'] })))).toEqual([t1.id, t2.id, t4.id]);
        expect(ids(value(await store.listTasks({ updatedBefore: 300 })))).toEqual([t1.id, t2.id]);
        expect(ids(value(await store.listTasks({ project: 'web', stage: 'review', statuses: ['gating'] })))).toEqual([
          t4.id,
        ]);
        expect(ids(value(await store.listTasks({ statuses: [] })))).toEqual([]);
        expect(ids(value(await store.listTasks({ limit: 2 })))).toEqual([t1.id, t2.id]);
      });

      it('pages through tasks with afterId and limit, seeing each exactly once', async () => {
        const created: string[] = [];
        for (let i = 0; i < 23; i += 1) created.push((await createTask({ issueId: `P-${i}` })).id);
        const seen: string[] = [];
        let afterId: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const rows = value(await store.listTasks({ limit: 5, ...(afterId === undefined ? {} : { afterId }) }));
          if (rows.length === 0) break;
          expect(rows.length).toBeLessThanOrEqual(5);
          seen.push(...rows.map((t) => t.id));
          afterId = rows[rows.length - 1]?.id;
        }
        expect(seen).toEqual(created);
      });

      it('creates exactly one task under many concurrent callers', async () => {
        const calls = Array.from({ length: 25 }, (_, i) =>
          store.createTaskIfAbsent(newTask({ issueId: 'RACE-1', title: `caller ${i}` })),
        );
        const results = (await Promise.all(calls)).map(value);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
        const listed = value(await store.listTasks({}));
        expect(listed).toHaveLength(1);
        expect(listed[0]?.title).toBe(results.find((r) => r.created)?.task.title);
      });

      it('hands out copies: mutating a returned task does not change the store', async () => {
        const task = await createTask();
        (task.snapshot as { stage: string }).stage = 'mutated';
        (task as { title: string }).title = 'mutated';
        const again = value(await store.getTask(task.id));
        expect(again?.snapshot.stage).toBe('development');
        expect(again?.title).toBe('Issue PLN-1');
      });
    });

    describe('transitions and history', () => {
      it('saves a transition, bumps the version and records history in order', async () => {
        const task = await createTask();
        const s1 = { ...snapshotOf('development', 'gating'), step: 1 };
        const after1 = value(
          await store.saveTransition({
            taskId: task.id,
            expectedVersion: task.version,
            snapshot: s1,
            cause: 'job.finished',
            now: 2_000,
          }),
        );
        expect(after1.version).toBe(task.version + 1);
        expect(after1.snapshot).toEqual(s1);
        expect(after1.updatedAt).toBe(2_000);
        expect(after1.createdAt).toBe(1_000);

        const s2 = {
          ...snapshotOf('review', 'active'),
          step: 2,
          lastVerdict: { edge: 'development->review', status: 'pass' as const, summary: 'all green' },
        };
        const after2 = value(
          await store.saveTransition({
            taskId: task.id,
            expectedVersion: after1.version,
            snapshot: s2,
            cause: 'gates.decided',
            verdictSummary: 'all green',
            now: 3_000,
          }),
        );
        expect(after2.version).toBe(task.version + 2);
        const s3 = { ...snapshotOf('review', 'done'), step: 2 };
        value(
          await store.saveTransition({
            taskId: task.id,
            expectedVersion: after2.version,
            snapshot: s3,
            cause: 'job.finished',
            now: 4_000,
          }),
        );

        expect(value(await store.getTask(task.id))).toMatchObject({ snapshot: s3, version: task.version + 3 });
        const history = value(await store.listHistory(task.id));
        expect(history).toEqual([
          {
            taskId: task.id,
            seq: 1,
            fromStage: 'development',
            fromStatus: 'active',
            toStage: 'development',
            toStatus: 'gating',
            cause: 'job.finished',
            at: 2_000,
          },
          {
            taskId: task.id,
            seq: 2,
            fromStage: 'development',
            fromStatus: 'gating',
            toStage: 'review',
            toStatus: 'active',
            cause: 'gates.decided',
            verdictSummary: 'all green',
            at: 3_000,
          },
          {
            taskId: task.id,
            seq: 3,
            fromStage: 'review',
            fromStatus: 'active',
            toStage: 'review',
            toStatus: 'done',
            cause: 'job.finished',
            at: 4_000,
          },
        ]);
        expect(value(await store.listHistory('no-such-task'))).toEqual([]);
      });

      it('refuses a stale version with conflict and writes nothing', async () => {
        const task = await createTask();
        value(
          await store.saveTransition({
            taskId: task.id,
            expectedVersion: task.version,
            snapshot: snapshotOf('review'),
            cause: 'first',
            now: 2_000,
          }),
        );
        const before = value(await store.getTask(task.id));
        const stale = await store.saveTransition({
          taskId: task.id,
          expectedVersion: task.version,
          snapshot: snapshotOf('deploy'),
          cause: 'second',
          now: 3_000,
        });
        expect(failure(stale).code).toBe('conflict');
        expect(value(await store.getTask(task.id))).toEqual(before);
        expect(value(await store.listHistory(task.id)).map((h) => h.cause)).toEqual(['first']);
      });

      it('lets exactly one of several concurrent transitions from the same version win', async () => {
        const task = await createTask();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.saveTransition({
              taskId: task.id,
              expectedVersion: task.version,
              snapshot: { ...snapshotOf('review'), step: i },
              cause: `racer ${i}`,
              now: 2_000 + i,
            }),
          ),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        for (const r of results) if (!r.ok) expect(r.error.code).toBe('conflict');
        const history = value(await store.listHistory(task.id));
        expect(history).toHaveLength(1);
        expect(value(await store.getTask(task.id))?.version).toBe(task.version + 1);
      });

      it('fails for an unknown task', async () => {
        const res = await store.saveTransition({
          taskId: 'no-such-task',
          expectedVersion: 1,
          snapshot: snapshotOf(),
          cause: 'x',
          now: 1,
        });
        expect(failure(res).code).toBe('not_found');
      });
    });
  });
}
