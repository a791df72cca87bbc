// Runs and settles decisions. A decision is one step of a gating task: under
// the task's `decide:` lease it is recorded with the commits it is bound to,
// the edge's gates run (each verdict recorded as it comes), the outcome is
// recorded once, then applied once.
import type { EdgeVerdict } from '../gates/types.js';
import type { Decision } from '../ports/decisions.js';
import type { Job, Task } from '../ports/domain.js';
import { type ConveyorError, describeError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { edgeId, outgoingEdge } from '../stages/define.js';
import { applyEvent } from './apply-event.js';
import type { PipelineContext } from './context.js';
import { acquireDecisionLease, type HeldDecisionLease } from './decision-lease.js';
import { errorVerdict, outcomeOf, pinFields, pinOf, UNPINNED, verdictOfDecision } from './decision-values.js';
import { enqueueDecisionJob } from './enqueue-step.js';
import { stepKey } from './step-key.js';
import type { DecisionRun, ResolvedPin } from './types.js';

const DEFAULT_LEASE_TTL_MS = 60_000;

function currentEdge(ctx: PipelineContext, task: Task): string | undefined {
  const edge = outgoingEdge(ctx.options.stages, task.snapshot.stage);
  return edge === undefined ? undefined : edgeId(edge.from, edge.to);
}

function stale(task: Task, reason: string): Result<DecisionRun, ConveyorError> {
  return ok({ action: 'stale', taskId: task.id, reason });
}

/** Why the task is not deciding `job` now, or `undefined` when it is. */
function notCurrent(ctx: PipelineContext, task: Task, job?: Job): string | undefined {
  if (task.snapshot.status !== 'gating') return `task ${task.id} is ${task.snapshot.status}, not gating`;
  if (job !== undefined && job.stepKey !== stepKey(task.id, task.snapshot.step)) {
    return `job ${job.id} (${job.stepKey}) is not the current step ${task.snapshot.step}`;
  }
  const edge = currentEdge(ctx, task);
  if (edge === undefined) return `stage ${task.snapshot.stage} has no outgoing edge`;
  if (job?.edge !== undefined && job.edge !== edge) return `job ${job.id} decides ${job.edge}, not ${edge}`;
  return undefined;
}

/** Runs `body` under the task's decision lease; `busy` when another runner holds it. */
async function underLease(
  ctx: PipelineContext,
  taskId: string,
  holder: string,
  body: (held: HeldDecisionLease) => Promise<Result<DecisionRun, ConveyorError>>,
): Promise<Result<DecisionRun, ConveyorError>> {
  const { store, clock } = ctx.options;
  const ttl = ctx.options.decisionLeaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const held = await acquireDecisionLease(store, taskId, holder, ttl, () => clock.now());
  if (!held.ok) return err(held.error);
  if (held.value === undefined) {
    return ok({ action: 'busy', taskId, reason: 'another runner holds the decision lease' });
  }
  try {
    return await body(held.value);
  } finally {
    await held.value.release();
  }
}

/**
 * Applies a recorded outcome to the task once, then marks it applied. The
 * decision job (when a runner holds one) ends first, so the jobs the outcome
 * enqueues never run beside it: a task has one active job at a time.
 */
async function applyRecorded(
  ctx: PipelineContext,
  task: Task,
  decision: Decision,
  verdict: EdgeVerdict,
  job?: Job,
): Promise<Result<DecisionRun, ConveyorError>> {
  if (job !== undefined) {
    const flip = await ctx.options.store.finishJob({
      jobId: job.id,
      status: 'succeeded',
      exitCode: null,
      reason: `decided: ${verdict.status}`,
      now: ctx.options.clock.now(),
    });
    if (!flip.ok) return err(flip.error);
  }
  const applied = await applyEvent(ctx, task, {
    type: 'gates.decided',
    edge: decision.edge,
    verdict,
    step: decision.step,
  });
  if (!applied.ok) return err(applied.error);
  const marked = await ctx.options.store.markDecisionApplied(decision.id, ctx.options.clock.now());
  if (!marked.ok) {
    ctx.logger.warn('cannot mark a decision applied (the task moved on; harmless)', {
      taskId: task.id,
      decisionId: decision.id,
      error: marked.error.message,
    });
  }
  return ok({ action: 'applied', taskId: task.id, decision, verdict });
}

/** Records the outcome (fenced), logs the one line of the decision, emits `edge.decided`, applies it. */
async function conclude(
  ctx: PipelineContext,
  task: Task,
  decision: Decision,
  fence: number,
  verdict: EdgeVerdict,
  job?: Job,
): Promise<Result<DecisionRun, ConveyorError>> {
  const finished = await ctx.options.store.finishDecision({
    decisionId: decision.id,
    fence,
    outcome: outcomeOf(verdict),
    now: ctx.options.clock.now(),
  });
  if (!finished.ok) {
    if (finished.error.code === 'lease_lost' || finished.error.code === 'conflict') {
      return ok({ action: 'lost', taskId: task.id, decision, reason: finished.error.message });
    }
    return err(finished.error);
  }
  ctx.logger.info('edge decided', {
    taskId: task.id,
    edge: decision.edge,
    step: decision.step,
    decisionId: decision.id,
    headSha: decision.headSha,
    baseSha: decision.baseSha,
    status: verdict.status,
    summary: verdict.summary,
  });
  ctx.options.events?.emit('edge.decided', { taskId: task.id, verdict });
  return applyRecorded(ctx, task, finished.value, verdict, job);
}

async function resolvePin(ctx: PipelineContext, task: Task, signal: AbortSignal): Promise<Result<ResolvedPin, string>> {
  const resolver = ctx.options.resolvePin;
  if (resolver === undefined) return ok(UNPINNED);
  try {
    const pin = await resolver(task, signal);
    if (pin.ok) return ok(pin.value);
    // no branch to pin (an analysis edge, before any commit): decided unpinned; a gate that needs
    // the branch finds it missing and fails closed itself
    if (pin.error.code === 'not_found') return ok(UNPINNED);
    return err(pin.error.message);
  } catch (thrown) {
    return err(describeError(thrown));
  }
}

/** The decision of a claimed `decision` job, under the task's lease. */
export async function runDecision(
  ctx: PipelineContext,
  holder: string,
  job: Job,
  signal?: AbortSignal,
): Promise<Result<DecisionRun, ConveyorError>> {
  const first = await ctx.loadTask(job.taskId);
  if (!first.ok) return err(first.error);
  const why = notCurrent(ctx, first.value, job);
  if (why !== undefined) return stale(first.value, why);
  return underLease(ctx, job.taskId, holder, async (held) => {
    const { store, clock } = ctx.options;
    // re-read under the lease: whoever held it before may have moved the task
    const loaded = await ctx.loadTask(job.taskId);
    if (!loaded.ok) return err(loaded.error);
    const task = loaded.value;
    const whyNot = notCurrent(ctx, task, job);
    if (whyNot !== undefined) return stale(task, whyNot);
    const edge = currentEdge(ctx, task) as string;
    const step = task.snapshot.step;
    const fence = held.lease.token;
    const abort = AbortSignal.any(signal === undefined ? [held.lost] : [signal, held.lost]);

    const existing = await store.getDecision(task.id, step);
    if (!existing.ok) return err(existing.error);
    const recorded = existing.value === undefined ? undefined : verdictOfDecision(existing.value);
    if (existing.value !== undefined && recorded !== undefined) {
      return existing.value.appliedAt === undefined
        ? applyRecorded(ctx, task, existing.value, recorded, job)
        : ok({ action: 'silent', taskId: task.id, decision: existing.value, reason: 'already applied' });
    }
    // the commits are resolved once, when the decision starts; a takeover keeps the recorded ones
    const pin = existing.value === undefined ? await resolvePin(ctx, task, abort) : ok(existing.value);
    const started = await store.startDecision({
      taskId: task.id,
      edge,
      step,
      ...(pin.ok
        ? { headSha: pin.value.headSha, baseSha: pin.value.baseSha, baseBranch: pin.value.baseBranch }
        : UNPINNED),
      fence,
      now: clock.now(),
    });
    if (!started.ok) return err(started.error);
    const decision = started.value.decision;
    if (decision.fence !== fence) {
      return ok({
        action: 'lost',
        taskId: task.id,
        decision,
        reason: `fence ${decision.fence} is newer than ${fence}`,
      });
    }
    if (!pin.ok) {
      const why = errorVerdict(edge, `cannot resolve the commits to decide: ${pin.error}`);
      return conclude(ctx, task, decision, fence, why, job);
    }

    let verdict = await ctx.options.gates.runEdge(edge, {
      task,
      // an unpinned decision (no resolvePin) hands the gates no pin: they judge what they fetch
      ...(decision.headSha === '' ? {} : { decision: pinOf(decision) }),
      logger: ctx.logger.child({ taskId: task.id, edge, step, decisionId: decision.id }),
      now: () => clock.now(),
      readOnly: false,
      signal: abort,
      ...(ctx.options.workdirFor?.(task) === undefined ? {} : { workdir: ctx.options.workdirFor?.(task) as string }),
      ...(ctx.options.reportDir === undefined ? {} : { reportDir: ctx.options.reportDir }),
      onVerdict: async (gateVerdict) => {
        const rec = await store.recordGateVerdict({ decisionId: decision.id, fence, verdict: gateVerdict });
        if (!rec.ok) {
          ctx.logger.warn('cannot record a gate verdict; the decision stops', {
            taskId: task.id,
            gateId: gateVerdict.gateId,
            error: rec.error.message,
          });
        }
        return rec.ok;
      },
    });
    if (held.lost.aborted) {
      return ok({ action: 'lost', taskId: task.id, decision, reason: 'the decision lease was lost mid-run' });
    }
    // an aborted gate (a killed retest) is not a finding: the decision is retried, never rolled back
    if (signal?.aborted === true && verdict.status !== 'pass') {
      verdict = errorVerdict(edge, `the host stopped during the decision (${verdict.summary})`, verdict.verdicts);
    }
    return conclude(ctx, task, decision, fence, verdict, job);
  });
}

/**
 * What the reconciler (and a reaped decision job) does for a gating task, from the record.
 * `seenTask`, a row the caller has just read, spares the lease-free first read.
 */
export async function settleDecision(
  ctx: PipelineContext,
  holder: string,
  taskId: string,
  seenTask?: Task,
): Promise<Result<DecisionRun, ConveyorError>> {
  const first = seenTask?.id === taskId ? ok(seenTask) : await ctx.loadTask(taskId);
  if (!first.ok) return err(first.error);
  const why = notCurrent(ctx, first.value);
  if (why !== undefined) return stale(first.value, why);
  // the common case, read without the lease: decided and applied, nothing to do
  const seen = await ctx.options.store.getDecision(taskId, first.value.snapshot.step);
  if (!seen.ok) return err(seen.error);
  if (seen.value?.outcome !== undefined && seen.value.appliedAt !== undefined) {
    return ok({ action: 'silent', taskId, decision: seen.value, reason: 'the outcome is applied already' });
  }
  return underLease(ctx, taskId, holder, async (held) => {
    const { store, clock } = ctx.options;
    const loaded = await ctx.loadTask(taskId);
    if (!loaded.ok) return err(loaded.error);
    const task = loaded.value;
    const whyNot = notCurrent(ctx, task);
    if (whyNot !== undefined) return stale(task, whyNot);
    const edge = currentEdge(ctx, task) as string;
    const step = task.snapshot.step;

    const existing = await store.getDecision(task.id, step);
    if (!existing.ok) return err(existing.error);
    const recorded = existing.value === undefined ? undefined : verdictOfDecision(existing.value);
    if (existing.value !== undefined && recorded !== undefined) {
      return existing.value.appliedAt === undefined
        ? applyRecorded(ctx, task, existing.value, recorded)
        : ok({ action: 'silent', taskId, decision: existing.value, reason: 'the outcome is applied already' });
    }
    const jobs = await store.listJobs({ taskId });
    if (!jobs.ok) return err(jobs.error);
    const stepJob = jobs.value.find((j) => j.stepKey === stepKey(taskId, step));
    if (stepJob === undefined) {
      const enq = await enqueueDecisionJob(ctx, task, edge);
      if (!enq.ok) return err(enq.error);
      return ok({ action: 'enqueued', taskId, reason: `no decision job for step ${step}: enqueued one` });
    }
    if (stepJob.status === 'queued' || stepJob.status === 'running') {
      return ok({ action: 'waiting', taskId, reason: `decision job ${stepJob.id} is ${stepJob.status}` });
    }
    // the step's job ended and no outcome was recorded: the decision was lost (its host died)
    const started = await store.startDecision({
      taskId,
      edge,
      step,
      ...pinFields(existing.value ?? UNPINNED),
      fence: held.lease.token,
      now: clock.now(),
    });
    if (!started.ok) return err(started.error);
    if (started.value.decision.fence !== held.lease.token) {
      return ok({ action: 'lost', taskId, decision: started.value.decision, reason: 'a newer runner holds it' });
    }
    const verdict = errorVerdict(
      edge,
      `the decision of step ${step} ended with no outcome (job ${stepJob.id} ${stepJob.status}${stepJob.reason === undefined ? '' : `: ${stepJob.reason}`})`,
      started.value.decision.verdicts,
    );
    return conclude(ctx, task, started.value.decision, held.lease.token, verdict);
  });
}
