import type { StageSnapshot } from '../ports/domain.js';
import { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import type { EdgeDefinition, StageDefinition, StagesSpec, StagesSpecInput } from './types.js';

const PKG = '@conveyor/core';

/** The merge lease's default time to live (the merge gate's `mergeLeaseTtlMs` default). */
export const DEFAULT_MERGE_LEASE_TTL_MS = 120_000;
/** The merge gate's default retest timeout (`mergeRetestTimeoutMs`). */
export const DEFAULT_RETEST_TIMEOUT_MS = 600_000;
/**
 * How long deferrals of one edge can wait before the task is blocked, by
 * default: a busy merge lease is held at most for a retest and, when its holder
 * died, until its TTL runs out; the wait outlasts both.
 */
export const DEFAULT_DEFER_WAIT_MS = DEFAULT_MERGE_LEASE_TTL_MS + DEFAULT_RETEST_TIMEOUT_MS;

/**
 * The deferral cap that makes `cap × delayMs` cover `waitMs` (plus one more try).
 *
 * @example
 * ```ts
 * deferralCap(720_000, 60_000); // 13
 * ```
 */
export function deferralCap(waitMs: number, delayMs: number): number {
  if (delayMs <= 0) return Math.max(1, Math.ceil(waitMs / 1000) + 1);
  return Math.ceil(waitMs / delayMs) + 1;
}

/** Defaults `defineStages` fills in when the input leaves a knob out. */
export const STAGES_DEFAULTS = Object.freeze({
  rollbackStage: 'development',
  maxDeveloperRetries: 3,
  maxDeferrals: deferralCap(DEFAULT_DEFER_WAIT_MS, 60_000),
  deferDelayMs: 60_000,
  deferWaitMs: DEFAULT_DEFER_WAIT_MS,
  maxDecisionErrors: 5,
  decisionRetryDelayMs: 30_000,
  maxJobAttempts: 2,
  trackerStates: Object.freeze({
    approve: Object.freeze(['Approved']) as readonly string[],
    reject: Object.freeze(['Cancelled', 'Rejected']) as readonly string[],
  }),
});

/**
 * The id of the edge from `from` to `to`: `from->to`.
 *
 * @example
 * ```ts
 * edgeId('development', 'deploy-staging'); // 'development->deploy-staging'
 * ```
 */
export function edgeId(from: string, to: string): string {
  return `${from}->${to}`;
}

/** The forward edge leaving `stageId`, or `undefined` for the final stage (or an unknown id). */
export function outgoingEdge(spec: StagesSpec, stageId: string): EdgeDefinition | undefined {
  return spec.edges.find((edge) => edge.from === stageId);
}

/** The stage with this id, or `undefined`. */
export function findStage(spec: StagesSpec, stageId: string): StageDefinition | undefined {
  return spec.stages.find((stage) => stage.id === stageId);
}

/**
 * The snapshot of a task before its `task.created` event: first stage,
 * status `active`, step 0 (no job enqueued yet), every counter at zero.
 *
 * @example
 * ```ts
 * const { snapshot, effects } = transition(spec, initialSnapshot(spec), { type: 'task.created' });
 * ```
 */
export function initialSnapshot(spec: StagesSpec): StageSnapshot {
  const first = spec.stages[0];
  return Object.freeze({
    stage: first === undefined ? '' : first.id,
    status: 'active',
    step: 0,
    developerRetries: 0,
    deferrals: 0,
    jobAttempts: 0,
  });
}

function isNonNegativeInteger(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

function checkCount(problems: string[], name: string, value: number | undefined, min = 0): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) problems.push(`${name} must be an integer >= ${min} (got ${value})`);
}

function freezeStage(stage: StageDefinition): StageDefinition {
  return Object.freeze({ ...stage });
}

