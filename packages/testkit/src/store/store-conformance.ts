import type { CardRefStore, ConveyorError, NewJob, NewTask, Result, StageSnapshot, Store, Task } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** A store as handed to {@link storeConformance}: card refs are optional. */
export type StoreUnderTest = Store & Partial<CardRefStore>;

/** Makes a fresh, empty store for one test. */
export type StoreFactory = () => StoreUnderTest | Promise<StoreUnderTest>;

/** One operation raced by several processes (see {@link StoreConformanceOptions.spawnRacers}). */
export type RacerRequest =
  /** every racer calls `createTaskIfAbsent(input)` */
  | { readonly kind: 'createTaskIfAbsent'; readonly input: NewTask }
  /** racer `i` calls `finishJob({ jobId, status: 'succeeded', reason: \`racer ${i}\`, exitCode: i, now })` */
  | { readonly kind: 'finishJob'; readonly jobId: string; readonly now: number }
  /** every racer calls `claimJobs({ maxConcurrency, now })` */
  | { readonly kind: 'claimJobs'; readonly maxConcurrency: number; readonly now: number };

/** What one racer saw. */
export interface RacerOutcome {
  /** the racer's index, 0-based */
  readonly index: number;
  /** `false` when the call resolved to an error */
  readonly ok: boolean;
  /** `createTaskIfAbsent`: whether this racer created the task */
  readonly created?: boolean;
  /** `createTaskIfAbsent`: the id of the task it got back */
  readonly taskId?: string;
  /** `finishJob`: whether this racer won the terminal flip */
  readonly won?: boolean;
  /** `claimJobs`: the ids of the jobs this racer claimed */
  readonly claimedJobIds?: readonly string[];
  /** the error message when `ok` is false */
  readonly error?: string;
}

/** Options of {@link storeConformance}. */
export interface StoreConformanceOptions {
  /** Runs after each test, once the store is closed (e.g. deletes its temp file). */
  readonly cleanup?: (store: StoreUnderTest) => void | Promise<void>;
  /**
   * For cross-process stores: starts `racers` real processes or worker threads
   * on the same backing state as `store`, each performing `request` once, as
   * close to simultaneously as it can, and resolves to what each saw. Without
   * it, the cross-process cases are skipped.
   */
  readonly spawnRacers?: (store: StoreUnderTest, request: RacerRequest, racers: number) => Promise<RacerOutcome[]>;
  /** How many racers to start (default 4). */
  readonly racers?: number;
  /** Time limit of each cross-process case, process start-up included (default 120 000 ms). */
  readonly racerTimeoutMs?: number;
}

function snapshotOf(stage = 'development', status: StageSnapshot['status'] = 'active'): StageSnapshot {
  return { stage, status, step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 };
}

function newTask(overrides: Partial<NewTask> = {}): NewTask {
  const issueId = overrides.issueId ?? 'PLN-1';
  return {
    project: 'web',
    issueId,
    repo: 'acme/web',
    branch: `task/${issueId}`,
    title: `Issue ${issueId}`,
    description: 'do the thing',
    snapshot: snapshotOf(),
    now: 1_000,
    ...overrides,
  };
}

function newJob(taskId: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    taskId,
    stage: 'development',
    agent: 'developer',
    kind: 'agent',
    stepKey: `${taskId}:1`,
    attempt: 1,
    input: { description: 'do the thing' },
    availableAt: 1_000,
    now: 1_000,
    ...overrides,
  };
}

