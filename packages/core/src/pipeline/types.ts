import type { ConveyorEventBus } from '../events/bus.js';
import type { InboundEvent } from '../events/inbound.js';
import type { EdgeRunContext } from '../gates/registry.js';
import type { EdgeVerdict } from '../gates/types.js';
import type { Decision, DecisionStore } from '../ports/decisions.js';
import type { Job, Task } from '../ports/domain.js';
import type { Forge } from '../ports/forge.js';
import type { Notifier, TaskCard } from '../ports/notifier.js';
import type { Clock, Logger } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import type { Tracker, TrackerIssue } from '../ports/tracker.js';
import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type { StageEffect, StageEvent, StagesSpec } from '../stages/types.js';

/** What the pipeline needs of a gate registry: decide one edge for one task (never rejects). */
export interface EdgeGateRunner {
  runEdge(edge: string, ctx: EdgeRunContext): Promise<EdgeVerdict>;
}

/** The commits a decision is bound to, as a {@link PinResolver} resolves them. */
export interface ResolvedPin {
  /** the task branch's head */
  readonly headSha: string;
  /** the default branch's head */
  readonly baseSha: string;
  /** the default branch's name */
  readonly baseBranch: string;
}

/**
 * Resolves, once per decision and before any gate runs, the commits the
 * decision is bound to (`@conveyor/gates` has a git implementation). An error
 * makes the decision `error` (retried with backoff), never a pass.
 */
export type PinResolver = (task: Task, signal: AbortSignal) => AsyncResult<ResolvedPin, ConveyorError>;

/** Where a tracker issue's task works: its repository and branch. */
export interface TaskRoute {
  /** `owner/name` */
  readonly repo: string;
  readonly branch: string;
}

/** Options of `createPipeline`. */
export interface PipelineOptions {
  /** tasks, jobs and leases, and the decision record */
  readonly store: Store & DecisionStore;
  readonly stages: StagesSpec;
  readonly gates: EdgeGateRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tracker?: Tracker;
  readonly forge?: Forge;
  readonly notifier?: Notifier;
  /** receives `transition` and `edge.decided` */
  readonly events?: Pick<ConveyorEventBus, 'emit'>;
  /**
   * Where an issue's task works. Default: `{ repo: options.repo, branch: 'task/<issue key or id>' }`;
   * without `repo` and without `route`, new issues are logged and ignored.
   */
  readonly route?: (issue: TrackerIssue) => TaskRoute | undefined;
  /** the repository of the default route, `owner/name` */
  readonly repo?: string;
  /** the project key of an issue's task (default: `issue.project`) */
  readonly projectOf?: (issue: TrackerIssue) => string;
  /** tracker states in which an unknown issue becomes a task (default `['Todo']`, compared case-insensitively) */
  readonly startStates?: readonly string[];
  /** links shown on a task's card */
  readonly linksFor?: (task: Task) => TaskCard['links'];
  /** handed to gates */
  readonly reportDir?: string;
  /** handed to gates: the task's checkout */
  readonly workdirFor?: (task: Task) => string | undefined;
  /** how often `saveTransition` is retried on a version conflict (default 5) */
  readonly maxSaveAttempts?: number;
  /**
   * Resolves the commits each decision is bound to (handed to every gate as
   * `ctx.decision`). Without it, or when it answers `not_found` (no task branch
   * yet, as on an analysis edge), the decision is recorded unpinned (empty
   * shas) and gates get no `decision`; any other error makes the decision
   * `error` (retried).
   */
  readonly resolvePin?: PinResolver;
  /** this host's name in decision lease holders, `<hostId>/task:<id>` (default `<hostname>:<pid>`) */
  readonly holderId?: string;
  /** the `decide:<taskId>` lease's time to live, renewed every third of it while gates run (default 60 000) */
  readonly decisionLeaseTtlMs?: number;
}

