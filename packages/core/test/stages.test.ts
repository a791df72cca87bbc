import { describe, expect, it } from 'vitest';
import {
  DECISION_AGENT,
  DEFAULT_STAGES,
  defineStages,
  type EdgeVerdict,
  edgeId,
  initialSnapshot,
  outgoingEdge,
  type StageEvent,
  type StageSnapshot,
  type StagesSpec,
  transition,
} from '../src/index.js';

function verdict(edge: string, status: EdgeVerdict['status'], extra: Partial<EdgeVerdict> = {}): EdgeVerdict {
  return {
    edge,
    status,
    verdicts: [],
    summary: `${status} on ${edge}`,
    findingsText: status === 'pass' ? '' : `findings of ${edge}`,
    durationMs: 1,
    ...extra,
  };
}

function run(spec: StagesSpec, events: readonly StageEvent[], from: StageSnapshot = initialSnapshot(spec)) {
  let last = transition(spec, from, { type: 'task.created' });
  let snapshot = last.snapshot;
  for (const event of events) {
    last = transition(spec, snapshot, event);
    snapshot = last.snapshot;
  }
  return last;
}

/** Drives a default task to `development`, active, step 2. */
function inDevelopment(spec: StagesSpec = DEFAULT_STAGES): StageSnapshot {
  const s0 = transition(spec, initialSnapshot(spec), { type: 'task.created' }).snapshot;
  const s1 = transition(spec, s0, { type: 'job.finished', stage: 'analysis', exitCode: 0 }).snapshot;
  const s2 = transition(spec, s1, { type: 'approved' }).snapshot;
  return transition(spec, s2, {
    type: 'gates.decided',
    edge: 'analysis->development',
    verdict: verdict('analysis->development', 'pass'),
  }).snapshot;
}

function gatingDevelopment(spec: StagesSpec = DEFAULT_STAGES): StageSnapshot {
  return transition(spec, inDevelopment(spec), { type: 'job.finished', stage: 'development', exitCode: 0 }).snapshot;
}

const DEV_EDGE = 'development->deploy-staging';

