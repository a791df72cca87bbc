// Performs the effects of one saved transition. Each effect is idempotent (a
// step's job has the key `${taskId}:${step}`, a card update is an update), so
// performing them again after a crash does no harm.
import { taskOfLeaseHolder } from '../leases/merge-lease.js';
import type { Task } from '../ports/domain.js';
import { type ConveyorError, toConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import type { StageEffect } from '../stages/types.js';
import { buildTaskCard } from './card.js';
import { type PipelineContext, PKG } from './context.js';
import { stepKey } from './step-key.js';

async function performEffect(
  ctx: PipelineContext,
  task: Task,
  effect: StageEffect,
): Promise<Result<void, ConveyorError>> {
  const { store, clock, stages: spec } = ctx.options;
  const now = clock.now();
  switch (effect.type) {
    case 'enqueue_job': {
      const enq = await store.enqueueJob({
        taskId: task.id,
        stage: effect.stage,
        agent: effect.agent,
        kind: effect.kind,
        stepKey: stepKey(task.id, effect.step),
        attempt: effect.attempt,
        ...(effect.edge === undefined ? {} : { edge: effect.edge }),
        input: {
          description: task.description,
          ...(effect.findings === undefined ? {} : { findings: effect.findings }),
        },
        availableAt: now + effect.delayMs,
        now,
      });
      if (!enq.ok) return err(enq.error);
      if (!enq.value.created) {
        ctx.logger.info('job already enqueued for this step', { taskId: task.id, step: effect.step });
      }
      return ok();
    }
    case 'notify': {
      const { notifier, linksFor } = ctx.options;
      if (!notifier) return ok();
      return notifier.upsertCard(buildTaskCard(spec, task, now, linksFor ? linksFor(task) : []));
    }
    case 'set_tracker_state':
      return ctx.options.tracker ? ctx.options.tracker.setState(task.issueId, effect.state) : ok();
    case 'comment_tracker':
      return ctx.options.tracker ? ctx.options.tracker.comment(task.issueId, effect.body) : ok();
    case 'release_leases': {
      const leases = await store.listLeases();
      if (!leases.ok) return err(leases.error);
      for (const lease of leases.value) {
        if (taskOfLeaseHolder(lease.holder) !== task.id) continue;
        const released = await store.releaseLease({ name: lease.name, holder: lease.holder, token: lease.token });
        if (!released.ok) return err(released.error);
      }
      return ok();
    }
    case 'cancel_jobs': {
      const cancelled = await store.cancelQueuedJobs(task.id, effect.reason, now);
      return cancelled.ok ? ok() : err(cancelled.error);
    }
    default:
      return ok();
  }
}

/**
 * Performs every effect in order; a failing effect is logged and the others
 * still run (the stored transition stays and the reconciler repairs).
 * Returns the types of the effects that failed.
 */
export async function performEffects(
  ctx: PipelineContext,
  task: Task,
  effects: readonly StageEffect[],
): Promise<StageEffect['type'][]> {
  const failed: StageEffect['type'][] = [];
  for (const effect of effects) {
    let outcome: Result<void, ConveyorError>;
    try {
      outcome = await performEffect(ctx, task, effect);
    } catch (thrown) {
      outcome = err(toConveyorError(PKG, thrown, 'internal', `effect ${effect.type} threw`));
    }
    if (!outcome.ok) {
      failed.push(effect.type);
      ctx.logger.error('effect failed; the stored transition stays and the reconciler repairs', {
        taskId: task.id,
        effect: effect.type,
        error: outcome.error.message,
      });
    }
  }
  return failed;
}
