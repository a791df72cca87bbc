// The decision record's values as the pipeline uses them: a recorded outcome
// as the verdict to apply, a verdict as the outcome to record, the pin.
import type { DecisionPin, EdgeVerdict, GateVerdict } from '../gates/types.js';
import type { Decision, DecisionOutcome } from '../ports/decisions.js';
import type { ResolvedPin } from './types.js';

/** The pin of a decision recorded without a resolver. */
export const UNPINNED: ResolvedPin = Object.freeze({ headSha: '', baseSha: '', baseBranch: '' });

/** The decision's verdict as recorded (what is applied when the outcome is replayed). */
export function verdictOfDecision(decision: Decision): EdgeVerdict | undefined {
  const { outcome } = decision;
  if (outcome === undefined) return undefined;
  return {
    edge: decision.edge,
    status: outcome.status,
    verdicts: decision.verdicts,
    summary: outcome.summary,
    findingsText: outcome.findingsText,
    durationMs: 0,
    ...(outcome.decidedBy === undefined ? {} : { decidedBy: outcome.decidedBy }),
    ...(outcome.deferMs === undefined ? {} : { deferMs: outcome.deferMs }),
  };
}

export function outcomeOf(verdict: EdgeVerdict): DecisionOutcome {
  return {
    status: verdict.status,
    summary: verdict.summary,
    findingsText: verdict.findingsText,
    ...(verdict.decidedBy === undefined ? {} : { decidedBy: verdict.decidedBy }),
    ...(verdict.deferMs === undefined ? {} : { deferMs: verdict.deferMs }),
  };
}

export function errorVerdict(edge: string, summary: string, verdicts: readonly GateVerdict[] = []): EdgeVerdict {
  return { edge, status: 'error', verdicts, decidedBy: 'pipeline', summary, findingsText: '', durationMs: 0 };
}

export function pinFields(pin: ResolvedPin): ResolvedPin {
  return { headSha: pin.headSha, baseSha: pin.baseSha, baseBranch: pin.baseBranch };
}

export function pinOf(decision: Decision): DecisionPin {
  return {
    decisionId: decision.id,
    step: decision.step,
    headSha: decision.headSha,
    baseSha: decision.baseSha,
    baseBranch: decision.baseBranch,
  };
}