describe('defineStages', () => {
  it('fills every default', () => {
    const spec = defineStages({
      stages: [{ id: 'development', agent: 'developer' }, { id: 'review', agent: 'r' }, { id: 'done' }],
    });
    expect(spec.ok).toBe(true);
    if (!spec.ok) return;
    expect(spec.value).toEqual({
      stages: [{ id: 'development', agent: 'developer' }, { id: 'review', agent: 'r' }, { id: 'done' }],
      edges: [
        { from: 'development', to: 'review', rollbackTo: 'development' },
        { from: 'review', to: 'done', rollbackTo: 'development' },
      ],
      rollbackStage: 'development',
      finalStage: 'done',
      maxDeveloperRetries: 3,
      // derived: 13 × 60 s covers a busy merge lease's longest hold (TTL 120 s + retest 600 s)
      maxDeferrals: 13,
      deferDelayMs: 60_000,
      deferWaitMs: 720_000,
      maxDecisionErrors: 5,
      decisionRetryDelayMs: 30_000,
      maxJobAttempts: 2,
      trackerStates: { approve: ['Approved'], reject: ['Cancelled', 'Rejected'] },
    });
    expect(spec.value.maxDeferrals * spec.value.deferDelayMs).toBeGreaterThanOrEqual(120_000 + 600_000);
    expect(Object.isFrozen(spec.value)).toBe(true);
    expect(Object.isFrozen(spec.value.stages)).toBe(true);
    expect(Object.isFrozen(spec.value.edges[0])).toBe(true);
  });

  it('gives edges before the rollback stage no rollback', () => {
    expect(DEFAULT_STAGES.edges).toEqual([
      { from: 'analysis', to: 'development' },
      { from: 'development', to: 'deploy-staging', rollbackTo: 'development' },
      { from: 'deploy-staging', to: 'deploy', rollbackTo: 'development', guarded: true },
      { from: 'deploy', to: 'done', rollbackTo: 'development' },
    ]);
  });

  it('keeps explicit edges and knobs as given', () => {
    const spec = defineStages({
      stages: [{ id: 'dev', agent: 'developer' }, { id: 'qa', agent: 'qa' }, { id: 'end' }],
      edges: [
        { from: 'dev', to: 'qa' },
        { from: 'qa', to: 'end', rollbackTo: 'dev' },
      ],
      rollbackStage: 'dev',
      maxDeveloperRetries: 0,
      maxDeferrals: 1,
      deferDelayMs: 5,
      maxJobAttempts: 1,
      trackerStates: { approve: ['Go'], reject: ['Stop'] },
    });
    expect(spec.ok && spec.value.edges).toEqual([
      { from: 'dev', to: 'qa' },
      { from: 'qa', to: 'end', rollbackTo: 'dev' },
    ]);
    expect(
      spec.ok && [
        spec.value.maxDeveloperRetries,
        spec.value.maxDeferrals,
        spec.value.deferDelayMs,
        spec.value.maxJobAttempts,
      ],
    ).toEqual([0, 1, 5, 1]);
    expect(spec.ok && spec.value.trackerStates).toEqual({ approve: ['Go'], reject: ['Stop'] });
  });

  it('lists every problem in one invalid_config error', () => {
    const spec = defineStages({
      stages: [{ id: 'a', agent: 'x' }, { id: 'a' }, { id: 'c', agent: 'y' }, { id: 'z', agent: 'nope' }],
      edges: [
        { from: 'a', to: 'ghost' },
        { from: 'c', to: 'a' },
        { from: 'c', to: 'z', rollbackTo: 'nowhere' },
      ],
      rollbackStage: 'dev',
      maxDeveloperRetries: -1,
      maxDeferrals: 1.5,
      deferDelayMs: -3,
      maxJobAttempts: 0,
      trackerStates: { approve: ['Done'], reject: ['done'] },
    });
    expect(spec.ok).toBe(false);
    if (spec.ok) return;
    expect(spec.error.code).toBe('invalid_config');
    expect(spec.error.pkg).toBe('@conveyor/core');
    const problems = spec.error.details.problems as string[];
    for (const expected of [
      'stage id "a" is used more than once',
      'the final stage "z" must not have an agent',
      'rollbackStage "dev" is not a stage',
      'maxDeveloperRetries must be an integer >= 0 (got -1)',
      'maxDeferrals must be an integer >= 0 (got 1.5)',
      'deferDelayMs must be an integer >= 0 (got -3)',
      'maxJobAttempts must be an integer >= 1 (got 0)',
      'edge a->ghost: "ghost" is not a stage',
      'edge c->a must go forward',
      'stage "c" has more than one outgoing edge',
      'edge c->z: rollbackTo "nowhere" is not a stage',
      'tracker state "Done" both approves and rejects',
    ]) {
      expect(
        problems.some((p) => p.includes(expected)),
        expected,
      ).toBe(true);
      expect(spec.error.message).toContain(expected);
    }
  });

  it('refuses a pipeline with fewer than two stages and a stage without an outgoing edge', () => {
    const one = defineStages({ stages: [{ id: 'done' }] });
    expect(!one.ok && one.error.message).toContain('at least 2 stages');
    const gap = defineStages({
      stages: [{ id: 'development', agent: 'd' }, { id: 'mid', agent: 'm' }, { id: 'done' }],
      edges: [{ from: 'development', to: 'done' }],
    });
    expect(!gap.ok && gap.error.message).toContain('stage "mid" has no outgoing edge');
  });

  it('refuses a rollback stage or target without an agent', () => {
    const spec = defineStages({
      stages: [{ id: 'development' }, { id: 'build', agent: 'b' }, { id: 'done' }],
      edges: [
        { from: 'development', to: 'build' },
        { from: 'build', to: 'done', rollbackTo: 'development' },
      ],
    });
    expect(!spec.ok && spec.error.message).toContain('rollbackStage "development" has no agent');
    expect(!spec.ok && spec.error.message).toContain('rollbackTo "development" has no agent');
  });
});

