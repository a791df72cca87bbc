// Finds the task an inbound event is about: a new issue's route, the task a
// commit status belongs to.
import type { InboundEvent } from '../events/inbound.js';
import type { Task } from '../ports/domain.js';
import { TERMINAL_TASK_STATUSES } from '../ports/domain.js';
import type { TrackerIssue } from '../ports/tracker.js';
import type { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import type { PipelineContext } from './context.js';
import type { TaskRoute } from './types.js';

/** Where a new issue's task works: the `route` option, else `repo` and `task/<key or id>`. */
export function routeIssue(ctx: PipelineContext, issue: TrackerIssue): TaskRoute | undefined {
  const { route, repo } = ctx.options;
  if (route) return route(issue);
  if (repo === undefined) return undefined;
  return { repo, branch: `task/${issue.key ?? issue.id}` };
}

/**
 * The task a commit status is about: by the event's branches, else by the
 * forge's sha → branch lookup, else the one task of the repository in the
 * rollback stage. Several candidates are never guessed between.
 */
export async function resolveStatusTask(
  ctx: PipelineContext,
  event: Extract<InboundEvent, { kind: 'forge.status' }>,
): Promise<Result<{ task?: Task; reason?: string }, ConveyorError>> {
  const { store, forge, stages: spec } = ctx.options;
  const branches = [...(event.branches ?? [])];
  if (branches.length === 0 && forge) {
    const resolved = await forge.resolveShaToBranch(event.repo, event.sha);
    if (resolved.ok && resolved.value !== undefined) branches.push(resolved.value);
    if (!resolved.ok)
      ctx.logger.warn('cannot resolve sha to a branch', { sha: event.sha, error: resolved.error.message });
  }
  const found: Task[] = [];
  for (const branch of branches) {
    const byBranch = await store.findTaskByBranch(event.repo, branch);
    if (!byBranch.ok) return err(byBranch.error);
    if (byBranch.value && !found.some((t) => t.id === byBranch.value?.id)) found.push(byBranch.value);
  }
  if (found.length === 1) return ok({ task: found[0] as Task });
  if (found.length > 1) return ok({ reason: `sha ${event.sha} is on ${found.length} task branches` });
  const inDevelopment = await store.listTasks({
    repo: event.repo,
    stage: spec.rollbackStage,
    excludeStatuses: TERMINAL_TASK_STATUSES,
    limit: 2,
  });
  if (!inDevelopment.ok) return err(inDevelopment.error);
  if (inDevelopment.value.length === 1) return ok({ task: inDevelopment.value[0] as Task });
  return ok({
    reason:
      inDevelopment.value.length === 0
        ? `sha ${event.sha} resolves to no branch and ${event.repo} has no task in ${spec.rollbackStage}`
        : `sha ${event.sha} resolves to no branch and ${event.repo} has several tasks in ${spec.rollbackStage}; not guessing`,
  });
}
