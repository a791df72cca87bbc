import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createReaper, decideReaping } from '../src/daemons/index.js';
import { createProcessLauncher, createProcessProbe, logFileFor, readExitRecord } from '../src/launcher/index.js';
import type { Job } from '../src/ports/domain.js';
import { ok } from '../src/result/result.js';
import { harness, runDecisions } from './helpers/harness.js';
import { tempDirs } from './helpers/tmp.js';

const dirs = tempDirs('reaper');
afterAll(() => dirs.cleanup());

function job(over: Partial<Job>): Job {
  return {
    id: 'j1',
    taskId: 't1',
    stage: 'development',
    agent: 'developer',
    kind: 'agent',
    status: 'running',
    attempt: 1,
    stepKey: 't1:1',
    input: { description: '' },
    availableAt: 0,
    createdAt: 0,
    startedAt: 0,
    ...over,
  };
}

const policy = { deadTicks: 3, maxRunningMs: 10_000, noPidGraceMs: 1000 };

describe('decideReaping (pure)', () => {
  it('flips a pid dead for N consecutive ticks, and an alive tick resets the count', () => {
    let counts: ReadonlyMap<string, number> = new Map();
    const dead = [{ job: job({ pid: 10 }), alive: false }];
    for (let i = 1; i < 3; i += 1) {
      const d = decideReaping(dead, counts, 100, policy);
      expect(d.actions).toEqual([]);
      counts = d.deadCounts;
    }
    const reset = decideReaping([{ job: job({ pid: 10 }), alive: true }], counts, 100, policy);
    expect(reset.deadCounts.size).toBe(0);
    counts = new Map([['j1', 2]]);
    const third = decideReaping(dead, counts, 100, policy);
    expect(third.actions).toEqual([
      { jobId: 'j1', status: 'failed', exitCode: null, reason: 'pid 10 dead for 3 consecutive reaper ticks' },
    ]);
  });

  it('uses a known exit code at once: 0 succeeds (the gates decide), non-zero fails', () => {
    const d = decideReaping(
      [
        { job: job({ id: 'a', pid: 1 }), alive: false, exitCode: 0 },
        { job: job({ id: 'b', pid: 2 }), alive: false, exitCode: 1 },
      ],
      new Map(),
      100,
      policy,
    );
    expect(d.actions.map((a) => [a.jobId, a.status, a.exitCode])).toEqual([
      ['a', 'succeeded', 0],
      ['b', 'failed', 1],
    ]);
  });

  it('flips jobs running past the maximum (killing the pid) and jobs with no pid after the grace', () => {
    const d = decideReaping(
      [
        { job: job({ id: 'long', pid: 5 }), alive: true },
        { job: job({ id: 'nopid', startedAt: 9000 }) },
        { job: job({ id: 'young', startedAt: 10_500 }) },
      ],
      new Map(),
      10_001 + 0 * 1 + 0,
      { ...policy, maxRunningMs: 10_000 },
    );
    expect(d.actions.map((a) => [a.jobId, a.killPid])).toEqual([
      ['long', 5],
      ['nopid', undefined],
    ]);
  });
});