describe('helpers', () => {
  it('edgeId, outgoingEdge, initialSnapshot', () => {
    expect(edgeId('a', 'b')).toBe('a->b');
    expect(outgoingEdge(DEFAULT_STAGES, 'deploy')).toEqual({ from: 'deploy', to: 'done', rollbackTo: 'development' });
    expect(outgoingEdge(DEFAULT_STAGES, 'done')).toBeUndefined();
    expect(initialSnapshot(DEFAULT_STAGES)).toEqual({
      stage: 'analysis',
      status: 'active',
      step: 0,
      developerRetries: 0,
      deferrals: 0,
      jobAttempts: 0,
    });
  });

  it('DEFAULT_STAGES has the self-hosting stages', () => {
    expect(
      DEFAULT_STAGES.stages.map((s) => [s.id, s.agent, s.trackerState, s.approval === true, s.action === true]),
    ).toEqual([
      ['analysis', 'analyst', 'Analysis', true, false],
      ['development', 'developer', 'In Progress', false, false],
      ['deploy-staging', 'deployer', 'Staging', false, true],
      ['deploy', 'deployer', 'Deploying', false, true],
      ['done', undefined, 'Done', false, false],
    ]);
    for (const stage of DEFAULT_STAGES.stages.slice(0, -1)) expect(stage.graceMs).toBeGreaterThan(0);
  });
});

describe('transition: task.created', () => {
  it('enters the first stage and enqueues its job', () => {
    const res = transition(DEFAULT_STAGES, initialSnapshot(DEFAULT_STAGES), { type: 'task.created' });
    expect(res.changed).toBe(true);
    expect(res.snapshot).toEqual({
      stage: 'analysis',
      status: 'active',
      step: 1,
      developerRetries: 0,
      deferrals: 0,
      jobAttempts: 0,
    });
    expect(res.effects).toEqual([
      { type: 'enqueue_job', stage: 'analysis', agent: 'analyst', kind: 'agent', step: 1, attempt: 1, delayMs: 0 },
      { type: 'set_tracker_state', state: 'Analysis' },
      { type: 'notify' },
    ]);
  });

  it('ignores a duplicate', () => {
    const first = transition(DEFAULT_STAGES, initialSnapshot(DEFAULT_STAGES), { type: 'task.created' });
    const second = transition(DEFAULT_STAGES, first.snapshot, { type: 'task.created' });
    expect(second.changed).toBe(false);
    expect(second.snapshot).toBe(first.snapshot);
    expect(second.effects).toEqual([]);
    expect(second.ignoredReason).toContain('duplicate');
  });
});

