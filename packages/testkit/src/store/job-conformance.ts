import type { NewTask, Store, Task } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConformanceContext, createTaskIn, failure, newJob, value } from './conformance-kit.js';

/**
 * The `JobStore` cases: enqueue idempotency, claim order, limits and delays, pids, the single winner of the terminal flip, null exit codes, cancelling and listing.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function jobStoreConformance(ctx: ConformanceContext): void {
  describe('JobStore', () => {
    let store: Store;
    beforeEach(() => {
      store = ctx.store();
    });
    const createTask = (overrides: Partial<NewTask> = {}): Promise<Task> => createTaskIn(store, overrides);

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
  });
}