describe('reaper with real processes', () => {
  it('flips agents that exit 0, exit 1, hang past the maximum, and get kill -9, each within the configured ticks', async () => {
    const h = harness();
    const logDir = dirs.make();
    await h.pipeline.handle({
      kind: 'tracker.issue',
      action: 'created',
      issue: { id: '1', project: 'web', title: 'a', description: 'd', state: 'Todo' },
    });
    // four running jobs of four tasks, each with a real process whose worker "crashed"
    const scripts: Record<string, string> = {
      ok: 'process.exit(0)',
      fail: 'process.exit(1)',
      hang: 'setInterval(() => {}, 1000)',
      killed: 'setInterval(() => {}, 1000)',
    };
    const launcher = createProcessLauncher({ logDir });
    const pids: Record<string, number> = {};
    const jobIds: Record<string, string> = {};
    const exits: Record<string, Promise<unknown>> = {};
    for (const name of Object.keys(scripts)) {
      const t = await h.store.createTaskIfAbsent({
        project: 'web',
        issueId: name,
        repo: 'acme/web',
        branch: `task/${name}`,
        title: name,
        description: name,
        snapshot: {
          stage: 'development',
          status: 'active',
          step: 1,
          developerRetries: 0,
          deferrals: 0,
          jobAttempts: 0,
        },
        now: h.clock.now(),
      });
      if (!t.ok) throw t.error;
      await h.store.enqueueJob({
        taskId: t.value.task.id,
        stage: 'development',
        agent: 'developer',
        kind: 'agent',
        stepKey: `${t.value.task.id}:1`,
        attempt: 1,
        input: { description: name },
        availableAt: 0,
        now: h.clock.now(),
      });
    }
    const claimed = await h.store.claimJobs({ maxConcurrency: 10, now: h.clock.now() });
    if (!claimed.ok) throw claimed.error;
    // the analysis job of issue 1 is claimed too; leave it to the no-pid rule
    for (const j of claimed.value) {
      const name = (await h.store.getTask(j.taskId)).unwrapOr(undefined)?.issueId ?? '';
      const script = scripts[name];
      if (script === undefined) continue;
      const started = await launcher.launch({ jobId: j.id, command: process.execPath, args: ['-e', script] });
      if (!started.ok) throw started.error;
      await h.store.setJobPid(j.id, started.value.pid);
      pids[name] = started.value.pid;
      jobIds[name] = j.id;
      exits[name] = started.value.exited;
    }
    process.kill(pids.killed as number, 'SIGKILL');
    await Promise.all([exits.ok, exits.fail, exits.killed]);
    const probe = createProcessProbe();
    // the host that saw 'killed' die crashed before writing anything: no exit record for it
    fs.rmSync(`${logFileFor(logDir, jobIds.killed as string)}.exit`);
    const reaper = createReaper({
      store: h.store,
      pipeline: h.pipeline,
      probe,
      clock: h.clock,
      logger: h.logger,
      deadTicks: 2,
      maxRunningSeconds: 600,
      noPidGraceSeconds: 30,
      exitCodeOf: (j) => readExitRecord(logFileFor(logDir, j.id))?.exitCode,
    });
    const statusOf = async (name: string) => (await h.store.getJob(jobIds[name] as string)).unwrapOr(undefined);

    const first = await reaper.tick();
    // ok and fail have exit records: flipped at once; killed has none: first dead tick
    expect((await statusOf('ok'))?.status).toBe('succeeded');
    expect((await statusOf('fail'))?.status).toBe('failed');
    expect((await statusOf('fail'))?.exitCode).toBe(1);
    expect((await statusOf('killed'))?.status).toBe('running');
    expect(first.reaped).toBe(2);
    h.clock.advance(5_000);
    await reaper.tick();
    const killed = await statusOf('killed');
    expect(killed?.status).toBe('failed');
    expect(killed?.exitCode ?? null).toBeNull();
    expect((await statusOf('hang'))?.status).toBe('running');

    h.clock.advance(601_000);
    const late = await reaper.tick();
    expect((await statusOf('hang'))?.status).toBe('failed');
    expect((await statusOf('hang'))?.reason).toContain('longer than the maximum');
    expect(late.reaped).toBeGreaterThanOrEqual(1);
    await exits.hang;

    // exit 0 → the task went to its gates (the gate decided, not the exit code): a decision job, run next
    const okJob = await statusOf('ok');
    expect((await h.store.getTask(okJob?.taskId ?? '')).unwrapOr(undefined)?.snapshot.status).toBe('gating');
    await runDecisions(h, { claimAgentJobs: true });
    const okTask = (await h.store.getTask(okJob?.taskId ?? '')).unwrapOr(undefined);
    expect(okTask?.snapshot.stage).toBe('deploy-staging');
    expect(h.gateRuns.some((r) => r.taskId === okTask?.id && r.edge === 'development->deploy-staging')).toBe(true);
    // exit 1 → a retry job for the next step
    const failJob = await statusOf('fail');
    const failTask = (await h.store.getTask(failJob?.taskId ?? '')).unwrapOr(undefined);
    expect(failTask?.snapshot).toMatchObject({ stage: 'development', status: 'active', step: 2, jobAttempts: 1 });
  }, 30_000);

  it('a dead pid with no exit record is flipped only after the configured dead ticks', async () => {
    const h = harness();
    const t = await h.store.createTaskIfAbsent({
      project: 'web',
      issueId: 'x',
      repo: 'acme/web',
      branch: 'task/x',
      title: 'x',
      description: 'x',
      snapshot: { stage: 'development', status: 'active', step: 1, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
      now: h.clock.now(),
    });
    if (!t.ok) throw t.error;
    await h.store.enqueueJob({
      taskId: t.value.task.id,
      stage: 'development',
      agent: 'developer',
      kind: 'agent',
      stepKey: `${t.value.task.id}:1`,
      attempt: 1,
      input: { description: 'x' },
      availableAt: 0,
      now: h.clock.now(),
    });
    const [claimedJob] = (await h.store.claimJobs({ maxConcurrency: 1, now: h.clock.now() })).unwrapOr([]);
    if (!claimedJob) throw new Error('no job');
    const started = await createProcessLauncher().launch({
      jobId: claimedJob.id,
      command: process.execPath,
      args: ['-e', 'setInterval(()=>{},1000)'],
    });
    if (!started.ok) throw started.error;
    await h.store.setJobPid(claimedJob.id, started.value.pid);
    process.kill(started.value.pid, 'SIGKILL');
    await started.value.exited;
    const reaper = createReaper({
      store: h.store,
      pipeline: h.pipeline,
      probe: createProcessProbe(),
      clock: h.clock,
      logger: h.logger,
      deadTicks: 3,
    });
    for (let i = 1; i <= 2; i += 1) {
      await reaper.tick();
      expect((await h.store.getJob(claimedJob.id)).unwrapOr(undefined)?.status).toBe('running');
    }
    await reaper.tick();
    const flipped = (await h.store.getJob(claimedJob.id)).unwrapOr(undefined);
    expect(flipped).toMatchObject({
      status: 'failed',
      reason: `pid ${started.value.pid} dead for 3 consecutive reaper ticks`,
    });
    const task = (await h.store.getTask(t.value.task.id)).unwrapOr(undefined);
    expect(task?.snapshot).toMatchObject({ step: 2, jobAttempts: 1 });
    expect(reaper.status()).toMatchObject({ name: 'reaper', ticks: 3, last: { reaped: 1 } });
  });

  it('reclaims expired leases and survives a throwing store', async () => {
    const h = harness();
    await h.store.acquireLease({ name: 'merge:acme/web', holder: 'task:gone', ttlMs: 1000, now: h.clock.now() });
    const reaper = createReaper({
      store: h.store,
      pipeline: h.pipeline,
      probe: createProcessProbe(),
      clock: h.clock,
      logger: h.logger,
    });
    h.clock.advance(2000);
    const counts = await reaper.tick();
    expect(counts.leasesReclaimed).toBe(1);
    expect((await h.store.getLease('merge:acme/web')).unwrapOr(undefined)).toBeUndefined();

    const broken = createReaper({
      store: {
        ...h.store,
        listJobs: async () => {
          throw new Error('boom');
        },
      },
      pipeline: h.pipeline,
      probe: createProcessProbe(),
      clock: h.clock,
      logger: h.logger,
    });
    await broken.tick();
    expect(broken.status().lastError).toBe('boom');
  });
});

describe('reaper probing', () => {
  it('probes each pid once per tick, however many running jobs share it', async () => {
    const h = harness();
    for (const id of ['1', '2', '3']) {
      await h.pipeline.handle({
        kind: 'tracker.issue',
        action: 'created',
        issue: { id, project: 'web', title: id, description: '', state: 'Todo' },
      });
    }
    const claimed = (await h.store.claimJobs({ maxConcurrency: 10, now: h.clock.now() })).unwrapOr([]);
    expect(claimed).toHaveLength(3);
    for (const j of claimed) await h.store.setJobPid(j.id, 777_001);
    const probed: number[] = [];
    const reaper = createReaper({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      probe: {
        isAlive: async (pid) => {
          probed.push(pid);
          return ok(true);
        },
      },
    });
    await reaper.tick();
    await reaper.tick();
    expect(probed).toEqual([777_001, 777_001]);
  });
});