describe('transition: job.finished', () => {
  it('exit 0 on an approval stage waits for approval', () => {
    const res = run(DEFAULT_STAGES, [{ type: 'job.finished', stage: 'analysis', exitCode: 0 }]);
    expect(res.snapshot.status).toBe('awaiting_approval');
    expect(res.snapshot.stage).toBe('analysis');
    expect(res.effects).toEqual([{ type: 'notify' }]);
  });

  it('exit 0 on a plain stage runs the outgoing gates', () => {
    const res = transition(DEFAULT_STAGES, inDevelopment(), {
      type: 'job.finished',
      stage: 'development',
      exitCode: 0,
    });
    // the decision is a step of its own: a job the worker claims under the concurrency limit
    expect(res.snapshot).toMatchObject({ stage: 'development', status: 'gating', step: 4 });
    expect(res.effects).toEqual([
      {
        type: 'enqueue_job',
        stage: 'development',
        agent: DECISION_AGENT,
        kind: 'decision',
        step: 4,
        attempt: 1,
        delayMs: 0,
        edge: DEV_EDGE,
      },
      { type: 'notify' },
    ]);
  });

  it('a non-zero exit re-enqueues the stage once, then fails the task naming the stage and exit code', () => {
    const dev = inDevelopment();
    const retry = transition(DEFAULT_STAGES, dev, { type: 'job.finished', stage: 'development', exitCode: 2 });
    expect(retry.snapshot).toMatchObject({ stage: 'development', status: 'active', step: 4, jobAttempts: 1 });
    expect(retry.effects).toEqual([
      { type: 'enqueue_job', stage: 'development', agent: 'developer', kind: 'agent', step: 4, attempt: 2, delayMs: 0 },
      { type: 'notify' },
    ]);
    const failed = transition(DEFAULT_STAGES, retry.snapshot, {
      type: 'job.finished',
      stage: 'development',
      exitCode: null,
    });
    expect(failed.snapshot.status).toBe('failed');
    expect(failed.snapshot.jobAttempts).toBe(2);
    expect(failed.snapshot.reason).toContain('"development"');
    expect(failed.snapshot.reason).toContain('no exit code');
    expect(failed.effects.map((e) => e.type)).toEqual(['release_leases', 'cancel_jobs', 'notify']);
  });

  it('names the exit code and reason when the job fails for good', () => {
    const spec = defineStages({ stages: DEFAULT_STAGES.stages, maxJobAttempts: 1 });
    if (!spec.ok) throw spec.error;
    const res = run(spec.value, [{ type: 'job.finished', stage: 'analysis', exitCode: 137, reason: 'out of memory' }]);
    expect(res.snapshot.status).toBe('failed');
    expect(res.snapshot.reason).toBe(
      'the job of stage "analysis" ended with exit code 137: out of memory (attempt 1 of 1)',
    );
  });

  it('carries the findings into the retried developer job after a rollback', () => {
    const rolled = transition(DEFAULT_STAGES, gatingDevelopment(), {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'fail', { findingsText: 'lint: src/a.ts:3 unused' }),
    });
    const retry = transition(DEFAULT_STAGES, rolled.snapshot, {
      type: 'job.finished',
      stage: 'development',
      exitCode: 1,
    });
    expect(retry.effects[0]).toMatchObject({ type: 'enqueue_job', attempt: 2, findings: 'lint: src/a.ts:3 unused' });
  });

  it('ignores a job of another stage and a job in another status', () => {
    const dev = inDevelopment();
    const other = transition(DEFAULT_STAGES, dev, { type: 'job.finished', stage: 'analysis', exitCode: 0 });
    expect(other.changed).toBe(false);
    expect(other.snapshot).toBe(dev);
    expect(other.ignoredReason).toContain('"analysis"');
    const gating = gatingDevelopment();
    const late = transition(DEFAULT_STAGES, gating, { type: 'job.finished', stage: 'development', exitCode: 1 });
    expect(late.changed).toBe(false);
    expect(late.ignoredReason).toContain('gating');
    const early = transition(DEFAULT_STAGES, initialSnapshot(DEFAULT_STAGES), {
      type: 'job.finished',
      stage: 'analysis',
      exitCode: 0,
    });
    expect(early.changed).toBe(false);
  });
});

