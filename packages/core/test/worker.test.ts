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
      for (let i = 0; i < 20; i += 1) {
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
    // every decision is a job of its own, run in this process: no exit code, faked or not
    expect(jobs.map((j) => [j.stage, j.kind, j.attempt, j.status, j.exitCode])).toEqual([
      ['analysis', 'agent', 1, 'succeeded', 0],
      ['analysis', 'decision', 1, 'succeeded', null],
      ['development', 'agent', 1, 'failed', 1],
      ['development', 'agent', 2, 'succeeded', 0],
      ['development', 'decision', 1, 'succeeded', null],
      ['deploy-staging', 'agent', 1, 'succeeded', 0],
      ['deploy-staging', 'decision', 1, 'succeeded', null],
      ['deploy', 'agent', 1, 'succeeded', 0],
      ['deploy', 'decision', 1, 'succeeded', null],
    ]);
    expect(jobs.every((j) => typeof j.pid === 'number' && j.pid > 0)).toBe(true);
    expect(jobs.filter((j) => j.kind === 'decision').every((j) => j.pid === process.pid)).toBe(true);
    expect(
      h.logger.lines.filter((l) => l.message.startsWith('action stage job finished')).map((l) => l.fields?.stage),
    ).toEqual(['deploy-staging', 'deploy']);
    expect(h.logger.lines.some((l) => /under-deliver/i.test(l.message))).toBe(false);
  }, 30_000);

  it('decisions run under the same maxConcurrency as agent jobs, never beside it', async () => {
    let running = 0;
    let most = 0;
    const h = harness({
      gate: async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 20));
        running -= 1;
        return { status: 'pass', summary: 'slow but green' };
      },
    });
    const worker = createWorker({
      store: h.store,
      pipeline: h.pipeline,
      launcher: createProcessLauncher({ logDir: dirs.make() }),
      clock: h.clock,
      logger: h.logger,
      maxConcurrency: 1,
      commandFor: () => ({ command: process.execPath, args: ['-e', ''] }),
    });
    for (const id of ['1', '2', '3', '4']) {
      await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue(id) });
    }
    const tickAll = async () => {
      for (let i = 0; i < 40; i += 1) {
        const counts = await worker.tick();
        expect(counts.running).toBeLessThanOrEqual(1);
        if (counts.claimed === 0 && worker.running() === 0) return;
        await worker.idle();
      }
    };
    await tickAll();
    for (const id of ['1', '2', '3', '4']) {
      await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue(id, 'Approved') });
    }
    await tickAll();
    expect(h.gateRuns.length).toBeGreaterThanOrEqual(4);
    expect(most).toBe(1);
  }, 30_000);

  it('stop() aborts a running decision through to its gate; the decision is retried, the developer is not', async () => {
    let sawAbort = false;
    const h = harness({
      gate: (ctx) =>
        ctx.edge === 'analysis->development'
          ? { status: 'pass', summary: 'ok' }
          : new Promise((resolve) => {
              // a 10-minute retest: only the signal ends it, as a red run (a killed test suite)
              ctx.signal.addEventListener('abort', () => {
                sawAbort = true;
                resolve({ status: 'fail', summary: 'retest killed' });
              });
            }),
    });
    const worker = createWorker({
      store: h.store,
      pipeline: h.pipeline,
      launcher: createProcessLauncher({ logDir: dirs.make() }),
      clock: h.clock,
      logger: h.logger,
      maxConcurrency: 1,
      commandFor: () => ({ command: process.execPath, args: ['-e', ''] }),
    });
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const step = async () => {
      await worker.tick();
      await worker.idle();
    };
    await step(); // analysis
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Approved') });
    await step(); // its decision
    await step(); // development
    const [task] = (await h.store.listTasks({})).unwrapOr([]);
    expect(task?.snapshot).toMatchObject({ stage: 'development', status: 'gating' });
    worker.start();
    while (!h.gateRuns.some((r) => r.edge === 'development->deploy-staging'))
      await new Promise((r) => setTimeout(r, 5));
    await worker.stop();
    expect(sawAbort).toBe(true);
    const after = (await h.store.getTask(task?.id ?? '')).unwrapOr(undefined);
    // an aborted gate is not a finding: still gating, a new decision queued, no developer re-run
    expect(after?.snapshot).toMatchObject({
      stage: 'development',
      status: 'gating',
      developerRetries: 0,
      decisionErrors: 1,
    });
    const jobs = (await h.store.listJobs({ taskId: task?.id ?? '' })).unwrapOr([]);
    expect(jobs.filter((j) => j.agent === 'developer')).toHaveLength(1);
    expect(jobs.at(-1)).toMatchObject({ kind: 'decision', status: 'queued' });
    const decisions = (await h.store.listDecisions(task?.id ?? '')).unwrapOr([]);
    expect(decisions.at(-1)?.outcome?.summary).toContain('the host stopped during the decision');
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
