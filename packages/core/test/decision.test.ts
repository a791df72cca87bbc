import { createMemoryStore } from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';
import { createGateRegistry } from '../src/gates/index.js';
import type { DecisionPin, GateContext } from '../src/gates/types.js';
import { createPipeline } from '../src/pipeline/index.js';
import type { PinResolver, Pipeline } from '../src/pipeline/types.js';
import type { Job } from '../src/ports/domain.js';
import type { Tracker } from '../src/ports/tracker.js';
import { ConveyorError } from '../src/result/errors.js';
import { err, ok } from '../src/result/result.js';
import { DEFAULT_STAGES, defineStages } from '../src/stages/index.js';
import { testClock } from './helpers/clock.js';
import { fakeTracker, issue, memoryLogger, recordingNotifier, runDecisions } from './helpers/harness.js';

const EDGE = 'deploy-staging->deploy';

/** A pin resolver over a mutable "repository": what the branch and main point at right now. */
function fakeRepo() {
  const repo = { head: 'h1', base: 'b1', resolved: 0 };
  const resolvePin: PinResolver = async () => {
    repo.resolved += 1;
    return ok({ headSha: repo.head, baseSha: repo.base, baseBranch: 'main' });
  };
  return { repo, resolvePin };
}

function world(
  gate: (ctx: GateContext) => Promise<{ status: 'pass' | 'fail' | 'defer' | 'error'; summary: string }>,
  extra: { tracker?: Tracker; resolvePin?: PinResolver; maxDecisionErrors?: number } = {},
) {
  const clock = testClock();
  const store = createMemoryStore();
  const logger = memoryLogger();
  const notifier = recordingNotifier();
  const decided: string[] = [];
  const events = {
    emit: (name: string, payload: unknown) => {
      if (name === 'edge.decided') decided.push((payload as { taskId: string }).taskId);
      return true;
    },
  } as never;
  const spec = defineStages({
    stages: DEFAULT_STAGES.stages,
    maxDecisionErrors: extra.maxDecisionErrors ?? 2,
    decisionRetryDelayMs: 1_000,
  });
  if (!spec.ok) throw spec.error;
  const gates = createGateRegistry({ clock, stages: spec.value });
  const pass = async () => ({ status: 'pass' as const, summary: 'ok' });
  for (const edge of spec.value.edges) {
    const id = `${edge.from}->${edge.to}`;
    gates.register(id, { id: id === EDGE ? 'merge' : 'check', run: id === EDGE ? gate : pass });
  }
  const make = (holderId: string): Pipeline =>
    createPipeline({
      store,
      stages: spec.value,
      gates,
      clock,
      logger,
      notifier,
      events,
      repo: 'acme/web',
      holderId,
      ...(extra.tracker === undefined ? {} : { tracker: extra.tracker }),
      ...(extra.resolvePin === undefined ? {} : { resolvePin: extra.resolvePin }),
    });
  return { clock, store, logger, notifier, decided, pipeline: make('host-a'), make, spec: spec.value };
}

type World = ReturnType<typeof world>;

/** Brings issue 1 to `deploy-staging` gating, every earlier gate passing; returns the task id. */
async function toDeployGating(w: World): Promise<string> {
  const h = { store: w.store, clock: w.clock, pipeline: w.pipeline };
  await w.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
  const finishAgent = async () => {
    const [job] = (await w.store.claimJobs({ maxConcurrency: 1, now: w.clock.now() })).unwrapOr([]);
    if (job === undefined || job.kind !== 'agent') throw new Error('expected an agent job');
    const flip = await w.store.finishJob({ jobId: job.id, status: 'succeeded', exitCode: 0, now: w.clock.now() });
    if (!flip.ok) throw flip.error;
    await w.pipeline.advance(job.taskId, flip.value.job);
  };
  await finishAgent(); // analysis
  await w.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Approved') });
  await runDecisions(h);
  await finishAgent(); // development
  await runDecisions(h);
  await finishAgent(); // deploy-staging
  const [task] = (await w.store.listTasks({})).unwrapOr([]);
  expect(task?.snapshot).toMatchObject({ stage: 'deploy-staging', status: 'gating' });
  return task?.id ?? '';
}

async function claimDecision(w: World): Promise<Job> {
  const [job] = (await w.store.claimJobs({ maxConcurrency: 5, now: w.clock.now() })).unwrapOr([]);
  if (job?.kind !== 'decision') throw new Error(`expected a decision job, got ${job?.kind}`);
  return job;
}