describe('transition: approval and rejection', () => {
  it('approved while awaiting approval runs the gates', () => {
    const res = run(DEFAULT_STAGES, [
      { type: 'job.finished', stage: 'analysis', exitCode: 0 },
      { type: 'approved', by: 'ann' },
    ]);
    expect(res.snapshot).toMatchObject({ stage: 'analysis', status: 'gating', step: 2 });
    expect(res.effects).toEqual([
      {
        type: 'enqueue_job',
        stage: 'analysis',
        agent: DECISION_AGENT,
        kind: 'decision',
        step: 2,
        attempt: 1,
        delayMs: 0,
        edge: 'analysis->development',
      },
      { type: 'notify' },
    ]);
  });

  it('approved in another status is ignored', () => {
    const res = run(DEFAULT_STAGES, [{ type: 'approved' }]);
    expect(res.changed).toBe(false);
    expect(res.ignoredReason).toContain('not awaiting approval');
  });

  it('rejected from any non-terminal status stops the task', () => {
    for (const snap of [initialSnapshot(DEFAULT_STAGES), inDevelopment(), gatingDevelopment()]) {
      const res = transition(DEFAULT_STAGES, snap, { type: 'rejected', reason: 'not wanted' });
      expect(res.snapshot.status).toBe('rejected');
      expect(res.snapshot.reason).toBe('not wanted');
      expect(res.snapshot.stage).toBe(snap.stage);
      expect(res.effects).toEqual([
        { type: 'release_leases' },
        { type: 'cancel_jobs', reason: 'not wanted' },
        { type: 'notify' },
      ]);
    }
  });

  it('tracker states map to approve and reject (case-insensitively); others are ignored', () => {
    const waiting = run(DEFAULT_STAGES, [{ type: 'job.finished', stage: 'analysis', exitCode: 0 }]).snapshot;
    expect(
      transition(DEFAULT_STAGES, waiting, { type: 'tracker.status_changed', state: 'approved' }).snapshot.status,
    ).toBe('gating');
    const rejected = transition(DEFAULT_STAGES, waiting, { type: 'tracker.status_changed', state: 'Cancelled' });
    expect(rejected.snapshot.status).toBe('rejected');
    expect(rejected.snapshot.reason).toContain('Cancelled');
    const other = transition(DEFAULT_STAGES, waiting, { type: 'tracker.status_changed', state: 'Todo' });
    expect(other.changed).toBe(false);
    expect(other.ignoredReason).toContain('Todo');
  });
});

