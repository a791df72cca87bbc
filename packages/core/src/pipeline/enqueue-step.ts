// Enqueues the job of a task's current step again (what the reconciler does
// for a lost enqueue): the agent's job, or the decision job of a gating task.
import type { Job, Task } from '../ports/domain.js';
import type { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { edgeId, findStage, outgoingEdge } from '../stages/define.js';
import { DECISION_AGENT } from '../stages/transition.js';
import type { PipelineContext } from './context.js';
import { stepKey } from './step-key.js';

function currentEdge(ctx: PipelineContext, task: Task): string | undefined {
  const edge = outgoingEdge(ctx.options.stages, task.snapshot.stage);
  return edge === undefined ? undefined : edgeId(edge.from, edge.to);
}

/** Enqueues the decision job of the task's current step (idempotent by step key). */
export async function enqueueDecisionJob(ctx: PipelineContext, task: Task, edge: string) {
  const now = ctx.options.clock.now();
  return ctx.options.store.enqueueJob({
    taskId: task.id,
    stage: task.snapshot.stage,
    agent: DECISION_AGENT,
    kind: 'decision',
    stepKey: stepKey(task.id, task.snapshot.step),
    attempt: 1,
    edge,
    input: { description: task.description },
    availableAt: now,
    now,
  });
}

/** Enqueues the job of the task's current step again: its agent's job, or its decision job. */
export async function enqueueCurrentStep(
  ctx: PipelineContext,
  taskId: string,
): Promise<Result<Job | undefined, ConveyorError>> {
  const loaded = await ctx.loadTask(taskId);
  if (!loaded.ok) return err(loaded.error);
  const task = loaded.value;
  const { snapshot } = task;
  if (snapshot.step === 0) return ok(undefined);
  if (snapshot.status === 'gating') {
    const edge = currentEdge(ctx, task);
    if (edge === undefined) return ok(undefined);
    const enq = await enqueueDecisionJob(ctx, task, edge);
    return enq.ok ? ok(enq.value.job) : err(enq.error);
  }
  if (snapshot.status !== 'active') return ok(undefined);
  const stage = findStage(ctx.options.stages, snapshot.stage);
  if (stage?.agent === undefined) return ok(undefined);
  const now = ctx.options.clock.now();
  const enq = await ctx.options.store.enqueueJob({
    taskId,
    stage: snapshot.stage,
    agent: stage.agent,
    kind: 'agent',
    stepKey: stepKey(taskId, snapshot.step),
    attempt: snapshot.jobAttempts + 1,
    input: {
      description: task.description,
      ...(snapshot.findings === undefined ? {} : { findings: snapshot.findings }),
    },
    availableAt: now,
    now,
  });
  return enq.ok ? ok(enq.value.job) : err(enq.error);
}
