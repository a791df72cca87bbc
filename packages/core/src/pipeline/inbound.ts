// Routes a normalised inbound event (webhook or poll) to what it means for a task.
import type { InboundEvent } from '../events/inbound.js';
import { mergeLeaseName, taskOfLeaseHolder } from '../leases/merge-lease.js';
import type { TrackerIssue } from '../ports/tracker.js';
import { type ConveyorError, toConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { initialSnapshot } from '../stages/define.js';
import { applyEvent } from './apply-event.js';
import { type PipelineContext, PKG } from './context.js';
import { resolveStatusTask, routeIssue } from './resolve-task.js';
import type { HandleOutcome } from './types.js';

function sameState(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

async function handleIssue(ctx: PipelineContext, issue: TrackerIssue): Promise<Result<HandleOutcome, ConveyorError>> {
  const { store, stages: spec, clock } = ctx.options;
  const project = ctx.options.projectOf ? ctx.options.projectOf(issue) : issue.project;
  const existing = await store.findTaskByIssue(project, issue.id);
  if (!existing.ok) return err(existing.error);
  if (existing.value !== undefined && existing.value.snapshot.step > 0) {
    const applied = await applyEvent(ctx, existing.value, { type: 'tracker.status_changed', state: issue.state });
    if (!applied.ok) return err(applied.error);
    return ok(
      applied.value.changed
        ? { action: 'advanced', taskId: applied.value.task.id }
        : { action: 'unchanged', taskId: applied.value.task.id, reason: applied.value.reason ?? 'no change' },
    );
  }
  let task = existing.value;
  let created = false;
  if (task === undefined) {
    const startStates = ctx.options.startStates ?? ['Todo'];
    if (!startStates.some((s) => sameState(s, issue.state))) {
      return ok({ action: 'ignored', reason: `issue ${issue.id} is in "${issue.state}", not a start state` });
    }
    const where = routeIssue(ctx, issue);
    if (where === undefined) {
      ctx.logger.warn('no route for a new issue; configure `route` or `repo`', { issueId: issue.id, project });
      return ok({ action: 'ignored', reason: `no repository route for issue ${issue.id}` });
    }
    const made = await store.createTaskIfAbsent({
      project,
      issueId: issue.id,
      repo: where.repo,
      branch: where.branch,
      title: issue.title,
      description: issue.description,
      snapshot: initialSnapshot(spec),
      now: clock.now(),
    });
    if (!made.ok) return err(made.error);
    task = made.value.task;
    created = made.value.created;
  }
  const started = await applyEvent(ctx, task, { type: 'task.created' });
  if (!started.ok) return err(started.error);
  return ok({ action: created ? 'created' : started.value.changed ? 'advanced' : 'unchanged', taskId: task.id });
}

async function handlePullRequest(
  ctx: PipelineContext,
  event: Extract<InboundEvent, { kind: 'forge.pull_request' }>,
): Promise<Result<HandleOutcome, ConveyorError>> {
  const { store } = ctx.options;
  if (!event.merged) return ok({ action: 'ignored', reason: `pull request ${event.number} not merged` });
  const task = await store.findTaskByBranch(event.repo, event.head);
  if (!task.ok) return err(task.error);
  if (task.value === undefined) {
    return ok({ action: 'unresolved', reason: `no task for branch ${event.head} of ${event.repo}` });
  }
  // Only the task's own grant is released: whoever else holds the lease keeps it.
  const lease = await store.getLease(mergeLeaseName(event.repo));
  if (!lease.ok) return err(lease.error);
  const held = lease.value !== undefined && taskOfLeaseHolder(lease.value.holder) === task.value.id;
  const released =
    held && lease.value
      ? await store.releaseLease({ name: lease.value.name, holder: lease.value.holder, token: lease.value.token })
      : ok({ released: false });
  if (!released.ok) return err(released.error);
  return ok(
    released.value.released
      ? { action: 'released', taskId: task.value.id }
      : { action: 'unchanged', taskId: task.value.id, reason: 'the task did not hold the merge lease' },
  );
}

async function handleStatus(
  ctx: PipelineContext,
  event: Extract<InboundEvent, { kind: 'forge.status' }>,
): Promise<Result<HandleOutcome, ConveyorError>> {
  const resolved = await resolveStatusTask(ctx, event);
  if (!resolved.ok) return err(resolved.error);
  const task = resolved.value.task;
  if (task === undefined) {
    ctx.logger.warn('status event not resolved to a task', {
      repo: event.repo,
      sha: event.sha,
      reason: resolved.value.reason,
    });
    return ok({ action: 'unresolved', reason: resolved.value.reason ?? 'no task' });
  }
  // A gating task's decision is a queued job: it runs when its delay is over, under the claim limit.
  return ok({ action: 'resolved', taskId: task.id });
}

/** Routes one inbound event; never throws. */
export async function handleInbound(
  ctx: PipelineContext,
  event: InboundEvent,
): Promise<Result<HandleOutcome, ConveyorError>> {
  try {
    switch (event.kind) {
      case 'tracker.issue':
        return await handleIssue(ctx, event.issue);
      case 'tracker.issue_deleted': {
        const task = await ctx.options.store.findTaskByIssue(event.project, event.issueId);
        if (!task.ok) return err(task.error);
        if (task.value === undefined) return ok({ action: 'ignored', reason: `no task for issue ${event.issueId}` });
        const applied = await applyEvent(ctx, task.value, { type: 'rejected', reason: 'the issue was deleted' });
        if (!applied.ok) return err(applied.error);
        return ok({ action: applied.value.changed ? 'advanced' : 'unchanged', taskId: task.value.id });
      }
      case 'forge.pull_request':
        return await handlePullRequest(ctx, event);
      case 'forge.status':
        return await handleStatus(ctx, event);
      default:
        return ok({ action: 'ignored', reason: `${event.kind} needs no action` });
    }
  } catch (thrown) {
    return err(toConveyorError(PKG, thrown, 'internal', `handling ${event.kind} failed`));
  }
}
