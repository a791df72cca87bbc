import { describe, expect, it } from 'vitest';
import { createReconciler } from '../src/daemons/index.js';
import type { EdgeVerdict } from '../src/gates/types.js';
import { taskOfLeaseHolder } from '../src/pipeline/index.js';
import type { PipelineOptions } from '../src/pipeline/types.js';
import type { Job } from '../src/ports/domain.js';
import type { Forge } from '../src/ports/forge.js';
import { ConveyorError } from '../src/result/errors.js';
import { ok } from '../src/result/result.js';
import { fakeTracker, harness, issue, runDecisions } from './helpers/harness.js';

type H = ReturnType<typeof harness>;

/** Claims every queued job, flips each with `exitCode` and advances, like a worker. */
async function runJobs(h: H, exitCode: number): Promise<Job[]> {
  const claimed = await h.store.claimJobs({ maxConcurrency: 10, now: h.clock.now() });
  if (!claimed.ok) throw claimed.error;
  if (claimed.value.length === 0) throw new Error('no job to run');
  for (const job of claimed.value) await finishAndAdvance(h, job, exitCode);
  // the decisions the finished jobs queued run next, as the worker would run them
  await runDecisions(h);
  return claimed.value;
}

async function runNextJob(h: H, exitCode: number): Promise<Job> {
  const jobs = await runJobs(h, exitCode);
  expect(jobs).toHaveLength(1);
  return jobs[0] as Job;
}

async function finishAndAdvance(h: H, job: Job, exitCode: number): Promise<void> {
  const flip = await h.store.finishJob({
    jobId: job.id,
    status: exitCode === 0 ? 'succeeded' : 'failed',
    exitCode,
    now: h.clock.now(),
  });
  if (!flip.ok || !flip.value.won) throw new Error('flip lost');
  const advanced = await h.pipeline.advance(job.taskId, flip.value.job);
  if (!advanced.ok) throw advanced.error;
}

async function onlyTask(h: H) {
  const tasks = await h.store.listTasks({});
  if (!tasks.ok) throw tasks.error;
  expect(tasks.value).toHaveLength(1);
  return tasks.value[0] as NonNullable<(typeof tasks.value)[0]>;
}

async function jobsOf(h: H, taskId: string) {
  const jobs = await h.store.listJobs({ taskId });
  if (!jobs.ok) throw jobs.error;
  return jobs.value;
}

