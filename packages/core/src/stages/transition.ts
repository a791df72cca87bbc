import type { EdgeVerdict } from '../gates/types.js';
import type { StageSnapshot, TaskStatus } from '../ports/domain.js';
import { edgeId, findStage, outgoingEdge } from './define.js';
import type { EdgeDefinition, StageEffect, StageEvent, StagesSpec, TransitionResult } from './types.js';

/** The agent name of `decision` jobs (the worker runs the edge's gates in-process). */
export const DECISION_AGENT = 'gates';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function isTerminal(status: TaskStatus): boolean {
  return status === 'failed' || status === 'rejected' || status === 'done';
}

function ignored(snapshot: StageSnapshot, reason: string): TransitionResult {
  return { snapshot, effects: [], changed: false, ignoredReason: reason };
}

function changed(snapshot: StageSnapshot, effects: StageEffect[]): TransitionResult {
  return {
    snapshot: Object.freeze(snapshot),
    effects: Object.freeze(effects.map((e) => Object.freeze(e))),
    changed: true,
  };
}

/** Copies a snapshot, dropping the optional fields the caller does not keep. */
function base(snapshot: StageSnapshot, keep: { findings: boolean }): Mutable<StageSnapshot> {
  const next: Mutable<StageSnapshot> = {
    stage: snapshot.stage,
    status: snapshot.status,
    step: snapshot.step,
    developerRetries: snapshot.developerRetries,
    deferrals: snapshot.deferrals,
    jobAttempts: snapshot.jobAttempts,
  };
  if (snapshot.decisionErrors !== undefined) next.decisionErrors = snapshot.decisionErrors;
  if (snapshot.deferredMs !== undefined) next.deferredMs = snapshot.deferredMs;
  if (keep.findings && snapshot.findings !== undefined) next.findings = snapshot.findings;
  if (snapshot.lastVerdict !== undefined) next.lastVerdict = snapshot.lastVerdict;
  if (snapshot.reason !== undefined) next.reason = snapshot.reason;
  return next;
}

function trackerEffect(spec: StagesSpec, stageId: string): StageEffect[] {
  const state = findStage(spec, stageId)?.trackerState;
  return state === undefined ? [] : [{ type: 'set_tracker_state', state }];
}

function agentJob(
  stage: string,
  agent: string,
  step: number,
  attempt: number,
  findings: string | undefined,
): StageEffect {
  return {
    type: 'enqueue_job',
    stage,
    agent,
    kind: 'agent',
    step,
    attempt,
    delayMs: 0,
    ...(findings === undefined ? {} : { findings }),
  };
}

/**
 * Puts the task into `stageId` as it arrives there: done at the final stage;
 * otherwise the stage's job is enqueued (a stage without an agent goes straight
 * to approval or to its gates). `next` already has stage counters reset.
 */
function enterStage(
  spec: StagesSpec,
  next: Mutable<StageSnapshot>,
  stageId: string,
  findings: string | undefined,
): StageEffect[] {
  next.stage = stageId;
  next.jobAttempts = 0;
  next.deferrals = 0;
  delete next.deferredMs;
  delete next.decisionErrors;
  delete next.findings;
  if (stageId === spec.finalStage) {
    next.status = 'done';
    return [...trackerEffect(spec, stageId), { type: 'release_leases' }, { type: 'notify' }];
  }
  const stage = findStage(spec, stageId);
  if (stage?.agent !== undefined) {
    next.status = 'active';
    next.step += 1;
    if (findings !== undefined) next.findings = findings;
    return [
      agentJob(stageId, stage.agent, next.step, 1, findings),
      ...trackerEffect(spec, stageId),
      { type: 'notify' },
    ];
  }
  if (stage?.approval === true) {
    next.status = 'awaiting_approval';
    return [...trackerEffect(spec, stageId), { type: 'notify' }];
  }
  return [...trackerEffect(spec, stageId), ...startGating(spec, next)];
}

/** A decision job for the edge leaving the current stage, as a step of its own. */
function decisionJob(next: Mutable<StageSnapshot>, edge: string, delayMs: number): StageEffect {
  next.step += 1;
  return {
    type: 'enqueue_job',
    stage: next.stage,
    agent: DECISION_AGENT,
    kind: 'decision',
    step: next.step,
    attempt: 1,
    delayMs,
    edge,
  };
}

function startGating(spec: StagesSpec, next: Mutable<StageSnapshot>): StageEffect[] {
  const edge = outgoingEdge(spec, next.stage);
  next.status = 'gating';
  return edge === undefined
    ? [{ type: 'notify' }]
    : [decisionJob(next, edgeId(edge.from, edge.to), 0), { type: 'notify' }];
}

