import { createMemoryStore } from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';
import { createReconciler, decideReconcile } from '../src/daemons/index.js';
import type { Task } from '../src/ports/domain.js';
import { fakeTracker, harness, issue, runDecisions } from './helpers/harness.js';

async function toGating(h: ReturnType<typeof harness>): Promise<Task> {
  await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
  const [job] = (await h.store.claimJobs({ maxConcurrency: 1, now: h.clock.now() })).unwrapOr([]);
  if (!job) throw new Error('no job');
  const flip = await h.store.finishJob({ jobId: job.id, status: 'succeeded', exitCode: 0, now: h.clock.now() });
  if (!flip.ok) throw flip.error;
  // a crash right after the flip: nobody advanced; then the approval arrives
  const task = (await h.store.getTask(job.taskId)).unwrapOr(undefined);
  if (!task) throw new Error('no task');
  return task;
}

describe('decideReconcile (pure)', () => {
  const base: Task = {
    id: 't',
    project: 'web',
    issueId: '1',
    repo: 'acme/web',
    branch: 'b',
    title: 't',
    description: '',
    snapshot: { stage: 'development', status: 'active', step: 2, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
  it('leaves busy, fresh, terminal and waiting tasks alone', () => {
    expect(decideReconcile({ task: base, hasActiveJob: true }, 10_000, 1000)).toBeUndefined();
    expect(decideReconcile({ task: base, hasActiveJob: false }, 500, 1000)).toBeUndefined();
    const done = { ...base, snapshot: { ...base.snapshot, status: 'done' as const } };
    expect(decideReconcile({ task: done, hasActiveJob: false }, 10_000, 1000)).toBeUndefined();
    const waiting = { ...base, snapshot: { ...base.snapshot, status: 'awaiting_approval' as const } };
    expect(decideReconcile({ task: waiting, hasActiveJob: false }, 10_000, 1000)).toBeUndefined();
  });
  it('starts, enqueues, advances or decides what a crash left', () => {
    const fresh = { ...base, snapshot: { ...base.snapshot, step: 0 } };
    expect(decideReconcile({ task: fresh, hasActiveJob: false }, 10_000, 1000)?.type).toBe('start');
    expect(decideReconcile({ task: base, hasActiveJob: false }, 10_000, 1000)?.type).toBe('enqueue');
    const gating = { ...base, snapshot: { ...base.snapshot, status: 'gating' as const } };
    expect(decideReconcile({ task: gating, hasActiveJob: false }, 10_000, 1000)?.type).toBe('settle');
    // blocked waits for a person, like awaiting approval
    const blocked = { ...base, snapshot: { ...base.snapshot, status: 'blocked' as const } };
    expect(decideReconcile({ task: blocked, hasActiveJob: false }, 10_000, 1000)).toBeUndefined();
  });
});

/** A gating task whose decision was recorded (outcome and all) and never applied: a crash in between. */
async function toDecidedGating(
  h: ReturnType<typeof harness>,
  outcome: { status: 'pass' | 'fail'; summary: string },
): Promise<Task> {
  const task = await toGating(h);
  const current = (await h.store.getTask(task.id)).unwrapOr(undefined);
  if (!current) throw new Error('task');
  const step = current.snapshot.step + 1;
  const saved = await h.store.saveTransition({
    taskId: task.id,
    expectedVersion: current.version,
    snapshot: { ...current.snapshot, status: 'gating', step },
    cause: 'approved',
    now: h.clock.now(),
  });
  if (!saved.ok) throw saved.error;
  const started = await h.store.startDecision({
    taskId: task.id,
    edge: 'analysis->development',
    step,
    headSha: 'h',
    baseSha: 'b',
    baseBranch: 'main',
    fence: 1,
    now: h.clock.now(),
  });
  if (!started.ok) throw started.error;
  const finished = await h.store.finishDecision({
    decisionId: started.value.decision.id,
    fence: 1,
    outcome: { ...outcome, findingsText: '' },
    now: h.clock.now(),
  });
  if (!finished.ok) throw finished.error;
  return saved.value;
}

describe('reconciler', () => {
  it('advances a finished-but-never-advanced job; re-enqueues a lost decision job without running a gate itself', async () => {
    const h = harness();
    const task = await toGating(h);
    const reconciler = createReconciler({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      notifier: h.notifier,
      defaultGraceSeconds: 0,
      graceSeconds: {},
    });
    h.clock.advance(16 * 60_000);
    const first = await reconciler.tick();
    expect(first.unblocked).toBe(1);
    expect((await h.store.getTask(task.id)).unwrapOr(undefined)?.snapshot.status).toBe('awaiting_approval');

    // the approval was saved but its effect (the decision job) was lost in a crash
    const current = (await h.store.getTask(task.id)).unwrapOr(undefined);
    if (!current) throw new Error('task');
    await h.store.saveTransition({
      taskId: task.id,
      expectedVersion: current.version,
      snapshot: { ...current.snapshot, status: 'gating', step: current.snapshot.step + 1 },
      cause: 'approved',
      now: h.clock.now(),
    });
    h.clock.advance(16 * 60_000);
    const cardsBefore = h.notifier.cards.length;
    const second = await reconciler.tick();
    expect(second.unblocked).toBe(1);
    expect(h.gateRuns).toEqual([]);
    const jobs = (await h.store.listJobs({ taskId: task.id, statuses: ['queued'] })).unwrapOr([]);
    expect(jobs.map((j) => [j.kind, j.stepKey, j.edge])).toEqual([
      ['decision', `${task.id}:${current.snapshot.step + 1}`, 'analysis->development'],
    ]);
    // the worker runs it; the task moves on
    expect(await runDecisions(h)).toBe(1);
    expect((await h.store.getTask(task.id)).unwrapOr(undefined)?.snapshot).toMatchObject({
      stage: 'development',
      status: 'active',
    });
    expect(h.notifier.cards.length).toBeGreaterThan(cardsBefore);
    expect(h.logger.lines.some((l) => l.message === 'unblocked a task' && l.fields?.taskId === task.id)).toBe(true);
  });

  it('applies a recorded outcome a crash left unapplied, once, even with two reconcilers racing', async () => {
    const h = harness();
    const gating = await toDecidedGating(h, { status: 'pass', summary: 'recorded green' });
    const make = () =>
      createReconciler({
        store: h.store,
        pipeline: h.pipeline,
        clock: h.clock,
        logger: h.logger,
        defaultGraceSeconds: 0,
        graceSeconds: {},
      });
    h.clock.advance(16 * 60_000);
    const [a, b] = await Promise.all([make().tick(), make().tick()]);
    expect((a.unblocked ?? 0) + (b.unblocked ?? 0)).toBe(1);
    const moved = (await h.store.getTask(gating.id)).unwrapOr(undefined);
    expect(moved?.snapshot).toMatchObject({ stage: 'development', status: 'active' });
    expect(moved?.snapshot.lastVerdict?.summary).toBe('recorded green');
    // no gate ran: the record decided
    expect(h.gateRuns).toEqual([]);
    const history = (await h.store.listHistory(gating.id)).unwrapOr([]);
    expect(history.filter((e) => e.cause === 'gates.decided')).toHaveLength(1);
    const [decision] = (await h.store.listDecisions(gating.id)).unwrapOr([]);
    expect(decision?.appliedAt).toBeDefined();
  });

  it('a decided red outcome is applied once from the record (no gate re-run), and an applied one stays silent', async () => {
    const h = harness();
    const gating = await toDecidedGating(h, { status: 'fail', summary: 'not yet' });
    const reconciler = createReconciler({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      notifier: h.notifier,
    });
    h.clock.advance(16 * 60_000);
    const first = await reconciler.tick();
    expect(first.unblocked).toBe(1);
    // analysis->development has no rollback: the recorded fail fails the task, without any gate run
    expect((await h.store.getTask(gating.id)).unwrapOr(undefined)?.snapshot.status).toBe('failed');
    expect(h.gateRuns).toEqual([]);
    const cards = h.notifier.cards.length;
    for (let i = 0; i < 3; i += 1) expect((await reconciler.tick()).unblocked).toBe(0);
    expect(h.notifier.cards.length).toBe(cards);
  });

  it('a decision whose job ended with no outcome (its host died) becomes an error and is decided again', async () => {
    const h = harness();
    const task = await toGating(h);
    await h.pipeline.advance(task.id, (await h.store.listJobs({ taskId: task.id })).unwrapOr([])[0]);
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Approved') });
    const [job] = (await h.store.claimJobs({ maxConcurrency: 1, now: h.clock.now() })).unwrapOr([]);
    if (job?.kind !== 'decision') throw new Error('expected the decision job');
    // the runner recorded the decision, then its host died; a reaper flipped the job
    await h.store.startDecision({
      taskId: task.id,
      edge: 'analysis->development',
      step: Number(job.stepKey.split(':')[1]),
      headSha: 'h1',
      baseSha: 'b1',
      baseBranch: 'main',
      fence: 1,
      now: h.clock.now(),
    });
    await h.store.finishJob({
      jobId: job.id,
      status: 'failed',
      exitCode: null,
      reason: 'pid dead',
      now: h.clock.now(),
    });
    const reconciler = createReconciler({ store: h.store, pipeline: h.pipeline, clock: h.clock, logger: h.logger });
    h.clock.advance(16 * 60_000);
    expect((await reconciler.tick()).unblocked).toBe(1);
    const after = (await h.store.getTask(task.id)).unwrapOr(undefined);
    expect(after?.snapshot).toMatchObject({ stage: 'analysis', status: 'gating', decisionErrors: 1 });
    const decisions = (await h.store.listDecisions(task.id)).unwrapOr([]);
    expect(decisions[0]).toMatchObject({ headSha: 'h1', outcome: { status: 'error' } });
    expect(decisions[0]?.outcome?.summary).toContain('ended with no outcome');
    expect(h.gateRuns).toEqual([]);
  });

  it('polls the tracker through every page and replays what no webhook delivered; releases leases of finished tasks', async () => {
    const h = harness();
    const issues = ['1', '2', '3', '4', '5'].map((id) => issue(id));
    const reconciler = createReconciler({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      tracker: fakeTracker(issues),
      pollStates: ['Todo'],
    });
    const counts = await reconciler.tick();
    expect(counts).toMatchObject({ polled: 5, replayed: 5 });
    expect((await h.store.listTasks({})).unwrapOr([])).toHaveLength(5);
    const again = await reconciler.tick();
    expect(again).toMatchObject({ polled: 5 });
    expect(again.replayed ?? 0).toBe(0);

    const [first] = (await h.store.listTasks({})).unwrapOr([]);
    if (!first) throw new Error('task');
    await h.store.acquireLease({
      name: 'merge:acme/web',
      holder: `task:${first.id}`,
      ttlMs: 3_600_000,
      now: h.clock.now(),
    });
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Cancelled') });
    // the rejection released it already; hold it again as if the release were lost in a crash
    await h.store.acquireLease({
      name: 'merge:acme/web',
      holder: `task:${first.id}`,
      ttlMs: 3_600_000,
      now: h.clock.now(),
    });
    const cleaned = await reconciler.tick();
    expect(cleaned.leasesReleased).toBe(1);
    expect((await h.store.getLease('merge:acme/web')).unwrapOr(undefined)).toBeUndefined();
  });

  it('settles a gating task whose outcome is applied from the row it listed, without reading the task again', async () => {
    const inner = createMemoryStore();
    let taskReads = 0;
    const store: typeof inner = Object.create(inner, {
      getTask: {
        value: (taskId: string) => {
          taskReads += 1;
          return inner.getTask(taskId);
        },
      },
    });
    const h = harness({ store });
    const gating = await toDecidedGating(h, { status: 'fail', summary: 'still red' });
    const decision = (await store.getDecision(gating.id, gating.snapshot.step)).unwrapOr(undefined);
    if (!decision) throw new Error('no decision');
    // applied already (by a host that then died before anything else): nothing is left to do
    await store.markDecisionApplied(decision.id, h.clock.now());
    const reconciler = createReconciler({ store, pipeline: h.pipeline, clock: h.clock, logger: h.logger });
    h.clock.advance(16 * 60_000);
    taskReads = 0;
    expect(await reconciler.tick()).toMatchObject({ examined: 1, stuck: 1, silent: 1, unblocked: 0 });
    expect(taskReads).toBe(0);
    expect((await store.getTask(gating.id)).unwrapOr(undefined)?.snapshot.status).toBe('gating');
    expect(h.gateRuns).toEqual([]);
  });
});
