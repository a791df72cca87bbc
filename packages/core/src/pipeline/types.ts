import type { ConveyorEventBus } from '../events/bus.js';
import type { InboundEvent } from '../events/inbound.js';
import type { EdgeVerdict, GateContext } from '../gates/types.js';
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
  runEdge(edge: string, ctx: Omit<GateContext, 'signal' | 'edge'> & { signal?: AbortSignal }): Promise<EdgeVerdict>;
}

/** Where a tracker issue's task works: its repository and branch. */
export interface TaskRoute {
  /** `owner/name` */
  readonly repo: string;
  readonly branch: string;
}

/** Options of `createPipeline`. */
export interface PipelineOptions {
  readonly store: Store;
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

/** What `decideEdge` found. */
export interface EdgeDecision {
  readonly task: Task;
  readonly edge: string;
  readonly verdict: EdgeVerdict;
}

/** The event a finished job turns into. */
export type JobFinishedEvent = Extract<StageEvent, { type: 'job.finished' }>;

/**
 * The pipeline runtime: turns events into stored transitions and performs
 * their effects. Every method resolves to a `Result`; none throws.
 */
export interface Pipeline {
  /** A normalised tracker or forge event (from a webhook or from polling). */
  handle(event: InboundEvent): AsyncResult<HandleOutcome, ConveyorError>;
  /**
   * Moves a task on: with a finished job, applies `job.finished` (ignored when the
   * job is not the task's current step); without, starts a task that was created
   * but never started.
   */
  advance(taskId: string, finishedJob?: Job): AsyncResult<ApplyOutcome, ConveyorError>;
  /** Applies one stage event to a task: transition, one saved transition, then effects. */
  apply(taskId: string, event: StageEvent): AsyncResult<ApplyOutcome, ConveyorError>;
  /**
   * Runs the gates of the task's current edge and returns the verdict, applying nothing.
   * A read-only caller that already holds the task row (the reconciler) may pass it as
   * `task` to save a read; applying a verdict always re-reads and version-checks the task.
   */
  decideEdge(
    taskId: string,
    options: { readonly readOnly: boolean; readonly task?: Task },
  ): AsyncResult<EdgeDecision, ConveyorError>;
  /** Runs the gates of the task's current edge and applies the verdict (the `run_gates` effect). */
  runGates(taskId: string): AsyncResult<ApplyOutcome, ConveyorError>;
  /** Performs an `enqueue_job` effect for a task again (idempotent by step key). */
  enqueueCurrentStep(taskId: string): AsyncResult<Job | undefined, ConveyorError>;
  /** True while this pipeline runs the gates of the task. */
  isDeciding(taskId: string): boolean;
  /** The stage spec the pipeline runs. */
  readonly stages: StagesSpec;
}
