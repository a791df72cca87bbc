import type { EdgeVerdict } from '../gates/types.js';
import type { JobKind, StageSnapshot } from '../ports/domain.js';

/** One stage of a pipeline. */
export interface StageDefinition {
  readonly id: string;
  /** the agent whose job runs in this stage; none for the final stage */
  readonly agent?: string;
  /** the stage waits for a person's approval after its job */
  readonly approval?: boolean;
  /** an action stage (deploy…) that is expected to commit nothing */
  readonly action?: boolean;
  /** the tracker state to show while the task is in this stage */
  readonly trackerState?: string;
  /** how long a task may sit here with no active job before the reconciler looks at it */
  readonly graceMs?: number;
  /**
   * the edge leaving this stage is guarded: with no gate enabled and in scope,
   * it does not pass (the same as `guarded` on an explicit edge)
   */
  readonly guardedExit?: boolean;
}

/** A forward edge. Its id is `from->to`. */
export interface EdgeDefinition {
  readonly from: string;
  readonly to: string;
  /** where a failed gate sends the task; `undefined` means the task fails */
  readonly rollbackTo?: string;
  /** with no gate enabled and in scope the edge does not pass */
  readonly guarded?: boolean;
}

/** Input of `defineStages`. */
export interface StagesSpecInput {
  readonly stages: readonly StageDefinition[];
  /** forward edges; default: each stage to the next, in order */
  readonly edges?: readonly EdgeDefinition[];
  /** the developer stage failed gates roll back to (default `development`) */
  readonly rollbackStage?: string;
  readonly maxDeveloperRetries?: number;
  /**
   * deferrals of one edge before the task is blocked, once they also waited
   * `deferWaitMs` (ten times as many block regardless; default: derived from
   * `deferWaitMs` and `deferDelayMs`)
   */
  readonly maxDeferrals?: number;
  readonly deferDelayMs?: number;
  /**
   * how long deferrals of one edge must be able to wait in total before the task
   * is blocked: at least a busy merge lease's longest hold (its TTL plus the
   * retest timeout). Default {@link DEFAULT_DEFER_WAIT_MS}.
   */
  readonly deferWaitMs?: number;
  /** consecutive `error` decisions of one edge before the task is blocked (default 5) */
  readonly maxDecisionErrors?: number;
  /** the first retry delay after an `error` decision; doubles per retry (default 30 000) */
  readonly decisionRetryDelayMs?: number;
  /** non-zero exits of one stage's job before the task fails */
  readonly maxJobAttempts?: number;
  /** tracker states that count as approval / rejection */
  readonly trackerStates?: { readonly approve?: readonly string[]; readonly reject?: readonly string[] };
}

/** A validated, frozen pipeline definition. */
export interface StagesSpec {
  readonly stages: readonly StageDefinition[];
  readonly edges: readonly EdgeDefinition[];
  readonly rollbackStage: string;
  /** the last stage: reaching it means done */
  readonly finalStage: string;
  readonly maxDeveloperRetries: number;
  readonly maxDeferrals: number;
  readonly deferDelayMs: number;
  /** deferrals block the task only once they also waited this long in all (a busy lease's longest hold) */
  readonly deferWaitMs: number;
  readonly maxDecisionErrors: number;
  readonly decisionRetryDelayMs: number;
  readonly maxJobAttempts: number;
  readonly trackerStates: { readonly approve: readonly string[]; readonly reject: readonly string[] };
}

/** What happened to a task. */
export type StageEvent =
  | { readonly type: 'task.created' }
  | {
      readonly type: 'job.finished';
      readonly stage: string;
      readonly exitCode: number | null;
      readonly reason?: string;
    }
  | {
      readonly type: 'gates.decided';
      readonly edge: string;
      readonly verdict: EdgeVerdict;
      /** the step the decision belongs to; a decision of another step is ignored */
      readonly step?: number;
    }
  | { readonly type: 'tracker.status_changed'; readonly state: string }
  | { readonly type: 'approved'; readonly by?: string }
  | { readonly type: 'rejected'; readonly reason?: string };

/** What the runtime must do after a transition. Effects are idempotent. */
export type StageEffect =
  | {
      readonly type: 'enqueue_job';
      readonly stage: string;
      readonly agent: string;
      readonly kind: JobKind;
      /** the snapshot's step for this job: the idempotency key */
      readonly step: number;
      readonly attempt: number;
      readonly delayMs: number;
      /** for `decision` jobs */
      readonly edge?: string;
      /** the failing gate's findings, verbatim */
      readonly findings?: string;
    }
  | { readonly type: 'notify' }
  | { readonly type: 'set_tracker_state'; readonly state: string }
  | { readonly type: 'release_leases' }
  | { readonly type: 'cancel_jobs'; readonly reason: string }
  /** a comment on the tracker issue (why a task is blocked) */
  | { readonly type: 'comment_tracker'; readonly body: string };

/** The output of `transition`. */
export interface TransitionResult {
  readonly snapshot: StageSnapshot;
  readonly effects: readonly StageEffect[];
  /** false when the event did not apply in this state (the snapshot is unchanged, no effects) */
  readonly changed: boolean;
  /** why the event was ignored, when it was */
  readonly ignoredReason?: string;
}
