import type { GateVerdict, VerdictStatus } from '../gates/types.js';
import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/** The folded outcome of a decision, as recorded. */
export interface DecisionOutcome {
  /** `error`: the gates could not decide (infrastructure); it never rolls a task back */
  readonly status: VerdictStatus;
  /** one line; never a secret */
  readonly summary: string;
  /** the stopping gate's findings as text (what a rolled-back developer receives) */
  readonly findingsText: string;
  /** the gate that stopped the edge, if any */
  readonly decidedBy?: string;
  /** with `defer`: how long to wait before deciding again */
  readonly deferMs?: number;
}

/**
 * The record of one decision of one edge for one task step (invariant 8): the
 * commits it is bound to, resolved once when it started and written before any
 * gate ran; each gate's verdict as it came; the folded outcome; and whether the
 * outcome was applied to the task. The reconciler decides from it: no outcome
 * means the gates must run, an outcome not applied is applied once.
 */
export interface Decision {
  /** store-assigned id */
  readonly id: string;
  readonly taskId: string;
  /** `from->to` */
  readonly edge: string;
  /** the task's step the decision belongs to; one decision per (task, step) */
  readonly step: number;
  readonly headSha: string;
  readonly baseSha: string;
  readonly baseBranch: string;
  /**
   * the fencing token of the `decide:<taskId>` lease of the last runner that
   * took the decision; writes carrying a smaller token are refused
   */
  readonly fence: number;
  /** verdicts in the order the gates gave them */
  readonly verdicts: readonly GateVerdict[];
  readonly outcome?: DecisionOutcome;
  /** epoch ms */
  readonly startedAt: number;
  readonly decidedAt?: number;
  readonly appliedAt?: number;
}

/** Input of {@link DecisionStore.startDecision}. */
export interface NewDecision {
  readonly taskId: string;
  readonly edge: string;
  readonly step: number;
  readonly headSha: string;
  readonly baseSha: string;
  readonly baseBranch: string;
  /** the runner's `decide:<taskId>` lease token */
  readonly fence: number;
  readonly now: number;
}

/** Input of {@link DecisionStore.recordGateVerdict}. */
export interface RecordGateVerdict {
  readonly decisionId: string;
  readonly fence: number;
  readonly verdict: GateVerdict;
}

/** Input of {@link DecisionStore.finishDecision}. */
export interface FinishDecision {
  readonly decisionId: string;
  readonly fence: number;
  readonly outcome: DecisionOutcome;
  readonly now: number;
}

/**
 * The decision record (a port of its own, beside the task and job ports).
 * Every method resolves to a `Result`; none throws. The conformance suite is
 * `decisionStoreConformance` in `@conveyor/testkit`.
 *
 * @example
 * ```ts
 * const started = await decisions.startDecision({ taskId, edge, step, headSha, baseSha, baseBranch: 'main', fence: lease.token, now });
 * if (started.ok && started.value.decision.outcome === undefined) await runGates(started.value.decision);
 * ```
 */
export interface DecisionStore {
  /**
   * Records a decision, once per (taskId, step). When one exists already it is
   * returned with `created: false` and its pin unchanged (a decision is bound to
   * the commits it started on); if it has no outcome yet and `fence` is greater
   * than its fence, the caller takes it over (its fence becomes `fence`).
   */
  startDecision(input: NewDecision): AsyncResult<{ decision: Decision; created: boolean }, ConveyorError>;
  /** Appends a gate's verdict. `lease_lost` when `fence` is not the decision's, `conflict` once decided. */
  recordGateVerdict(input: RecordGateVerdict): AsyncResult<Decision, ConveyorError>;
  /** Records the outcome, once. `lease_lost` when `fence` is not the decision's, `conflict` once decided. */
  finishDecision(input: FinishDecision): AsyncResult<Decision, ConveyorError>;
  /** Marks the outcome applied; `applied` is true for the one caller that marked it. */
  markDecisionApplied(decisionId: string, now: number): AsyncResult<{ applied: boolean }, ConveyorError>;
  /** The decision of a task's step, or `undefined`. */
  getDecision(taskId: string, step: number): AsyncResult<Decision | undefined, ConveyorError>;
  /** Every decision of a task, by step. */
  listDecisions(taskId: string): AsyncResult<Decision[], ConveyorError>;
}
