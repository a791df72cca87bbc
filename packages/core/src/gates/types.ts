import type { Task } from '../ports/domain.js';
import type { Logger } from '../ports/runtime.js';

/**
 * A gate's decision. `error` means the gate could not decide (it threw, timed
 * out, the forge, tracker or network failed): it never advances a task (gates
 * fail closed), but it never rolls one back either; the decision is retried.
 * A gate that reads its verdict back from a report and finds it missing or
 * unparsable returns `fail`, never `error`.
 */
export type VerdictStatus = 'pass' | 'fail' | 'defer' | 'error';

/** One thing a gate found. Secrets appear only redacted. */
export interface Finding {
  /** rule or check id */
  readonly rule?: string;
  readonly file?: string;
  readonly line?: number;
  readonly commit?: string;
  /** one line a developer can act on; never a secret in clear */
  readonly message: string;
  /** a stable, redacted identifier (e.g. `commit:file:rule:line`) */
  readonly fingerprint?: string;
  readonly severity: 'error' | 'warning' | 'info';
}

/** What a gate's `run` returns; the registry adds id and duration. */
export interface GateOutcome {
  readonly status: VerdictStatus;
  /** one line; never a secret */
  readonly summary: string;
  readonly findings?: readonly Finding[];
  readonly warnings?: readonly string[];
  /** with `defer`: how long to wait before deciding again */
  readonly deferMs?: number;
  /** the report the verdict was read back from */
  readonly reportPath?: string;
}

/** A gate's verdict as recorded by the registry. */
export interface GateVerdict extends GateOutcome {
  readonly gateId: string;
  readonly findings: readonly Finding[];
  readonly warnings: readonly string[];
  readonly durationMs: number;
}

/** A registered gate that did not run on an edge, and why. */
export interface SkippedGate {
  readonly gateId: string;
  /** e.g. `switched off`, `acme/web is not in its scope: acme/shop` */
  readonly reason: string;
}

/** The decision of an edge: the folded status and every verdict that ran, in order. */
export interface EdgeVerdict {
  /** `from->to` */
  readonly edge: string;
  /**
   * `pass` only when every enabled gate passed (and, on a guarded edge, at
   * least one ran); `error` when the stopping gate could not decide
   */
  readonly status: VerdictStatus;
  readonly verdicts: readonly GateVerdict[];
  /** registered gates that did not run, with the reason (named in the summary too) */
  readonly skipped?: readonly SkippedGate[];
  /** the gate that stopped the edge, if any */
  readonly decidedBy?: string;
  /** one line */
  readonly summary: string;
  /** the stopping gate's findings rendered as text: what the next developer job receives verbatim */
  readonly findingsText: string;
  readonly deferMs?: number;
  readonly durationMs: number;
}

/**
 * The commits one decision of an edge is bound to, resolved once when the
 * decision starts and recorded before any gate runs (invariant 8). Every gate
 * of the decision judges exactly `headSha` against exactly `baseSha`; the
 * merge gate merges exactly `headSha`, onto the main it retested.
 */
export interface DecisionPin {
  /** the store's id of the decision record */
  readonly decisionId: string;
  /** the task's step the decision belongs to */
  readonly step: number;
  /** the task branch's head when the decision started */
  readonly headSha: string;
  /** the default branch's head when the decision started */
  readonly baseSha: string;
  /** the default branch's name (e.g. `main`) */
  readonly baseBranch: string;
}

/** What a gate is given. Gates capture their own dependencies in their factory. */
export interface GateContext {
  /**
   * The commits this decision is bound to. When present a gate must judge
   * exactly these commits, and a branch that moved since is a `defer`
   * (a new decision starts on the new head), never a verdict on other commits.
   */
  readonly decision?: DecisionPin;
  readonly task: Task;
  /** `from->to` */
  readonly edge: string;
  /** aborted when the gate's timeout passes; a gate should stop promptly */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** epoch ms */
  now(): number;
  /**
   * true when called by the reconciler: decide from what is already there
   * (e.g. "is it merged?") and change nothing.
   */
  readonly readOnly: boolean;
  /** a working directory for the task's checkout, when the host provides one */
  readonly workdir?: string;
  /** where gates write report artifacts */
  readonly reportDir?: string;
}

/**
 * A deterministic check that decides an edge.
 *
 * @example
 * ```ts
 * const alwaysGreen: Gate = { id: 'noop', run: async () => ({ status: 'pass', summary: 'nothing to check' }) };
 * ```
 */
export interface Gate {
  /** unique per edge */
  readonly id: string;
  /** default timeout for this gate; the registration may override it */
  readonly timeoutMs?: number;
  run(ctx: GateContext): Promise<GateOutcome>;
}