/** The gates could not decide within their caps: a person looks (an approval decides again). */
function block(next: Mutable<StageSnapshot>, edge: string, reason: string): StageEffect[] {
  next.status = 'blocked';
  next.reason = reason;
  return [
    { type: 'release_leases' },
    {
      type: 'comment_tracker',
      body: `Conveyor blocked this task on ${edge}: ${reason}. Approve the task again to decide the edge once more.`,
    },
    { type: 'notify' },
  ];
}

function fail(next: Mutable<StageSnapshot>, reason: string): StageEffect[] {
  next.status = 'failed';
  next.reason = reason;
  return [{ type: 'release_leases' }, { type: 'cancel_jobs', reason }, { type: 'notify' }];
}

function onCreated(spec: StagesSpec, snapshot: StageSnapshot): TransitionResult {
  const first = spec.stages[0];
  if (snapshot.step !== 0 || first === undefined || snapshot.status !== 'active') {
    return ignored(snapshot, 'task.created: the task already started (duplicate event)');
  }
  const next = base(snapshot, { findings: false });
  next.developerRetries = 0;
  const effects = enterStage(spec, next, first.id, undefined);
  return changed(next, effects);
}

function onJobFinished(
  spec: StagesSpec,
  snapshot: StageSnapshot,
  event: Extract<StageEvent, { type: 'job.finished' }>,
): TransitionResult {
  if (event.stage !== snapshot.stage) {
    return ignored(snapshot, `job.finished for stage "${event.stage}" but the task is in "${snapshot.stage}"`);
  }
  if (snapshot.status !== 'active') {
    return ignored(snapshot, `job.finished while the task is ${snapshot.status}, not active`);
  }
  if (snapshot.step === 0) return ignored(snapshot, 'job.finished before the task was created');
  const stage = findStage(spec, snapshot.stage);
  const next = base(snapshot, { findings: true });
  if (event.exitCode === 0) {
    if (stage?.approval === true) {
      next.status = 'awaiting_approval';
      return changed(next, [{ type: 'notify' }]);
    }
    return changed(next, startGating(spec, next));
  }
  const attempts = snapshot.jobAttempts + 1;
  next.jobAttempts = attempts;
  const exit = event.exitCode === null ? 'no exit code (killed)' : `exit code ${event.exitCode}`;
  const why = event.reason === undefined ? '' : `: ${event.reason}`;
  if (attempts < spec.maxJobAttempts && stage?.agent !== undefined) {
    next.step += 1;
    const findings = snapshot.stage === spec.rollbackStage ? snapshot.findings : undefined;
    return changed(next, [
      agentJob(snapshot.stage, stage.agent, next.step, attempts + 1, findings),
      { type: 'notify' },
    ]);
  }
  return changed(
    next,
    fail(
      next,
      `the job of stage "${snapshot.stage}" ended with ${exit}${why} (attempt ${attempts} of ${spec.maxJobAttempts})`,
    ),
  );
}

function onApproved(spec: StagesSpec, snapshot: StageSnapshot, cause: string): TransitionResult {
  if (snapshot.status !== 'awaiting_approval' && snapshot.status !== 'blocked') {
    return ignored(snapshot, `${cause} while the task is ${snapshot.status}, not awaiting approval or blocked`);
  }
  const next = base(snapshot, { findings: true });
  if (snapshot.status === 'blocked') {
    // a person looked: the edge is decided again with fresh caps
    next.deferrals = 0;
    delete next.deferredMs;
    delete next.decisionErrors;
    delete next.reason;
  }
  return changed(next, startGating(spec, next));
}

function onRejected(snapshot: StageSnapshot, reason: string): TransitionResult {
  const next = base(snapshot, { findings: true });
  next.status = 'rejected';
  next.reason = reason;
  return changed(next, [{ type: 'release_leases' }, { type: 'cancel_jobs', reason }, { type: 'notify' }]);
}

/** A failed edge: roll back with the findings verbatim, or fail the task. */
function rollBackOrFail(
  spec: StagesSpec,
  next: Mutable<StageSnapshot>,
  edge: EdgeDefinition,
  verdict: EdgeVerdict,
  summary: string,
): StageEffect[] {
  const name = edgeId(edge.from, edge.to);
  if (edge.rollbackTo === undefined) {
    return fail(next, `gates of ${name} failed and the edge has no rollback: ${summary}`);
  }
  if (next.developerRetries >= spec.maxDeveloperRetries) {
    return fail(
      next,
      `developer retries exhausted (${next.developerRetries} of ${spec.maxDeveloperRetries}); last failure on ${name}: ${summary}`,
    );
  }
  next.developerRetries += 1;
  const effects = enterStage(spec, next, edge.rollbackTo, verdict.findingsText);
  return [{ type: 'release_leases' }, ...effects];
}

