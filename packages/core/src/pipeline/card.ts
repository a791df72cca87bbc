import type { Task } from '../ports/domain.js';
import type { StageMark, TaskCard } from '../ports/notifier.js';
import type { StagesSpec } from '../stages/types.js';

/**
 * The live card of a task: every stage marked done, current, failed or
 * pending, and the last verdict's one-line summary; a blocked task's card
 * says why it is blocked.
 *
 * @example
 * ```ts
 * await notifier.upsertCard(buildTaskCard(DEFAULT_STAGES, task, clock.now()));
 * ```
 */
export function buildTaskCard(spec: StagesSpec, task: Task, now: number, links: TaskCard['links'] = []): TaskCard {
  const { snapshot } = task;
  const current = spec.stages.findIndex((s) => s.id === snapshot.stage);
  const stages = spec.stages.map((stage, index): { id: string; mark: StageMark } => {
    if (index < current) return { id: stage.id, mark: 'done' };
    if (index > current) return { id: stage.id, mark: 'pending' };
    if (snapshot.status === 'failed' || snapshot.status === 'rejected') return { id: stage.id, mark: 'failed' };
    if (snapshot.status === 'done') return { id: stage.id, mark: 'done' };
    return { id: stage.id, mark: 'current' };
  });
  const last =
    snapshot.status === 'blocked' && snapshot.reason !== undefined
      ? `blocked on ${snapshot.lastVerdict?.edge ?? snapshot.stage}: ${snapshot.reason}`
      : snapshot.lastVerdict === undefined
        ? undefined
        : `${snapshot.lastVerdict.edge}: ${snapshot.lastVerdict.status}, ${snapshot.lastVerdict.summary}`;
  return {
    taskId: task.id,
    title: task.title,
    status: snapshot.status,
    stages,
    ...(last === undefined ? {} : { lastVerdict: last }),
    links,
    updatedAt: now,
  };
}