describe('decisions', () => {
  it('binds the decision to the commits resolved once at its start, recorded before any gate runs', async () => {
    const { repo, resolvePin } = fakeRepo();
    const seen: { pin?: DecisionPin; recorded?: unknown }[] = [];
    const w = world(
      async (ctx) => {
        const recorded = (await w.store.getDecision(ctx.task.id, ctx.decision?.step ?? -1)).unwrapOr(undefined);
        seen.push({ ...(ctx.decision === undefined ? {} : { pin: ctx.decision }), recorded });
        // the branch moves while the gate runs: the decision stays bound to what it started on
        repo.head = 'h2';
        return { status: 'pass', summary: 'merged' };
      },
      { resolvePin },
    );
    const taskId = await toDeployGating(w);
    const resolvedBefore = repo.resolved;
    const job = await claimDecision(w);
    const run = await w.pipeline.runDecision(job);
    expect(run.ok && run.value.action).toBe('applied');
    expect(repo.resolved - resolvedBefore).toBe(1);
    expect(seen[0]?.pin).toMatchObject({ headSha: 'h1', baseSha: 'b1', baseBranch: 'main' });
    expect(seen[0]?.recorded).toMatchObject({ headSha: 'h1', baseSha: 'b1', verdicts: [] });
    const decisions = (await w.store.listDecisions(taskId)).unwrapOr([]);
    const last = decisions.at(-1);
    expect(last).toMatchObject({ edge: EDGE, headSha: 'h1', outcome: { status: 'pass' } });
    expect(last?.verdicts.map((v) => v.gateId)).toEqual(['merge']);
    expect(last?.appliedAt).toBeDefined();
    expect(last?.id).toBe(seen[0]?.pin?.decisionId);
  });

  it('one edge.decided and one log line per decision', async () => {
    const w = world(async () => ({ status: 'pass', summary: 'merged' }));
    const taskId = await toDeployGating(w);
    const before = w.decided.length;
    const linesBefore = w.logger.lines.filter((l) => l.message === 'edge decided').length;
    await w.pipeline.runDecision(await claimDecision(w));
    expect(w.decided.length - before).toBe(1);
    expect(w.logger.lines.filter((l) => l.message === 'edge decided').length - linesBefore).toBe(1);
    const decisions = (await w.store.listDecisions(taskId)).unwrapOr([]);
    // analysis->development, development->deploy-staging, deploy-staging->deploy: one event each
    expect(w.decided).toHaveLength(decisions.length);
  });

  it('two hosts on one store racing the same decision: one runs the gates, the other is told it is busy', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const w = world(async () => {
      runs += 1;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { status: 'pass', summary: 'merged' };
    });
    const taskId = await toDeployGating(w);
    const job = await claimDecision(w);
    const hostB = w.make('host-b');
    const first = w.pipeline.runDecision(job);
    await new Promise((r) => setTimeout(r, 20));
    // host B (its worker, its reaper or its reconciler) reaches the same task meanwhile
    const second = await hostB.runDecision(job);
    const settled = await hostB.settleDecision(taskId);
    expect(second.ok && second.value.action).toBe('busy');
    expect(settled.ok && settled.value.action).toBe('busy');
    release();
    const done = await first;
    expect(done.ok && done.value.action).toBe('applied');
    expect(runs).toBe(1);
    const deploy = (await w.store.listDecisions(taskId)).unwrapOr([]).filter((d) => d.edge === EDGE);
    expect(deploy).toHaveLength(1);
    // and the decision lease is free again
    expect((await w.store.getLease(`decide:${taskId}`)).unwrapOr('held')).toBeUndefined();
  });

  it('a forge outage retries the decision with backoff, never the agent; past the cap the task is blocked with a comment and a card that say why', async () => {
    const comments: { issueId: string; html: string }[] = [];
    const tracker = { ...fakeTracker([issue('1')]) };
    tracker.comment = async (issueId: string, html: string) => {
      comments.push({ issueId, html });
      return ok();
    };
    let calls = 0;
    const w = world(
      async () => {
        calls += 1;
        return { status: 'error', summary: 'the forge answered 502 creating the pull request' };
      },
      { tracker, maxDecisionErrors: 2 },
    );
    const taskId = await toDeployGating(w);
    const h = { store: w.store, clock: w.clock, pipeline: w.pipeline };
    for (let i = 0; i < 3; i += 1) {
      expect(await runDecisions(h)).toBe(1);
      const task = (await w.store.getTask(taskId)).unwrapOr(undefined);
      if (i < 2) {
        expect(task?.snapshot).toMatchObject({ stage: 'deploy-staging', status: 'gating', decisionErrors: i + 1 });
        // the retry waits its backoff: nothing to claim yet
        expect(await runDecisions(h)).toBe(0);
        w.clock.advance(1_000 * 2 ** i);
      }
    }
    expect(calls).toBe(3);
    const task = (await w.store.getTask(taskId)).unwrapOr(undefined);
    expect(task?.snapshot).toMatchObject({ stage: 'deploy-staging', status: 'blocked', developerRetries: 0 });
    expect(task?.snapshot.reason).toContain('the forge answered 502');
    const jobs = (await w.store.listJobs({ taskId })).unwrapOr([]);
    expect(jobs.filter((j) => j.agent === 'developer')).toHaveLength(1);
    expect(jobs.filter((j) => j.status === 'queued' || j.status === 'running')).toEqual([]);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.html).toContain('the forge answered 502');
    expect(w.notifier.cards.at(-1)).toMatchObject({ status: 'blocked' });
    expect(w.notifier.cards.at(-1)?.lastVerdict).toContain('the forge answered 502');
  });

  it('a pin that cannot be resolved is an error (retried), never a verdict on unknown commits', async () => {
    let ran = 0;
    const w = world(
      async () => {
        ran += 1;
        return { status: 'pass', summary: 'merged' };
      },
      {
        resolvePin: async (task) =>
          task.snapshot.stage === 'deploy-staging'
            ? err(new ConveyorError('@conveyor/gates', 'network', 'git fetch timed out'))
            : ok({ headSha: 'h', baseSha: 'b', baseBranch: 'main' }),
      },
    );
    const taskId = await toDeployGating(w);
    const run = await w.pipeline.runDecision(await claimDecision(w));
    expect(run.ok && run.value.verdict?.status).toBe('error');
    expect(ran).toBe(0);
    expect((await w.store.getTask(taskId)).unwrapOr(undefined)?.snapshot).toMatchObject({
      status: 'gating',
      decisionErrors: 1,
    });
    const last = (await w.store.listDecisions(taskId)).unwrapOr([]).at(-1);
    expect(last?.outcome?.summary).toContain('cannot resolve the commits to decide: git fetch timed out');
  });

  it('a branch the resolver does not find yet (an analysis edge) is decided unpinned', async () => {
    const pins: (DecisionPin | undefined)[] = [];
    const w = world(
      async (ctx) => {
        pins.push(ctx.decision);
        return { status: 'pass', summary: 'ok' };
      },
      {
        resolvePin: async (task) =>
          task.snapshot.stage === 'deploy-staging'
            ? ok({ headSha: 'h9', baseSha: 'b9', baseBranch: 'main' })
            : err(
                new ConveyorError(
                  '@conveyor/gates',
                  'not_found',
                  `the task branch ${task.branch} is not on ${task.repo}`,
                ),
              ),
      },
    );
    const taskId = await toDeployGating(w);
    await w.pipeline.runDecision(await claimDecision(w));
    const decisions = (await w.store.listDecisions(taskId)).unwrapOr([]);
    expect(decisions.map((d) => [d.edge, d.headSha, d.outcome?.status])).toEqual([
      ['analysis->development', '', 'pass'],
      ['development->deploy-staging', '', 'pass'],
      [EDGE, 'h9', 'pass'],
    ]);
    expect(pins.at(-1)).toMatchObject({ headSha: 'h9' });
  });

  it('a stale decision job (the task moved on) runs no gate', async () => {
    let ran = 0;
    const w = world(async () => {
      ran += 1;
      return { status: 'pass', summary: 'merged' };
    });
    const taskId = await toDeployGating(w);
    const job = await claimDecision(w);
    await w.pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue('1', 'Cancelled') });
    const run = await w.pipeline.runDecision(job);
    expect(run.ok && run.value.action).toBe('stale');
    expect(ran).toBe(0);
    expect((await w.store.getTask(taskId)).unwrapOr(undefined)?.snapshot.status).toBe('rejected');
  });
});