/**
 * Validates a pipeline definition, fills its defaults and returns it frozen.
 *
 * Defaults: edges go from each stage to the next, in order; `rollbackStage`
 * is `development`; `maxDeveloperRetries` 3; `deferDelayMs` 60 000;
 * `deferWaitMs` {@link DEFAULT_DEFER_WAIT_MS}; `maxDeferrals`
 * `deferralCap(deferWaitMs, deferDelayMs)`; `maxDecisionErrors` 5;
 * `decisionRetryDelayMs` 30 000; `maxJobAttempts` 2; tracker states `Approved` approve and
 * `Cancelled`/`Rejected` reject. When `edges` is omitted, every default edge
 * whose `from` is at or after the rollback stage rolls back to it on a failed
 * gate; earlier edges have no rollback (a failed gate there fails the task).
 * Explicit `edges` are kept exactly as given.
 *
 * Every problem found is listed in one `invalid_config` error.
 *
 * @example
 * ```ts
 * const spec = defineStages({
 *   stages: [
 *     { id: 'development', agent: 'developer' },
 *     { id: 'review', agent: 'reviewer', approval: true },
 *     { id: 'done' },
 *   ],
 *   maxDeveloperRetries: 2,
 * });
 * if (!spec.ok) throw spec.error;
 * ```
 */