describe('transition: gates.decided', () => {
  it('pass moves to the next stage, resets the stage counters and enqueues its job', () => {
    const gating = { ...gatingDevelopment(), deferrals: 2, jobAttempts: 1, findings: 'old' };
    const res = transition(DEFAULT_STAGES, gating, {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'pass'),
    });
    expect(res.snapshot).toEqual({
      stage: 'deploy-staging',
      status: 'active',
      step: 5,
      developerRetries: 0,
      deferrals: 0,
      jobAttempts: 0,
      lastVerdict: { edge: DEV_EDGE, status: 'pass', summary: `pass on ${DEV_EDGE}` },
    });
    expect(res.effects).toEqual([
      {
        type: 'enqueue_job',
        stage: 'deploy-staging',
        agent: 'deployer',
        kind: 'agent',
        step: 5,
        attempt: 1,
        delayMs: 0,
      },
      { type: 'set_tracker_state', state: 'Staging' },
      { type: 'notify' },
    ]);
  });

  it('pass into the final stage is done', () => {
    const gatingDeploy: StageSnapshot = { ...gatingDevelopment(), stage: 'deploy', step: 7 };
    const res = transition(DEFAULT_STAGES, gatingDeploy, {
      type: 'gates.decided',
      edge: 'deploy->done',
      verdict: verdict('deploy->done', 'pass'),
    });
    expect(res.snapshot).toMatchObject({ stage: 'done', status: 'done', step: 7 });
    expect(res.effects).toEqual([
      { type: 'set_tracker_state', state: 'Done' },
      { type: 'release_leases' },
      { type: 'notify' },
    ]);
  });

  it('fail rolls back to development with the findings verbatim', () => {
    const findingsText = 'security: 1 finding\n  gitleaks/aws-key src/x.ts:4 AWS key (fp a1b2…)\n\ttrailing  spaces  ';
    const gatingStaging: StageSnapshot = { ...gatingDevelopment(), stage: 'deploy-staging', step: 4 };
    const res = transition(DEFAULT_STAGES, gatingStaging, {
      type: 'gates.decided',
      edge: 'deploy-staging->deploy',
      verdict: verdict('deploy-staging->deploy', 'fail', { findingsText, summary: 'security found 1 secret' }),
    });
    expect(res.snapshot).toEqual({
      stage: 'development',
      status: 'active',
      step: 5,
      developerRetries: 1,
      deferrals: 0,
      jobAttempts: 0,
      findings: findingsText,
      lastVerdict: { edge: 'deploy-staging->deploy', status: 'fail', summary: 'security found 1 secret' },
    });
    expect(res.effects).toEqual([
      { type: 'release_leases' },
      {
        type: 'enqueue_job',
        stage: 'development',
        agent: 'developer',
        kind: 'agent',
        step: 5,
        attempt: 1,
        delayMs: 0,
        findings: findingsText,
      },
      { type: 'set_tracker_state', state: 'In Progress' },
      { type: 'notify' },
    ]);
  });

  it('fail after maxDeveloperRetries rollbacks stops the task saying retries are exhausted', () => {
    const spec = defineStages({ stages: DEFAULT_STAGES.stages, maxDeveloperRetries: 2 });
    if (!spec.ok) throw spec.error;
    let snap = gatingDevelopment(spec.value);
    const failVerdict = verdict(DEV_EDGE, 'fail', { summary: 'tests red' });
    for (let i = 1; i <= 2; i++) {
      const res = transition(spec.value, snap, { type: 'gates.decided', edge: DEV_EDGE, verdict: failVerdict });
      expect(res.snapshot).toMatchObject({ stage: 'development', status: 'active', developerRetries: i });
      snap = transition(spec.value, res.snapshot, { type: 'job.finished', stage: 'development', exitCode: 0 }).snapshot;
    }
    const last = transition(spec.value, snap, { type: 'gates.decided', edge: DEV_EDGE, verdict: failVerdict });
    expect(last.snapshot.status).toBe('failed');
    expect(last.snapshot.developerRetries).toBe(2);
    expect(last.snapshot.reason).toBe(`developer retries exhausted (2 of 2); last failure on ${DEV_EDGE}: tests red`);
    expect(last.effects.map((e) => e.type)).toEqual(['release_leases', 'cancel_jobs', 'notify']);
  });

  it('fail on an edge without rollback fails the task', () => {
    const gating = run(DEFAULT_STAGES, [
      { type: 'job.finished', stage: 'analysis', exitCode: 0 },
      { type: 'approved' },
    ]).snapshot;
    const res = transition(DEFAULT_STAGES, gating, {
      type: 'gates.decided',
      edge: 'analysis->development',
      verdict: verdict('analysis->development', 'fail', { summary: 'spec incomplete' }),
    });
    expect(res.snapshot.status).toBe('failed');
    expect(res.snapshot.reason).toContain('spec incomplete');
    expect(res.snapshot.reason).toContain('no rollback');
  });

  it('defer re-queues a decision job after the verdict delay or the spec delay, counting the time waited', () => {
    const gating = gatingDevelopment();
    const withDelay = transition(DEFAULT_STAGES, gating, {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'defer', { deferMs: 5_000 }),
    });
    expect(withDelay.snapshot).toMatchObject({
      stage: 'development',
      status: 'gating',
      deferrals: 1,
      deferredMs: 5_000,
      step: 5,
    });
    expect(withDelay.snapshot.lastVerdict?.status).toBe('defer');
    expect(withDelay.effects).toEqual([
      {
        type: 'enqueue_job',
        stage: 'development',
        agent: DECISION_AGENT,
        kind: 'decision',
        step: 5,
        attempt: 1,
        delayMs: 5_000,
        edge: DEV_EDGE,
      },
      { type: 'notify' },
    ]);
    const noDelay = transition(DEFAULT_STAGES, withDelay.snapshot, {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'defer'),
    });
    expect(noDelay.effects[0]).toMatchObject({ delayMs: 60_000, step: 6 });
    expect(noDelay.snapshot).toMatchObject({ deferrals: 2, deferredMs: 65_000 });
    // the default count at the default delay spans a busy merge lease: TTL + retest timeout
    expect(DEFAULT_STAGES.maxDeferrals * DEFAULT_STAGES.deferDelayMs).toBeGreaterThanOrEqual(120_000 + 600_000);
  });

  it('past the deferral cap (count and time) the task is blocked with a tracker comment: waiting never costs an agent run', () => {
    const spec = defineStages({ stages: DEFAULT_STAGES.stages, maxDeferrals: 1, deferWaitMs: 10_000 });
    if (!spec.ok) throw spec.error;
    let snap = gatingDevelopment(spec.value);
    const defer = verdict(DEV_EDGE, 'defer', { summary: 'merge lease busy', deferMs: 4_000 });
    const step = (): ReturnType<typeof transition> =>
      transition(spec.value, snap, { type: 'gates.decided', edge: DEV_EDGE, verdict: defer });
    // a short delay does not block early: the deferrals must also have waited 10 s (the lease's hold)
    for (let i = 0; i < 3; i += 1) {
      const res = step();
      expect(res.snapshot.status).toBe('gating');
      snap = res.snapshot;
    }
    expect(snap).toMatchObject({ deferrals: 3, deferredMs: 12_000 });
    const res = step();
    expect(res.snapshot).toMatchObject({ stage: 'development', status: 'blocked', developerRetries: 0 });
    expect(res.snapshot.reason).toContain('deferred 3 times over 12 s (the cap): merge lease busy');
    expect(res.effects.map((e) => e.type)).toEqual(['release_leases', 'comment_tracker', 'notify']);
    expect(res.effects.some((e) => e.type === 'enqueue_job')).toBe(false);
    // an approval decides the edge again, with fresh caps
    const again = transition(spec.value, res.snapshot, { type: 'approved' });
    expect(again.snapshot).toMatchObject({ status: 'gating', deferrals: 0 });
    expect(again.snapshot.deferredMs).toBeUndefined();
    expect(again.snapshot.reason).toBeUndefined();
    expect(again.effects[0]).toMatchObject({ type: 'enqueue_job', kind: 'decision', step: again.snapshot.step });
    // a gate deferring with no delay at all is blocked at ten times the count
    let zero = gatingDevelopment(spec.value);
    const instant = verdict(DEV_EDGE, 'defer', { deferMs: 0 });
    for (let i = 0; i < 10; i += 1) {
      zero = transition(spec.value, zero, { type: 'gates.decided', edge: DEV_EDGE, verdict: instant }).snapshot;
    }
    expect(zero.status).toBe('gating');
    expect(
      transition(spec.value, zero, { type: 'gates.decided', edge: DEV_EDGE, verdict: instant }).snapshot.status,
    ).toBe('blocked');
  });

  it('error re-queues the decision with doubling backoff, never rolls back, and blocks past its cap', () => {
    const spec = defineStages({ stages: DEFAULT_STAGES.stages, maxDecisionErrors: 2, decisionRetryDelayMs: 1_000 });
    if (!spec.ok) throw spec.error;
    let snap = gatingDevelopment(spec.value);
    const outage = verdict(DEV_EDGE, 'error', { summary: 'merge: forge answered 502' });
    const delays: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      const res = transition(spec.value, snap, { type: 'gates.decided', edge: DEV_EDGE, verdict: outage });
      expect(res.snapshot).toMatchObject({ stage: 'development', status: 'gating', developerRetries: 0 });
      const job = res.effects[0];
      expect(job).toMatchObject({ type: 'enqueue_job', kind: 'decision', step: res.snapshot.step });
      delays.push(job?.type === 'enqueue_job' ? job.delayMs : -1);
      snap = res.snapshot;
    }
    expect(delays).toEqual([1_000, 2_000]);
    const blocked = transition(spec.value, snap, { type: 'gates.decided', edge: DEV_EDGE, verdict: outage });
    expect(blocked.snapshot).toMatchObject({ status: 'blocked', developerRetries: 0 });
    expect(blocked.snapshot.reason).toContain('could not decide 3 times in a row: merge: forge answered 502');
    const comment = blocked.effects.find((e) => e.type === 'comment_tracker');
    expect(comment?.type === 'comment_tracker' && comment.body).toContain('forge answered 502');
    // a pass resets the error count for the next edge
    const passed = transition(spec.value, snap, {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'pass'),
    });
    expect(passed.snapshot.decisionErrors).toBeUndefined();
  });

  it('ignores a decision of another step', () => {
    const gating = gatingDevelopment();
    const old = transition(DEFAULT_STAGES, gating, {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'pass'),
      step: gating.step - 1,
    });
    expect(old.changed).toBe(false);
    expect(old.ignoredReason).toContain(`step ${gating.step - 1}`);
  });

  it('ignores a verdict for another edge or outside gating', () => {
    const gating = gatingDevelopment();
    const wrong = transition(DEFAULT_STAGES, gating, {
      type: 'gates.decided',
      edge: 'deploy->done',
      verdict: verdict('deploy->done', 'pass'),
    });
    expect(wrong.changed).toBe(false);
    expect(wrong.snapshot).toBe(gating);
    expect(wrong.ignoredReason).toContain(DEV_EDGE);
    const active = transition(DEFAULT_STAGES, inDevelopment(), {
      type: 'gates.decided',
      edge: DEV_EDGE,
      verdict: verdict(DEV_EDGE, 'pass'),
    });
    expect(active.changed).toBe(false);
  });
});