function value<T>(result: Result<T, ConveyorError>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function failure<T>(result: Result<T, ConveyorError>): ConveyorError {
  if (result.ok) throw new Error(`expected an error, got ok: ${JSON.stringify(result.value)}`);
  return result.error;
}

/**
 * The shared suite every `Store` runs: atomic task creation (also across
 * processes when the store says it is cross-process and `spawnRacers` is
 * given), the optimistic transition guard and history ordering, enqueue
 * idempotency, claim limits and delays, the single winner of the terminal
 * flip, leases with strictly growing fencing tokens, delivery idempotency,
 * card refs and errors after close.
 *
 * Details the port leaves open, which the suite pins down: a task starts at
 * `version` 1; ids sort in creation order; a holder acquiring a lease it
 * already holds gets `acquired: false` (it renews instead); renewing an
 * expired lease is `lease_lost`; `setJobPid` on a job that is not running is a
 * `conflict`; `finishJob` on a queued job does not win; a `null` exit code is
 * kept apart from none.
 *
 * Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { createMemoryStore, storeConformance } from '@conveyor/testkit';
 * storeConformance('memory', () => createMemoryStore());
 * ```
 */
export function storeConformance(name: string, makeStore: StoreFactory, options: StoreConformanceOptions = {}): void {
  const racers = options.racers ?? 4;
  const racerTimeout = { timeout: options.racerTimeoutMs ?? 120_000 };

  describe(`store conformance: ${name}`, () => {
    let store: StoreUnderTest;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
      await options.cleanup?.(store);
    });

    async function createTask(overrides: Partial<NewTask> = {}): Promise<Task> {
      return value(await store.createTaskIfAbsent(newTask(overrides))).task;
    }

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

    describe('jobs', () => {
      it('enqueues a job once per stepKey', async () => {
        const task = await createTask();
        const first = value(
          await store.enqueueJob(
            newJob(task.id, { edge: 'development->review', input: { description: 'd', findings: 'f' } }),
          ),
        );
        expect(first.created).toBe(true);
        expect(first.job).toMatchObject({
          taskId: task.id,
          stage: 'development',
          agent: 'developer',
          kind: 'agent',
          status: 'queued',
          attempt: 1,
          stepKey: `${task.id}:1`,
          edge: 'development->review',
          input: { description: 'd', findings: 'f' },
          availableAt: 1_000,
          createdAt: 1_000,
        });
        expect(first.job.pid).toBeUndefined();
        expect(first.job.startedAt).toBeUndefined();
        expect(first.job.finishedAt).toBeUndefined();

        const again = value(await store.enqueueJob(newJob(task.id, { agent: 'someone-else', now: 5_000 })));
        expect(again.created).toBe(false);
        expect(again.job).toEqual(first.job);
        expect(value(await store.getJob(first.job.id))).toEqual(first.job);
        expect(value(await store.getJob('no-such-job'))).toBeUndefined();

        const concurrent = (
          await Promise.all(
            Array.from({ length: 10 }, () => store.enqueueJob(newJob(task.id, { stepKey: `${task.id}:2` }))),
          )
        ).map(value);
        expect(concurrent.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(concurrent.map((r) => r.job.id)).size).toBe(1);
        expect(value(await store.listJobs({ taskId: task.id }))).toHaveLength(2);
      });

      it('claims by availableAt then id, never more than maxConcurrency running', async () => {
        const task = await createTask();
        const j1 = value(await store.enqueueJob(newJob(task.id, { stepKey: 's1', availableAt: 500 }))).job;
        const j2 = value(await store.enqueueJob(newJob(task.id, { stepKey: 's2', availableAt: 100 }))).job;
        const j3 = value(await store.enqueueJob(newJob(task.id, { stepKey: 's3', availableAt: 500 }))).job;
        const j4 = value(await store.enqueueJob(newJob(task.id, { stepKey: 's4', availableAt: 100 }))).job;
        const j5 = value(await store.enqueueJob(newJob(task.id, { stepKey: 's5', availableAt: 900 }))).job;

        const first = value(await store.claimJobs({ maxConcurrency: 3, now: 1_000 }));
        expect(first.map((j) => j.id)).toEqual([j2.id, j4.id, j1.id]);
        for (const j of first) expect(j).toMatchObject({ status: 'running', startedAt: 1_000 });
        expect(value(await store.claimJobs({ maxConcurrency: 3, now: 1_000 }))).toEqual([]);
        expect(value(await store.claimJobs({ maxConcurrency: 0, now: 1_000 }))).toEqual([]);

        value(await store.finishJob({ jobId: j2.id, status: 'succeeded', exitCode: 0, now: 1_100 }));
        const second = value(await store.claimJobs({ maxConcurrency: 3, now: 1_200 }));
        expect(second.map((j) => j.id)).toEqual([j3.id]);
        expect(value(await store.claimJobs({ maxConcurrency: 4, now: 1_200 })).map((j) => j.id)).toEqual([j5.id]);
        expect(value(await store.listJobs({ statuses: ['running'] })).map((j) => j.id)).toEqual([
          j1.id,
          j3.id,
          j4.id,
          j5.id,
        ]);
      });

      it('never exceeds maxConcurrency under concurrent claimers', async () => {
        const task = await createTask();
        for (let i = 0; i < 10; i += 1) value(await store.enqueueJob(newJob(task.id, { stepKey: `c${i}` })));
        const claims = (
          await Promise.all(Array.from({ length: 6 }, () => store.claimJobs({ maxConcurrency: 3, now: 2_000 })))
        ).map(value);
        const claimed = claims.flat().map((j) => j.id);
        expect(claimed).toHaveLength(3);
        expect(new Set(claimed).size).toBe(3);
        expect(value(await store.listJobs({ statuses: ['running'] }))).toHaveLength(3);
        expect(value(await store.listJobs({ statuses: ['queued'] }))).toHaveLength(7);
      });

      it('does not claim a delayed job before its availableAt', async () => {
        const task = await createTask();
        const delayed = value(await store.enqueueJob(newJob(task.id, { availableAt: 60_000 }))).job;
        expect(value(await store.claimJobs({ maxConcurrency: 5, now: 59_999 }))).toEqual([]);
        expect(value(await store.getJob(delayed.id))?.status).toBe('queued');
        const claimed = value(await store.claimJobs({ maxConcurrency: 5, now: 60_000 }));
        expect(claimed.map((j) => j.id)).toEqual([delayed.id]);
      });

      it('stamps the pid of a running job', async () => {
        const task = await createTask();
        const job = value(await store.enqueueJob(newJob(task.id))).job;
        value(await store.claimJobs({ maxConcurrency: 1, now: 1_000 }));
        value(await store.setJobPid(job.id, 4242));
        expect(value(await store.getJob(job.id))?.pid).toBe(4242);
        expect((await store.setJobPid('no-such-job', 1)).ok).toBe(false);
      });

      it('flips a running job to a terminal status once; later finishers lose', async () => {
        const task = await createTask();
        const job = value(await store.enqueueJob(newJob(task.id))).job;
        const queuedFinish = value(await store.finishJob({ jobId: job.id, status: 'failed', now: 1_050 }));
        expect(queuedFinish.won).toBe(false);
        expect(queuedFinish.job.status).toBe('queued');

        value(await store.claimJobs({ maxConcurrency: 1, now: 1_100 }));
        const won = value(
          await store.finishJob({ jobId: job.id, status: 'failed', exitCode: 3, reason: 'exit 3', now: 1_200 }),
        );
        expect(won.won).toBe(true);
        expect(won.job).toMatchObject({
          status: 'failed',
          exitCode: 3,
          reason: 'exit 3',
          finishedAt: 1_200,
          startedAt: 1_100,
        });
        const lost = value(
          await store.finishJob({ jobId: job.id, status: 'succeeded', exitCode: 0, reason: 'late', now: 1_300 }),
        );
        expect(lost.won).toBe(false);
        expect(lost.job).toEqual(won.job);
        expect(value(await store.getJob(job.id))).toEqual(won.job);
        expect(failure(await store.finishJob({ jobId: 'no-such-job', status: 'failed', now: 1 })).code).toBe(
          'not_found',
        );
      });

      it('keeps a null exit code distinct from none', async () => {
        const task = await createTask();
        const a = value(await store.enqueueJob(newJob(task.id, { stepKey: 'a' }))).job;
        const b = value(await store.enqueueJob(newJob(task.id, { stepKey: 'b' }))).job;
        value(await store.claimJobs({ maxConcurrency: 2, now: 1_000 }));
        value(await store.finishJob({ jobId: a.id, status: 'failed', exitCode: null, reason: 'killed', now: 1_100 }));
        value(await store.finishJob({ jobId: b.id, status: 'cancelled', now: 1_100 }));
        expect(value(await store.getJob(a.id))?.exitCode).toBeNull();
        const jb = value(await store.getJob(b.id));
        expect(jb?.exitCode).toBeUndefined();
        expect(jb !== undefined && 'exitCode' in jb).toBe(false);
      });

      it('lets exactly one of many concurrent finishers win', async () => {
        const task = await createTask();
        const job = value(await store.enqueueJob(newJob(task.id))).job;
        value(await store.claimJobs({ maxConcurrency: 1, now: 1_000 }));
        const results = (
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.finishJob({
                jobId: job.id,
                status: i % 2 === 0 ? 'succeeded' : 'failed',
                exitCode: i,
                reason: `finisher ${i}`,
                now: 2_000 + i,
              }),
            ),
          )
        ).map(value);
        const winners = results.filter((r) => r.won);
        expect(winners).toHaveLength(1);
        const stored = value(await store.getJob(job.id));
        expect(stored).toEqual(winners[0]?.job);
      });

      it('cancels only the queued jobs of one task', async () => {
        const a = await createTask({ issueId: 'A' });
        const b = await createTask({ issueId: 'B' });
        const running = value(await store.enqueueJob(newJob(a.id, { stepKey: 'a1' }))).job;
        value(await store.claimJobs({ maxConcurrency: 1, now: 1_000 }));
        const q1 = value(await store.enqueueJob(newJob(a.id, { stepKey: 'a2' }))).job;
        const q2 = value(await store.enqueueJob(newJob(a.id, { stepKey: 'a3', availableAt: 99_000 }))).job;
        const other = value(await store.enqueueJob(newJob(b.id, { stepKey: 'b1' }))).job;

        expect(value(await store.cancelQueuedJobs(a.id, 'task rejected', 5_000))).toBe(2);
        for (const id of [q1.id, q2.id]) {
          expect(value(await store.getJob(id))).toMatchObject({
            status: 'cancelled',
            reason: 'task rejected',
            finishedAt: 5_000,
          });
        }
        expect(value(await store.getJob(running.id))?.status).toBe('running');
        expect(value(await store.getJob(other.id))?.status).toBe('queued');
        expect(value(await store.cancelQueuedJobs(a.id, 'again', 6_000))).toBe(0);
        const claimed = value(await store.claimJobs({ maxConcurrency: 10, now: 100_000 }));
        expect(claimed.map((j) => j.id)).toEqual([other.id]);
      });

      it('lists jobs ordered by id with filters', async () => {
        const a = await createTask({ issueId: 'A' });
        const b = await createTask({ issueId: 'B' });
        const j1 = value(await store.enqueueJob(newJob(a.id, { stepKey: 'x1', availableAt: 900 }))).job;
        const j2 = value(await store.enqueueJob(newJob(b.id, { stepKey: 'x2', availableAt: 100 }))).job;
        const j3 = value(await store.enqueueJob(newJob(a.id, { stepKey: 'x3', availableAt: 500 }))).job;
        value(await store.claimJobs({ maxConcurrency: 1, now: 1_000 }));
        const ids = value(await store.listJobs({})).map((j) => j.id);
        expect(ids).toEqual([j1.id, j2.id, j3.id]);
        expect([...ids].sort()).toEqual(ids);
        expect(value(await store.listJobs({ taskId: a.id })).map((j) => j.id)).toEqual([j1.id, j3.id]);
        expect(value(await store.listJobs({ statuses: ['running'] })).map((j) => j.id)).toEqual([j2.id]);
        expect(value(await store.listJobs({ statuses: ['queued'], taskId: a.id, limit: 1 })).map((j) => j.id)).toEqual([
          j1.id,
        ]);
      });
    });

    describe('leases', () => {
      it('grants a free lease and refuses it to others while it is live', async () => {
        const a = value(await store.acquireLease({ name: 'merge:web', holder: 'A', ttlMs: 1_000, now: 10_000 }));
        if (!a.acquired) throw new Error('A should have acquired');
        expect(a.lease).toMatchObject({ name: 'merge:web', holder: 'A', acquiredAt: 10_000, expiresAt: 11_000 });
        expect(a.lease.token).toBeGreaterThan(0);

        const b = value(await store.acquireLease({ name: 'merge:web', holder: 'B', ttlMs: 1_000, now: 10_999 }));
        expect(b).toEqual({ acquired: false, current: a.lease });
        const again = value(await store.acquireLease({ name: 'merge:web', holder: 'A', ttlMs: 1_000, now: 10_500 }));
        expect(again.acquired).toBe(false);
        expect(value(await store.getLease('merge:web'))).toEqual(a.lease);

        const other = value(await store.acquireLease({ name: 'merge:api', holder: 'B', ttlMs: 1_000, now: 10_999 }));
        expect(other.acquired).toBe(true);
        expect(value(await store.listLeases()).map((l) => l.name)).toEqual(['merge:api', 'merge:web']);
        expect(value(await store.getLease('nothing'))).toBeUndefined();
      });

      it('lets exactly one of many concurrent acquirers win', async () => {
        const results = (
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.acquireLease({ name: 'l', holder: `h${i}`, ttlMs: 5_000, now: 1_000 }),
            ),
          )
        ).map(value);
        const winners = results.filter((r) => r.acquired);
        expect(winners).toHaveLength(1);
        const held = value(await store.getLease('l'));
        const winner = winners[0];
        expect(winner?.acquired && winner.lease).toEqual(held);
      });

      it('hands out strictly increasing fencing tokens across holders, expiry and reclaim', async () => {
        const tokens: number[] = [];
        const grab = async (holder: string, now: number): Promise<number> => {
          const r = value(await store.acquireLease({ name: 'deploy', holder, ttlMs: 100, now }));
          if (!r.acquired) throw new Error(`${holder} should have acquired at ${now}`);
          tokens.push(r.lease.token);
          return r.lease.token;
        };
        const tA = await grab('A', 1_000);
        expect(value(await store.releaseLease({ name: 'deploy', holder: 'A', token: tA })).released).toBe(true);
        await grab('B', 1_010);
        // B never releases: the lease expires and C takes it over.
        await grab('C', 1_110);
        // C expires too and the reaper frees it.
        const freed = value(await store.reclaimExpiredLeases(1_300));
        expect(freed.map((l) => l.holder)).toEqual(['C']);
        expect(value(await store.getLease('deploy'))).toBeUndefined();
        await grab('A', 1_400);
        // a holder taking the lease again still gets a new, larger token
        expect(value(await store.releaseLease({ name: 'deploy', holder: 'A' })).released).toBe(true);
        await grab('A', 1_500);
        for (let i = 1; i < tokens.length; i += 1) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] ?? 0);
        expect(tokens).toHaveLength(5);
      });

      it('releases only for the holder that owns it (and the exact token when given)', async () => {
        const r = value(await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 1_000, now: 0 }));
        if (!r.acquired) throw new Error('should have acquired');
        expect(value(await store.releaseLease({ name: 'l', holder: 'B' })).released).toBe(false);
        expect(value(await store.releaseLease({ name: 'l', holder: 'A', token: r.lease.token + 1 })).released).toBe(
          false,
        );
        expect(value(await store.getLease('l'))).toEqual(r.lease);
        expect(value(await store.releaseLease({ name: 'l', holder: 'A', token: r.lease.token })).released).toBe(true);
        expect(value(await store.getLease('l'))).toBeUndefined();
        expect(value(await store.releaseLease({ name: 'l', holder: 'A' })).released).toBe(false);
        expect(value(await store.releaseLease({ name: 'never', holder: 'A' })).released).toBe(false);
      });

      it('does not let a stale holder release the lease a newer holder took over', async () => {
        const a = value(await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 100, now: 0 }));
        const b = value(await store.acquireLease({ name: 'l', holder: 'B', ttlMs: 100, now: 200 }));
        if (!a.acquired || !b.acquired) throw new Error('both should have acquired');
        expect(value(await store.releaseLease({ name: 'l', holder: 'A', token: a.lease.token })).released).toBe(false);
        expect(value(await store.getLease('l'))).toEqual(b.lease);
      });

      it('renews only for the current holder and token', async () => {
        const r = value(await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 1_000, now: 0 }));
        if (!r.acquired) throw new Error('should have acquired');
        const renewed = value(
          await store.renewLease({ name: 'l', holder: 'A', token: r.lease.token, ttlMs: 1_000, now: 500 }),
        );
        expect(renewed).toEqual({ ...r.lease, expiresAt: 1_500 });
        expect(value(await store.getLease('l'))).toEqual(renewed);
        expect(
          failure(await store.renewLease({ name: 'l', holder: 'B', token: r.lease.token, ttlMs: 1_000, now: 600 }))
            .code,
        ).toBe('lease_lost');
        expect(
          failure(await store.renewLease({ name: 'l', holder: 'A', token: r.lease.token + 1, ttlMs: 1_000, now: 600 }))
            .code,
        ).toBe('lease_lost');
        expect(
          failure(await store.renewLease({ name: 'none', holder: 'A', token: 1, ttlMs: 1_000, now: 600 })).code,
        ).toBe('lease_lost');
        // expired and taken over: the old holder has lost it
        value(await store.acquireLease({ name: 'l', holder: 'B', ttlMs: 1_000, now: 2_000 }));
        expect(
          failure(await store.renewLease({ name: 'l', holder: 'A', token: r.lease.token, ttlMs: 1_000, now: 2_001 }))
            .code,
        ).toBe('lease_lost');
        expect(value(await store.getLease('l'))?.holder).toBe('B');
      });

      it('reclaims only expired leases', async () => {
        value(await store.acquireLease({ name: 'a', holder: 'H', ttlMs: 100, now: 0 }));
        value(await store.acquireLease({ name: 'b', holder: 'H', ttlMs: 1_000, now: 0 }));
        value(await store.acquireLease({ name: 'c', holder: 'H', ttlMs: 50, now: 0 }));
        const freed = value(await store.reclaimExpiredLeases(100));
        expect(freed.map((l) => l.name).sort()).toEqual(['a', 'c']);
        expect(value(await store.listLeases()).map((l) => l.name)).toEqual(['b']);
        expect(value(await store.reclaimExpiredLeases(100))).toEqual([]);
      });
    });

    describe('deliveries', () => {
      it('records each (source, deliveryId) once', async () => {
        expect(value(await store.recordDelivery({ source: 'plane', deliveryId: 'd1', now: 1 })).firstSeen).toBe(true);
        expect(value(await store.recordDelivery({ source: 'plane', deliveryId: 'd1', now: 2 })).firstSeen).toBe(false);
        expect(value(await store.recordDelivery({ source: 'gitea', deliveryId: 'd1', now: 3 })).firstSeen).toBe(true);
        const racing = (
          await Promise.all(
            Array.from({ length: 10 }, () => store.recordDelivery({ source: 'gitea', deliveryId: 'd2', now: 4 })),
          )
        ).map(value);
        expect(racing.filter((r) => r.firstSeen)).toHaveLength(1);
      });
    });

    describe('card refs', () => {
      it('sets, overwrites, reads and deletes a card ref per task and channel', async (ctx) => {
        const { getCardRef, setCardRef, deleteCardRef } = store;
        // A store without card refs (they are a separate port) has nothing to test here.
        if (!getCardRef || !setCardRef || !deleteCardRef) return ctx.skip();
        const get = getCardRef.bind(store);
        const set = setCardRef.bind(store);
        const del = deleteCardRef.bind(store);
        expect(value(await get('t1', 'telegram'))).toBeUndefined();
        value(await set('t1', 'telegram', 'chat:1/msg:2'));
        value(await set('t1', 'slack', 'C1/ts'));
        expect(value(await get('t1', 'telegram'))).toBe('chat:1/msg:2');
        value(await set('t1', 'telegram', 'chat:1/msg:3'));
        expect(value(await get('t1', 'telegram'))).toBe('chat:1/msg:3');
        value(await del('t1', 'telegram'));
        expect(value(await get('t1', 'telegram'))).toBeUndefined();
        expect(value(await get('t1', 'slack'))).toBe('C1/ts');
        value(await del('t1', 'nothing'));
      });
    });

    describe('cross-process', () => {
      const canRace = (): boolean => store.capabilities.crossProcess && options.spawnRacers !== undefined;

      it('creates exactly one task when several processes race on one issue', racerTimeout, async (ctx) => {
        // Only stores shared between processes can race across them; the test file provides the racers.
        if (!canRace() || !options.spawnRacers) return ctx.skip();
        const input = newTask({ issueId: 'XPROC-1' });
        const outcomes = await options.spawnRacers(store, { kind: 'createTaskIfAbsent', input }, racers);
        expect(outcomes).toHaveLength(racers);
        for (const o of outcomes) expect(o.error).toBeUndefined();
        expect(outcomes.filter((o) => o.created)).toHaveLength(1);
        const listed = value(await store.listTasks({}));
        expect(listed).toHaveLength(1);
        expect(new Set(outcomes.map((o) => o.taskId))).toEqual(new Set([listed[0]?.id]));
      });

      it('lets exactly one of several processes win the terminal flip', racerTimeout, async (ctx) => {
        // Only stores shared between processes can race across them; the test file provides the racers.
        if (!canRace() || !options.spawnRacers) return ctx.skip();
        const task = await createTask();
        const job = value(await store.enqueueJob(newJob(task.id))).job;
        value(await store.claimJobs({ maxConcurrency: 1, now: 1_000 }));
        const outcomes = await options.spawnRacers(store, { kind: 'finishJob', jobId: job.id, now: 2_000 }, racers);
        expect(outcomes).toHaveLength(racers);
        for (const o of outcomes) expect(o.error).toBeUndefined();
        const winners = outcomes.filter((o) => o.won);
        expect(winners).toHaveLength(1);
        const stored = value(await store.getJob(job.id));
        expect(stored).toMatchObject({
          status: 'succeeded',
          reason: `racer ${winners[0]?.index}`,
          exitCode: winners[0]?.index,
        });
      });
      it('never exceeds maxConcurrency when several processes claim at once', racerTimeout, async (ctx) => {
        // Only stores shared between processes can race across them; the test file provides the racers.
        if (!canRace() || !options.spawnRacers) return ctx.skip();
        const task = await createTask();
        for (let i = 0; i < racers * 3; i += 1) value(await store.enqueueJob(newJob(task.id, { stepKey: `x${i}` })));
        const max = racers + 1;
        const outcomes = await options.spawnRacers(
          store,
          { kind: 'claimJobs', maxConcurrency: max, now: 2_000 },
          racers,
        );
        expect(outcomes).toHaveLength(racers);
        for (const o of outcomes) expect(o.error).toBeUndefined();
        const claimed = outcomes.flatMap((o) => o.claimedJobIds ?? []);
        expect(claimed).toHaveLength(max);
        expect(new Set(claimed).size).toBe(max);
        const running = value(await store.listJobs({ statuses: ['running'] })).map((j) => j.id);
        expect([...claimed].sort()).toEqual(running);
      });
    });

    describe('after close', () => {
      it('resolves every call to an error instead of throwing', async () => {
        const task = await createTask();
        value(await store.close());
        expect((await store.getTask(task.id)).ok).toBe(false);
        expect((await store.createTaskIfAbsent(newTask({ issueId: 'late' }))).ok).toBe(false);
        expect((await store.claimJobs({ maxConcurrency: 1, now: 1 })).ok).toBe(false);
        expect((await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 1, now: 1 })).ok).toBe(false);
        expect((await store.recordDelivery({ source: 's', deliveryId: 'd', now: 1 })).ok).toBe(false);
        expect((await store.listTasks({})).ok).toBe(false);
      });
    });
  });
}