/** What `handle` did with an inbound event. */
export interface HandleOutcome {
  readonly action: 'created' | 'advanced' | 'unchanged' | 'released' | 'resolved' | 'unresolved' | 'ignored';
  readonly taskId?: string;
  /** why, for `unchanged`, `unresolved` and `ignored` */
  readonly reason?: string;
}

/** What applying one event to a task did. */
export interface ApplyOutcome {
  /** the task as stored afterwards */
  readonly task: Task;
  /** false when the event did not apply (the reason says why) */
  readonly changed: boolean;
  readonly reason?: string;
  /** effects that failed (logged; the reconciler repairs) */
  readonly failedEffects: readonly StageEffect['type'][];
}

/**
 * What running or settling a decision did:
 * - `applied`: the outcome is recorded and was applied to the task;
 * - `stale`: the task is no longer deciding this step (nothing to do);
 * - `busy`: another runner holds the task's `decide:` lease;
 * - `lost`: the lease was lost mid-run (another runner took over); nothing was applied;
 * - `enqueued`: the step had no decision job (a lost effect); it was enqueued;
 * - `waiting`: the step's decision job is queued or running;
 * - `silent`: the step's outcome is already applied; nothing to do.
 */
export type DecisionAction = 'applied' | 'stale' | 'busy' | 'lost' | 'enqueued' | 'waiting' | 'silent';

/** What {@link Pipeline.runDecision} and {@link Pipeline.settleDecision} did. */
export interface DecisionRun {
  readonly action: DecisionAction;
  readonly taskId: string;
  /** the decision record, when there is one */
  readonly decision?: Decision;
  /** the verdict applied, with `applied` */
  readonly verdict?: EdgeVerdict;
  /** why, for everything but `applied` */
  readonly reason?: string;
}

/** The event a finished job turns into. */
export type JobFinishedEvent = Extract<StageEvent, { type: 'job.finished' }>;

/**
 * The pipeline runtime: turns events into stored transitions and performs
 * their effects; runs decisions (an edge's gates, bound to commits, recorded).
 * Every method resolves to a `Result`; none throws.
 */
export interface Pipeline {
  /** A normalised tracker or forge event (from a webhook or from polling). */
  handle(event: InboundEvent): AsyncResult<HandleOutcome, ConveyorError>;
  /**
   * Moves a task on: with a finished agent job, applies `job.finished` (ignored when
   * the job is not the task's current step); with a decision job that ended outside
   * its runner (reaped), settles the decision; without a job, starts a task that was
   * created but never started.
   */
  advance(taskId: string, finishedJob?: Job): AsyncResult<ApplyOutcome, ConveyorError>;
  /** Applies one stage event to a task: transition, one saved transition, then effects. */
  apply(taskId: string, event: StageEvent): AsyncResult<ApplyOutcome, ConveyorError>;
  /**
   * Runs a claimed `decision` job: under the task's `decide:` lease, records the
   * decision and its pin, runs the edge's gates (each verdict recorded as it
   * comes), records the outcome, applies it once. `signal` stops the gates.
   */
  runDecision(job: Job, signal?: AbortSignal): AsyncResult<DecisionRun, ConveyorError>;
  /**
   * What the reconciler does for a gating task, from the record: an outcome not
   * applied is applied once; no job for the step enqueues one (the lost effect);
   * a job that ended with no outcome records an `error` (retried); an applied
   * outcome stays silent. Never runs a gate itself.
   *
   * `seen.task` is a row of the task the caller has just read (the reconciler's
   * page): the lease-free first look uses it instead of reading the task again;
   * anything past that look re-reads the task under the lease.
   */
  settleDecision(taskId: string, seen?: { readonly task?: Task }): AsyncResult<DecisionRun, ConveyorError>;
  /** Performs an `enqueue_job` effect for a task again (idempotent by step key): agent or decision job. */
  enqueueCurrentStep(taskId: string): AsyncResult<Job | undefined, ConveyorError>;
  /** The stage spec the pipeline runs. */
  readonly stages: StagesSpec;
}