describe('pipeline', () => {
  it('a webhook and the reconciler racing on one issue make one task with one job', async () => {
    const h = harness();
    const tracker = fakeTracker([issue('1')]);
    const reconciler = createReconciler({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      tracker,
      pollStates: ['Todo'],
    });
    const [webhook] = await Promise.all([
      h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') }),
      reconciler.tick(),
      h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1') }),
    ]);
    expect(webhook.ok).toBe(true);
    const task = await onlyTask(h);
    expect(task).toMatchObject({ repo: 'acme/web', branch: 'task/WEB-1', issueId: '1' });
    expect(task.snapshot).toMatchObject({ stage: 'analysis', status: 'active', step: 1 });
    const jobs = await jobsOf(h, task.id);
    expect(jobs.map((j) => j.stepKey)).toEqual([`${task.id}:1`]);
    const history = await h.store.listHistory(task.id);
    expect(history.ok && history.value.map((e) => e.cause)).toEqual(['task.created']);
  });

  it('ignores issues outside the start states and unknown routes', async () => {
    const h = harness({ pipeline: { repo: undefined as unknown as string } });
    const backlog = await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('2', 'Backlog') });
    expect(backlog.ok && backlog.value.action).toBe('ignored');
    const noRoute = await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('3') });
    expect(noRoute.ok && noRoute.value).toMatchObject({ action: 'ignored' });
    const tasks = await h.store.listTasks({});
    expect(tasks.ok && tasks.value).toEqual([]);
  });

  it('a failing gate rolls back to development with the findings verbatim in the next job input', async () => {
    const findings = 'src/app.ts:12 [generic-api-key] a secret (fingerprint abc…123)\n  second line, kept as is';
    let developmentRounds = 0;
    const decided: EdgeVerdict[] = [];
    const h = harness({
      pipeline: {
        events: {
          emit: (name: string, payload: unknown) => {
            if (name === 'edge.decided') decided.push((payload as { verdict: EdgeVerdict }).verdict);
            return true;
          },
        } as NonNullable<PipelineOptions['events']>,
      },
      gate: (ctx) => {
        if (ctx.edge !== 'development->deploy-staging') return { status: 'pass', summary: 'ok' };
        developmentRounds += 1;
        return developmentRounds === 1
          ? { status: 'fail', summary: 'secret found', findings: [{ message: findings, severity: 'error' }] }
          : { status: 'pass', summary: 'clean' };
      },
    });
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    await runNextJob(h, 0); // analysis
    const approved = await h.pipeline.handle({
      kind: 'tracker.issue',
      action: 'updated',
      issue: issue('1', 'Approved'),
    });
    expect(approved.ok && approved.value.action).toBe('advanced');
    await runDecisions(h);
    let task = await onlyTask(h);
    // step 1 analysis, 2 its decision, 3 development
    expect(task.snapshot).toMatchObject({ stage: 'development', status: 'active', step: 3 });
    await runNextJob(h, 0); // development, gate fails
    task = await onlyTask(h);
    expect(task.snapshot).toMatchObject({ stage: 'development', status: 'active', step: 5, developerRetries: 1 });
    const jobs = await jobsOf(h, task.id);
    const retry = jobs.find((j) => j.stepKey === `${task.id}:5`);
    // one edge.decided per decision: analysis->development, then the failed development decision
    expect(decided.map((v) => [v.edge, v.status])).toEqual([
      ['analysis->development', 'pass'],
      ['development->deploy-staging', 'fail'],
    ]);
    const failed = decided.find((v) => v.status === 'fail');
    expect(failed?.findingsText).toContain('src/app.ts:12 [generic-api-key]');
    expect(retry?.input.findings).toBe(failed?.findingsText);
    expect(task.snapshot.findings).toBe(failed?.findingsText);
    expect(retry?.input.description).toBe('Do 1');
    expect(task.snapshot.lastVerdict).toMatchObject({ edge: 'development->deploy-staging', status: 'fail' });
    const history = await h.store.listHistory(task.id);
    const rollback = history.ok
      ? history.value.find(
          (e) => e.cause === 'gates.decided' && e.fromStatus === 'gating' && e.fromStage === 'development',
        )
      : undefined;
    expect(rollback?.verdictSummary).toContain('secret found');

    await runNextJob(h, 0); // development again, gate passes
    await runNextJob(h, 0); // deploy-staging
    await runNextJob(h, 0); // deploy
    task = await onlyTask(h);
    expect(task.snapshot).toMatchObject({ stage: 'done', status: 'done' });
    expect(h.notifier.cards.at(-1)?.stages.map((s) => s.mark)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(h.notifier.cards.at(-1)?.lastVerdict).toContain('deploy->done: pass');
  });

  it('a forge status resolves through the event branches, the only task in development, or not at all', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('2') });
    await runJobs(h, 0); // both analyses
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Approved') });
    await runDecisions(h);
    const all = await h.store.listTasks({});
    const first = all.ok ? all.value.find((t) => t.issueId === '1') : undefined;
    if (!first) throw new Error('first task missing');
    expect(first.snapshot.stage).toBe('development');

    const viaBranch = await h.pipeline.handle({
      kind: 'forge.status',
      repo: 'acme/web',
      sha: 'abc',
      context: 'ci',
      state: 'success',
      branches: ['task/WEB-1'],
    });
    expect(viaBranch.ok && viaBranch.value).toMatchObject({ action: 'resolved', taskId: first.id });

    const fallback = await h.pipeline.handle({
      kind: 'forge.status',
      repo: 'acme/web',
      sha: 'def',
      context: 'ci',
      state: 'success',
    });
    expect(fallback.ok && fallback.value).toMatchObject({ action: 'resolved', taskId: first.id });

    await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('2', 'Approved') });
    await runDecisions(h, { claimAgentJobs: true });
    const several = await h.pipeline.handle({
      kind: 'forge.status',
      repo: 'acme/web',
      sha: 'ghi',
      context: 'ci',
      state: 'success',
    });
    expect(several.ok && several.value.action).toBe('unresolved');
    expect(several.ok && several.value.reason).toContain('several tasks');
    expect(h.logger.lines.some((l) => l.message === 'status event not resolved to a task')).toBe(true);

    const forgeResolved = harness({
      pipeline: {
        forge: { resolveShaToBranch: async () => ok('task/WEB-9') } as unknown as Forge,
      },
    });
    await forgeResolved.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('9') });
    const resolved = await forgeResolved.pipeline.handle({
      kind: 'forge.status',
      repo: 'acme/web',
      sha: 'x',
      context: 'ci',
      state: 'pending',
    });
    expect(resolved.ok && resolved.value.action).toBe('resolved');
  });

  it('a merged pull request releases the merge lease only for its task', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const task = await onlyTask(h);
    await h.store.acquireLease({
      name: 'merge:acme/web',
      holder: `task:${task.id}`,
      ttlMs: 60_000,
      now: h.clock.now(),
    });
    const other = await h.pipeline.handle({
      kind: 'forge.pull_request',
      repo: 'acme/web',
      number: 1,
      action: 'closed',
      merged: true,
      base: 'main',
      head: 'task/OTHER',
      headSha: 'a',
    });
    expect(other.ok && other.value.action).toBe('unresolved');
    const lease = await h.store.getLease('merge:acme/web');
    expect(lease.ok && lease.value?.holder).toBe(`task:${task.id}`);
    const merged = await h.pipeline.handle({
      kind: 'forge.pull_request',
      repo: 'acme/web',
      number: 2,
      action: 'closed',
      merged: true,
      base: 'main',
      head: 'task/WEB-1',
      headSha: 'b',
    });
    expect(merged.ok && merged.value).toMatchObject({ action: 'released', taskId: task.id });
    const after = await h.store.getLease('merge:acme/web');
    expect(after.ok && after.value).toBeUndefined();
  });

  it('recognises a host-prefixed holder (as the merge gate uses) as the task own, and never releases the lease of another task', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const task = await onlyTask(h);
    const mergedEvent = {
      kind: 'forge.pull_request',
      repo: 'acme/web',
      number: 3,
      action: 'closed',
      merged: true,
      base: 'main',
      head: 'task/WEB-1',
      headSha: 'c',
    } as const;

    // Another task holds the repository's merge lease: the PR-merged event of this task leaves it alone.
    await h.store.acquireLease({
      name: 'merge:acme/web',
      holder: 'ci-1:99/task:task_999',
      ttlMs: 60_000,
      now: h.clock.now(),
    });
    const untouched = await h.pipeline.handle(mergedEvent);
    expect(untouched.ok && untouched.value.action).toBe('unchanged');
    expect((await h.store.getLease('merge:acme/web')).unwrapOr(undefined)?.holder).toBe('ci-1:99/task:task_999');
    await h.store.releaseLease({ name: 'merge:acme/web', holder: 'ci-1:99/task:task_999' });

    // This task's grant, held under the gate's `<host>/task:<id>` holder, is released.
    await h.store.acquireLease({
      name: 'merge:acme/web',
      holder: `ci-1:42/task:${task.id}`,
      ttlMs: 60_000,
      now: h.clock.now(),
    });
    const released = await h.pipeline.handle(mergedEvent);
    expect(released.ok && released.value).toMatchObject({ action: 'released', taskId: task.id });
    expect((await h.store.getLease('merge:acme/web')).unwrapOr('still held')).toBeUndefined();
  });

  it('taskOfLeaseHolder reads plain and host-prefixed holders only', () => {
    expect(taskOfLeaseHolder('task:task_1')).toBe('task_1');
    expect(taskOfLeaseHolder('host-a:12/task:task_1')).toBe('task_1');
    expect(taskOfLeaseHolder('host-a:12/t1')).toBeUndefined();
    expect(taskOfLeaseHolder('mytask:task_1')).toBeUndefined();
  });

  it('effects performed again after a crash are harmless: one job per step, the card updated in place', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const task = await onlyTask(h);
    // replay everything a restarted host might do again
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    await h.pipeline.enqueueCurrentStep(task.id);
    await h.pipeline.enqueueCurrentStep(task.id);
    await h.pipeline.advance(task.id);
    const jobs = await jobsOf(h, task.id);
    expect(jobs).toHaveLength(1);
    expect(new Set(h.notifier.cards.map((c) => c.taskId))).toEqual(new Set([task.id]));
    const history = await h.store.listHistory(task.id);
    expect(history.ok && history.value).toHaveLength(1);
  });

  it('a failing effect keeps the stored transition, and the reconciler re-performs the lost enqueue', async () => {
    let failEnqueue = true;
    const h = harness({
      storeOptions: {
        fault: (method) =>
          method === 'enqueueJob' && failEnqueue
            ? new ConveyorError('@conveyor/testkit', 'network', 'store down')
            : undefined,
      },
    });
    const handled = await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    expect(handled.ok).toBe(true);
    const task = await onlyTask(h);
    expect(task.snapshot).toMatchObject({ stage: 'analysis', status: 'active', step: 1 });
    expect(await jobsOf(h, task.id)).toEqual([]);
    expect(h.logger.lines.some((l) => l.level === 'error' && l.fields?.effect === 'enqueue_job')).toBe(true);

    failEnqueue = false;
    const reconciler = createReconciler({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      notifier: h.notifier,
      graceSeconds: { analysis: 60 },
    });
    const early = await reconciler.tick();
    expect(early.unblocked).toBe(0);
    h.clock.advance(61_000);
    const repaired = await reconciler.tick();
    expect(repaired.unblocked).toBe(1);
    const jobs = await jobsOf(h, task.id);
    expect(jobs.map((j) => [j.stepKey, j.agent, j.status])).toEqual([[`${task.id}:1`, 'analyst', 'queued']]);
    expect(reconciler.status().totals.unblocked).toBe(1);
  });
});
