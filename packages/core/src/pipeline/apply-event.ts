// Applies one stage event to a task: the pure transition, one saved transition
// (retried on a version conflict), then its effects.
import type { Task } from '../ports/domain.js';
import type { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { transition } from '../stages/transition.js';
import type { StageEvent } from '../stages/types.js';
import type { PipelineContext } from './context.js';
import { performEffects } from './effects.js';
import type { ApplyOutcome } from './types.js';

/**
 * Applies `event` to the task, starting from the row the caller read. On a
 * version conflict the task is read again and the event re-applied to it (the
 * transition then decides afresh whether it still applies).
 */
export async function applyEvent(
  ctx: PipelineContext,
  start: Task,
  event: StageEvent,
): Promise<Result<ApplyOutcome, ConveyorError>> {
  const { store, stages: spec, clock } = ctx.options;
  const maxSaveAttempts = ctx.options.maxSaveAttempts ?? 5;
  let task = start;
  for (let attempt = 1; ; attempt += 1) {
    const result = transition(spec, task.snapshot, event);
    if (!result.changed) {
      ctx.logger.debug('event did not apply', { taskId: task.id, event: event.type, reason: result.ignoredReason });
      return ok({
        task,
        changed: false,
        ...(result.ignoredReason === undefined ? {} : { reason: result.ignoredReason }),
        failedEffects: [],
      });
    }
    const verdictSummary = event.type === 'gates.decided' ? event.verdict.summary : undefined;
    const saved = await store.saveTransition({
      taskId: task.id,
      expectedVersion: task.version,
      snapshot: result.snapshot,
      cause: event.type,
      ...(verdictSummary === undefined ? {} : { verdictSummary }),
      now: clock.now(),
    });
    if (!saved.ok) {
      if (saved.error.code !== 'conflict' || attempt >= maxSaveAttempts) return err(saved.error);
      const fresh = await ctx.loadTask(task.id);
      if (!fresh.ok) return fresh.error.code === 'not_found' ? err(saved.error) : err(fresh.error);
      task = fresh.value;
      continue;
    }
    const from = { stage: task.snapshot.stage, status: task.snapshot.status };
    const to = { stage: result.snapshot.stage, status: result.snapshot.status };
    ctx.logger.info('task transition', {
      taskId: task.id,
      from: `${from.stage}/${from.status}`,
      to: `${to.stage}/${to.status}`,
      cause: event.type,
      step: result.snapshot.step,
      effects: result.effects.map((e) => e.type),
    });
    ctx.options.events?.emit('transition', { taskId: task.id, from, to, cause: event.type });
    const failedEffects = await performEffects(ctx, saved.value, result.effects);
    const latest = await store.getTask(task.id);
    const after = latest.ok && latest.value !== undefined ? latest.value : saved.value;
    return ok({ task: after, changed: true, failedEffects });
  }
}
