import { afterAll, describe, expect, it } from 'vitest';
import { createDaemonStatusBoard, createReaper, createReconciler, createWorker } from '../src/daemons/index.js';
import { createProcessLauncher, createProcessProbe } from '../src/launcher/index.js';
import { harness, issue } from './helpers/harness.js';
import { tempDirs } from './helpers/tmp.js';

const dirs = tempDirs('worker');
afterAll(() => dirs.cleanup());

describe('worker with real processes', () => {
  it('runs every stage job as a process, stamps pids, retries a failing exit, and brings the task to done', async () => {
    const h = harness();
    const worker = createWorker({
      store: h.store,
      pipeline: h.pipeline,
      launcher: createProcessLauncher({ logDir: dirs.make() }),
      clock: h.clock,
      logger: h.logger,
      maxConcurrency: 1,
      // the developer fails its first attempt; every other agent succeeds
      commandFor: (job) => ({
        command: process.execPath,
        args: ['-e', job.agent === 'developer' && job.attempt === 1 ? 'process.exit(1)' : 'process.exit(0)'],
      }),
    });
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const runAll = async () => {
      for (let i = 0; i < 10; i += 1) {
        const counts = await worker.tick();
        await worker.idle();
        if (counts.claimed === 0) return;
        expect(counts.claimed).toBeLessThanOrEqual(1);
      }
    };
    await runAll();
    const [task] = (await h.store.listTasks({})).unwrapOr([]);
    expect(task?.snapshot.status).toBe('awaiting_approval');
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Approved') });
    await runAll();
    const done = (await h.store.getTask(task?.id ?? '')).unwrapOr(undefined);
    expect(done?.snapshot).toMatchObject({ stage: 'done', status: 'done', jobAttempts: 0 });
    const jobs = (await h.store.listJobs({ taskId: task?.id ?? '' })).unwrapOr([]);
    expect(jobs.map((j) => [j.stage, j.attempt, j.status, j.exitCode])).toEqual([
      ['analysis', 1, 'succeeded', 0],
      ['development', 1, 'failed', 1],
      ['development', 2, 'succeeded', 0],
      ['deploy-staging', 1, 'succeeded', 0],
      ['deploy', 1, 'succeeded', 0],
    ]);
    expect(jobs.every((j) => typeof j.pid === 'number' && j.pid > 0)).toBe(true);
    expect(
      h.logger.lines.filter((l) => l.message.startsWith('action stage job finished')).map((l) => l.fields?.stage),
    ).toEqual(['deploy-staging', 'deploy']);
    expect(h.logger.lines.some((l) => /under-deliver/i.test(l.message))).toBe(false);
  }, 30_000);

  it('stop() stops claiming and waits for the running job; a launch failure fails the job and retries', async () => {
    const h = harness();
    let first = true;
    const worker = createWorker({
      store: h.store,
      pipeline: h.pipeline,
      launcher: createProcessLauncher(),
      clock: h.clock,
      logger: h.logger,
      intervalMs: 10,
      commandFor: () => {
        if (first) {
          first = false;
          return { command: '/nonexistent/agent', args: [] };
        }
        return { command: process.execPath, args: ['-e', 'setTimeout(() => {}, 200)'] };
      },
    });
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    await worker.tick();
    await worker.idle();
    const [task] = (await h.store.listTasks({})).unwrapOr([]);
    const jobs = (await h.store.listJobs({ taskId: task?.id ?? '' })).unwrapOr([]);
    expect(jobs[0]).toMatchObject({ status: 'failed' });
    expect(jobs[0]?.reason).toContain('cannot start');
    expect(jobs[1]).toMatchObject({ status: 'queued', attempt: 2 });

    worker.start();
    while (worker.running() === 0) await new Promise((r) => setTimeout(r, 5));
    await worker.stop();
    expect(worker.running()).toBe(0);
    const after = (await h.store.listJobs({ taskId: task?.id ?? '' })).unwrapOr([]);
    expect(after[1]?.status).toBe('succeeded');
    const afterStop = await worker.tick();
    expect(afterStop.claimed).toBe(0);

    const board = createDaemonStatusBoard([
      worker,
      createReaper({
        store: h.store,
        pipeline: h.pipeline,
        probe: createProcessProbe(),
        clock: h.clock,
        logger: h.logger,
      }),
      createReconciler({ store: h.store, pipeline: h.pipeline, clock: h.clock, logger: h.logger }),
    ]);
    const snapshot = board.snapshot();
    expect(snapshot.map((s) => s.name)).toEqual(['worker', 'reaper', 'reconciler']);
    expect(snapshot[0]?.ticks).toBeGreaterThanOrEqual(2);
    expect(snapshot[0]?.running).toBe(false);
  }, 30_000);
});
