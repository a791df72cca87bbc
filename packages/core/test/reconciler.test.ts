import { describe, expect, it } from 'vitest';
import { createReconciler, decideReconcile } from '../src/daemons/index.js';
import type { Task } from '../src/ports/domain.js';
import { fakeTracker, harness, issue } from './helpers/harness.js';

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
    expect(decideReconcile({ task: gating, hasActiveJob: false }, 10_000, 1000)?.type).toBe('decide');
  });
});

describe('reconciler', () => {
  it('advances a finished-but-never-advanced job, and a gating task whose read-only gates are green', async () => {
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

    // approval saved but the run_gates effect lost: simulate by saving the gating snapshot directly
    const current = (await h.store.getTask(task.id)).unwrapOr(undefined);
    if (!current) throw new Error('task');
    await h.store.saveTransition({
      taskId: task.id,
      expectedVersion: current.version,
      snapshot: { ...current.snapshot, status: 'gating' },
      cause: 'approved',
      now: h.clock.now(),
    });
    h.clock.advance(16 * 60_000);
    const cardsBefore = h.notifier.cards.length;
    const second = await reconciler.tick();
    expect(second.unblocked).toBe(1);
    const moved = (await h.store.getTask(task.id)).unwrapOr(undefined);
    expect(moved?.snapshot).toMatchObject({ stage: 'development', status: 'active' });
    expect(h.gateRuns.at(-1)).toMatchObject({ edge: 'analysis->development', readOnly: true });
    expect(h.notifier.cards.length).toBeGreaterThan(cardsBefore);
    expect(h.logger.lines.some((l) => l.message === 'unblocked a task' && l.fields?.taskId === task.id)).toBe(true);
  });

  it('stays silent on a red read-only verdict when re-running lost gates is off, and re-runs them otherwise', async () => {
    const h = harness({ gate: () => ({ status: 'fail', summary: 'not yet' }) });
    const task = await toGating(h);
    await h.pipeline.advance(task.id, (await h.store.listJobs({ taskId: task.id })).unwrapOr([])[0]);
    const current = (await h.store.getTask(task.id)).unwrapOr(undefined);
    if (!current) throw new Error('task');
    await h.store.saveTransition({
      taskId: task.id,
      expectedVersion: current.version,
      snapshot: { ...current.snapshot, status: 'gating' },
      cause: 'approved',
      now: h.clock.now(),
    });
    const quiet = createReconciler({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      notifier: h.notifier,
      rerunLostGates: false,
    });
    h.clock.advance(16 * 60_000);
    const cards = h.notifier.cards.length;
    for (let i = 0; i < 3; i += 1) {
      const counts = await quiet.tick();
      expect(counts).toMatchObject({ red: 1, unblocked: 0 });
    }
    expect(h.notifier.cards.length).toBe(cards);
    expect((await h.store.getTask(task.id)).unwrapOr(undefined)?.snapshot.status).toBe('gating');

    const repairing = createReconciler({ store: h.store, pipeline: h.pipeline, clock: h.clock, logger: h.logger });
    const counts = await repairing.tick();
    expect(counts.unblocked).toBe(1);
    // analysis->development has no rollback: the failed gate fails the task
    expect((await h.store.getTask(task.id)).unwrapOr(undefined)?.snapshot.status).toBe('failed');
    expect(h.gateRuns.filter((r) => !r.readOnly)).toHaveLength(1);
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
});