function onGatesDecided(
  spec: StagesSpec,
  snapshot: StageSnapshot,
  event: Extract<StageEvent, { type: 'gates.decided' }>,
): TransitionResult {
  if (snapshot.status !== 'gating') {
    return ignored(snapshot, `gates.decided while the task is ${snapshot.status}, not gating`);
  }
  const edge = outgoingEdge(spec, snapshot.stage);
  const current = edge === undefined ? undefined : edgeId(edge.from, edge.to);
  if (edge === undefined || event.edge !== current) {
    return ignored(snapshot, `gates.decided for edge "${event.edge}" but the current edge is "${current ?? 'none'}"`);
  }
  if (event.step !== undefined && event.step !== snapshot.step) {
    return ignored(snapshot, `gates.decided for step ${event.step} but the task is at step ${snapshot.step}`);
  }
  const { verdict } = event;
  const next = base(snapshot, { findings: true });
  next.lastVerdict = { edge: event.edge, status: verdict.status, summary: verdict.summary };

  if (verdict.status === 'pass') {
    return changed(next, enterStage(spec, next, edge.to, undefined));
  }
  if (verdict.status === 'defer') {
    // Waiting never costs an agent run: past the cap the task is blocked, not rolled back. The cap
    // is a count and a time: blocked only once the deferrals also waited deferWaitMs in all (a busy
    // merge lease is waited out however short the gate's own delay), or at ten times the count.
    const waited = snapshot.deferredMs ?? 0;
    const capped =
      (snapshot.deferrals >= spec.maxDeferrals && waited >= spec.deferWaitMs) ||
      snapshot.deferrals >= spec.maxDeferrals * 10;
    if (capped) {
      return changed(
        next,
        block(
          next,
          event.edge,
          `deferred ${snapshot.deferrals} times over ${Math.round(waited / 1000)} s (the cap): ${verdict.summary}`,
        ),
      );
    }
    const delayMs = verdict.deferMs ?? spec.deferDelayMs;
    next.deferrals = snapshot.deferrals + 1;
    next.deferredMs = waited + delayMs;
    return changed(next, [decisionJob(next, event.edge, delayMs), { type: 'notify' }]);
  }
  if (verdict.status === 'error') {
    // infrastructure failed: decide again with backoff, never roll back to the developer
    const errors = snapshot.decisionErrors ?? 0;
    if (errors >= spec.maxDecisionErrors) {
      return changed(
        next,
        block(next, event.edge, `the gates could not decide ${errors + 1} times in a row: ${verdict.summary}`),
      );
    }
    next.decisionErrors = errors + 1;
    const delayMs = spec.decisionRetryDelayMs * 2 ** errors;
    return changed(next, [decisionJob(next, event.edge, delayMs), { type: 'notify' }]);
  }
  return changed(next, rollBackOrFail(spec, next, edge, verdict, verdict.summary));
}

function isTrackerState(list: readonly string[], state: string): boolean {
  const wanted = state.trim().toLowerCase();
  return list.some((s) => s.trim().toLowerCase() === wanted);
}

/**
 * The stage machine: the next snapshot and the effects the runtime must
 * perform, for one event. Pure and deterministic: no clock, no randomness, no
 * I/O; the input is never mutated. An event that does not apply in the
 * current state returns the same snapshot, no effects, `changed: false` and
 * the reason. A terminal task (`failed`, `rejected`, `done`) ignores every event.
 *
 * @example
 * ```ts
 * let { snapshot, effects } = transition(DEFAULT_STAGES, initialSnapshot(DEFAULT_STAGES), { type: 'task.created' });
 * // effects: enqueue_job(analysis, analyst, step 1), set_tracker_state('Analysis'), notify
 * ({ snapshot, effects } = transition(DEFAULT_STAGES, snapshot, { type: 'job.finished', stage: 'analysis', exitCode: 0 }));
 * // snapshot.status === 'awaiting_approval'
 * ```
 */
export function transition(spec: StagesSpec, snapshot: StageSnapshot, event: StageEvent): TransitionResult {
  if (isTerminal(snapshot.status)) {
    return ignored(snapshot, `the task is ${snapshot.status}; ${event.type} does not apply`);
  }
  switch (event.type) {
    case 'task.created':
      return onCreated(spec, snapshot);
    case 'job.finished':
      return onJobFinished(spec, snapshot, event);
    case 'approved':
      return onApproved(spec, snapshot, 'approved');
    case 'rejected':
      return onRejected(snapshot, event.reason ?? 'rejected');
    case 'gates.decided':
      return onGatesDecided(spec, snapshot, event);
    case 'tracker.status_changed':
      if (isTrackerState(spec.trackerStates.reject, event.state)) {
        return onRejected(snapshot, `rejected in the tracker (state "${event.state}")`);
      }
      if (isTrackerState(spec.trackerStates.approve, event.state)) {
        return onApproved(spec, snapshot, `tracker state "${event.state}"`);
      }
      return ignored(snapshot, `tracker state "${event.state}" neither approves nor rejects`);
    default:
      return ignored(snapshot, `unknown event ${(event as { type?: unknown }).type as string}`);
  }
}
