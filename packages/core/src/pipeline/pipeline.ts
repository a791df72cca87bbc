import type { Job } from '../ports/domain.js';
import { TERMINAL_TASK_STATUSES } from '../ports/domain.js';
import type { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { safeLogger } from '../runtime/logger.js';
import { findStage } from '../stages/define.js';
import { applyEvent } from './apply-event.js';
import { createPipelineContext, type PipelineContext } from './context.js';
import { defaultHolderId } from './decision-lease.js';
import { enqueueCurrentStep } from './enqueue-step.js';
import { handleInbound } from './inbound.js';
import { runDecision, settleDecision } from './run-decision.js';
import { stepKey } from './step-key.js';
import type { ApplyOutcome, Pipeline, PipelineOptions } from './types.js';

async function advance(
  ctx: PipelineContext,
  holder: string,
  taskId: string,
  finishedJob?: Job,
): Promise<Result<ApplyOutcome, ConveyorError>> {
  const loaded = await ctx.loadTask(taskId);
  if (!loaded.ok) return err(loaded.error);
  const task = loaded.value;
  if (finishedJob === undefined) {
    if (task.snapshot.step === 0 && !TERMINAL_TASK_STATUSES.includes(task.snapshot.status)) {
      return applyEvent(ctx, task, { type: 'task.created' });
    }
    return ok({ task, changed: false, reason: 'nothing to advance without a finished job', failedEffects: [] });
  }
  if (finishedJob.stepKey !== stepKey(task.id, task.snapshot.step)) {
    return ok({
      task,
      changed: false,
      reason: `job ${finishedJob.id} (${finishedJob.stepKey}) is not the current step ${task.snapshot.step}`,
      failedEffects: [],
    });
  }
  if (finishedJob.kind === 'decision') {
    // a decision job that ended outside its runner (reaped): settle it from the record
    const settled = await settleDecision(ctx, holder, taskId);
    if (!settled.ok) return err(settled.error);
    const after = await ctx.loadTask(taskId);
    return ok({
      task: after.ok ? after.value : task,
      changed: settled.value.action === 'applied',
      ...(settled.value.reason === undefined ? {} : { reason: settled.value.reason }),
      failedEffects: [],
    });
  }
  const exitCode = finishedJob.exitCode ?? null;
  if (exitCode === 0 && findStage(ctx.options.stages, finishedJob.stage)?.action === true) {
    ctx.logger.info('action stage job finished; an action commits nothing, as expected', {
      taskId,
      jobId: finishedJob.id,
      stage: finishedJob.stage,
    });
  }
  return applyEvent(ctx, task, {
    type: 'job.finished',
    stage: finishedJob.stage,
    exitCode,
    ...(finishedJob.reason === undefined ? {} : { reason: finishedJob.reason }),
  });
}

/**
 * Creates the pipeline runtime. An event becomes a pure `transition`; the new
 * snapshot and its history entry are stored in one `saveTransition` (retried on
 * a version conflict), and only then are the effects performed. A gating task's
 * decision is a `decision` job the worker claims like an agent job and runs
 * with {@link Pipeline.runDecision}: bound to the commits `resolvePin` returns,
 * recorded in the store before any gate runs, decided under the task's
 * `decide:` lease so no two hosts decide one task at once.
 *
 * @example
 * ```ts
 * const pipeline = createPipeline({ store, stages: DEFAULT_STAGES, gates: registry, clock: systemClock, logger, repo: 'acme/web', resolvePin });
 * const outcome = await pipeline.handle({ kind: 'tracker.issue', action: 'created', issue });
 * if (outcome.ok) logger.info('handled', { action: outcome.value.action });
 * ```
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const ctx = createPipelineContext(options, safeLogger(options.logger).child({ component: 'pipeline' }));
  const holder = options.holderId ?? defaultHolderId();
  return Object.freeze({
    handle: (event) => handleInbound(ctx, event),
    advance: (taskId, finishedJob) => advance(ctx, holder, taskId, finishedJob),
    apply: async (taskId, event) => {
      const task = await ctx.loadTask(taskId);
      return task.ok ? applyEvent(ctx, task.value, event) : err(task.error);
    },
    runDecision: (job, signal) => runDecision(ctx, holder, job, signal),
    settleDecision: (taskId, seen) => settleDecision(ctx, holder, taskId, seen?.task),
    enqueueCurrentStep: (taskId) => enqueueCurrentStep(ctx, taskId),
    stages: options.stages,
  } satisfies Pipeline);
}