describe('transition: terminal statuses', () => {
  it('ignore every event', () => {
    const events: StageEvent[] = [
      { type: 'task.created' },
      { type: 'job.finished', stage: 'development', exitCode: 0 },
      { type: 'approved' },
      { type: 'rejected' },
      { type: 'tracker.status_changed', state: 'Approved' },
      { type: 'gates.decided', edge: DEV_EDGE, verdict: verdict(DEV_EDGE, 'pass') },
    ];
    for (const status of ['failed', 'rejected', 'done'] as const) {
      const snap: StageSnapshot = { ...gatingDevelopment(), status };
      for (const event of events) {
        const res = transition(DEFAULT_STAGES, snap, event);
        expect(res.changed).toBe(false);
        expect(res.snapshot).toBe(snap);
        expect(res.effects).toEqual([]);
        expect(res.ignoredReason).toContain(status);
      }
    }
  });
});

describe('transition: stages without an agent', () => {
  it('go straight to approval or to their gates', () => {
    const spec = defineStages({
      stages: [
        { id: 'development', agent: 'dev' },
        { id: 'sign-off', approval: true },
        { id: 'check' },
        { id: 'done' },
      ],
    });
    if (!spec.ok) throw spec.error;
    let snap = transition(spec.value, initialSnapshot(spec.value), { type: 'task.created' }).snapshot;
    snap = transition(spec.value, snap, { type: 'job.finished', stage: 'development', exitCode: 0 }).snapshot;
    const toSignOff = transition(spec.value, snap, {
      type: 'gates.decided',
      edge: 'development->sign-off',
      verdict: verdict('development->sign-off', 'pass'),
    });
    expect(toSignOff.snapshot).toMatchObject({ stage: 'sign-off', status: 'awaiting_approval' });
    const approved = transition(spec.value, toSignOff.snapshot, { type: 'approved' });
    const toCheck = transition(spec.value, approved.snapshot, {
      type: 'gates.decided',
      edge: 'sign-off->check',
      verdict: verdict('sign-off->check', 'pass'),
    });
    expect(toCheck.snapshot).toMatchObject({ stage: 'check', status: 'gating' });
    expect(toCheck.effects).toEqual([
      {
        type: 'enqueue_job',
        stage: 'check',
        agent: DECISION_AGENT,
        kind: 'decision',
        step: toCheck.snapshot.step,
        attempt: 1,
        delayMs: 0,
        edge: 'check->done',
      },
      { type: 'notify' },
    ]);
  });
});