export function defineStages(input: StagesSpecInput): Result<StagesSpec, ConveyorError> {
  const problems: string[] = [];
  const stages = input.stages ?? [];
  if (stages.length < 2) problems.push(`a pipeline needs at least 2 stages (got ${stages.length})`);

  const index = new Map<string, number>();
  stages.forEach((stage, i) => {
    if (typeof stage.id !== 'string' || stage.id.trim() === '') {
      problems.push(`stage #${i + 1} has an empty id`);
      return;
    }
    if (stage.id.includes('->')) problems.push(`stage id "${stage.id}" must not contain "->"`);
    if (index.has(stage.id)) problems.push(`stage id "${stage.id}" is used more than once`);
    else index.set(stage.id, i);
    if (stage.graceMs !== undefined && !isNonNegativeInteger(stage.graceMs)) {
      problems.push(`stage "${stage.id}": graceMs must be an integer >= 0 (got ${stage.graceMs})`);
    }
    if (stage.agent !== undefined && stage.agent.trim() === '') problems.push(`stage "${stage.id}": agent is empty`);
  });

  const finalStage = stages[stages.length - 1];
  if (finalStage?.agent !== undefined) {
    problems.push(`the final stage "${finalStage.id}" must not have an agent (reaching it means done)`);
  }
  if (finalStage?.approval === true) problems.push(`the final stage "${finalStage.id}" cannot wait for approval`);

  const rollbackStage = input.rollbackStage ?? STAGES_DEFAULTS.rollbackStage;
  const rollbackIndex = index.get(rollbackStage);
  if (rollbackIndex === undefined) {
    problems.push(`rollbackStage "${rollbackStage}" is not a stage`);
  } else if (stages[rollbackIndex]?.agent === undefined) {
    problems.push(`rollbackStage "${rollbackStage}" has no agent to receive the findings`);
  }

  checkCount(problems, 'maxDeveloperRetries', input.maxDeveloperRetries);
  checkCount(problems, 'maxDeferrals', input.maxDeferrals);
  checkCount(problems, 'deferDelayMs', input.deferDelayMs);
  checkCount(problems, 'deferWaitMs', input.deferWaitMs);
  checkCount(problems, 'maxDecisionErrors', input.maxDecisionErrors);
  checkCount(problems, 'decisionRetryDelayMs', input.decisionRetryDelayMs);
  checkCount(problems, 'maxJobAttempts', input.maxJobAttempts, 1);

  let edges: EdgeDefinition[];
  if (input.edges === undefined) {
    edges = [];
    for (let i = 0; i + 1 < stages.length; i++) {
      const from = stages[i];
      const to = stages[i + 1];
      if (from === undefined || to === undefined) continue;
      const rollsBack = rollbackIndex !== undefined && i >= rollbackIndex;
      edges.push({
        from: from.id,
        to: to.id,
        ...(rollsBack ? { rollbackTo: rollbackStage } : {}),
        ...(from.guardedExit === true ? { guarded: true } : {}),
      });
    }
  } else {
    edges = input.edges.map((edge) =>
      edge.guarded === undefined && stages.find((st) => st.id === edge.from)?.guardedExit === true
        ? { ...edge, guarded: true }
        : { ...edge },
    );
    const seenFrom = new Set<string>();
    for (const edge of edges) {
      const name = edgeId(edge.from, edge.to);
      const fromIndex = index.get(edge.from);
      const toIndex = index.get(edge.to);
      if (fromIndex === undefined) problems.push(`edge ${name}: "${edge.from}" is not a stage`);
      if (toIndex === undefined) problems.push(`edge ${name}: "${edge.to}" is not a stage`);
      if (fromIndex !== undefined && toIndex !== undefined && toIndex <= fromIndex) {
        problems.push(`edge ${name} must go forward (to a later stage)`);
      }
      if (seenFrom.has(edge.from)) problems.push(`stage "${edge.from}" has more than one outgoing edge`);
      seenFrom.add(edge.from);
      if (edge.rollbackTo !== undefined) {
        const backIndex = index.get(edge.rollbackTo);
        if (backIndex === undefined) problems.push(`edge ${name}: rollbackTo "${edge.rollbackTo}" is not a stage`);
        else {
          if (fromIndex !== undefined && backIndex > fromIndex) {
            problems.push(`edge ${name}: rollbackTo "${edge.rollbackTo}" must not be after "${edge.from}"`);
          }
          if (stages[backIndex]?.agent === undefined) {
            problems.push(`edge ${name}: rollbackTo "${edge.rollbackTo}" has no agent to receive the findings`);
          }
        }
      }
    }
    stages.forEach((stage, i) => {
      if (i < stages.length - 1 && index.get(stage.id) === i && !seenFrom.has(stage.id)) {
        problems.push(`stage "${stage.id}" has no outgoing edge (only the final stage may have none)`);
      }
    });
    if (finalStage !== undefined && seenFrom.has(finalStage.id)) {
      problems.push(`the final stage "${finalStage.id}" must not have an outgoing edge`);
    }
  }

  const approve = input.trackerStates?.approve ?? STAGES_DEFAULTS.trackerStates.approve;
  const reject = input.trackerStates?.reject ?? STAGES_DEFAULTS.trackerStates.reject;
  const rejectLower = new Set(reject.map((s) => s.toLowerCase()));
  for (const state of approve) {
    if (rejectLower.has(state.toLowerCase())) problems.push(`tracker state "${state}" both approves and rejects`);
  }

  if (problems.length > 0 || finalStage === undefined) {
    return err(
      new ConveyorError(PKG, 'invalid_config', `invalid stages spec: ${problems.join('; ')}`, {
        details: { problems },
      }),
    );
  }

  return ok(
    Object.freeze({
      stages: Object.freeze(stages.map(freezeStage)),
      edges: Object.freeze(edges.map((edge) => Object.freeze(edge))),
      rollbackStage,
      finalStage: finalStage.id,
      maxDeveloperRetries: input.maxDeveloperRetries ?? STAGES_DEFAULTS.maxDeveloperRetries,
      maxDeferrals:
        input.maxDeferrals ??
        deferralCap(
          input.deferWaitMs ?? STAGES_DEFAULTS.deferWaitMs,
          input.deferDelayMs ?? STAGES_DEFAULTS.deferDelayMs,
        ),
      deferDelayMs: input.deferDelayMs ?? STAGES_DEFAULTS.deferDelayMs,
      deferWaitMs: input.deferWaitMs ?? STAGES_DEFAULTS.deferWaitMs,
      maxDecisionErrors: input.maxDecisionErrors ?? STAGES_DEFAULTS.maxDecisionErrors,
      decisionRetryDelayMs: input.decisionRetryDelayMs ?? STAGES_DEFAULTS.decisionRetryDelayMs,
      maxJobAttempts: input.maxJobAttempts ?? STAGES_DEFAULTS.maxJobAttempts,
      trackerStates: Object.freeze({ approve: Object.freeze([...approve]), reject: Object.freeze([...reject]) }),
    }),
  );
}
