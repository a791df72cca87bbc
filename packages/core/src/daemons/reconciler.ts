import type { ConveyorEventBus } from '../events/bus.js';
import { taskOfLeaseHolder } from '../leases/merge-lease.js';
import { buildTaskCard } from '../pipeline/card.js';
import { stepKey } from '../pipeline/step-key.js';
import type { Pipeline } from '../pipeline/types.js';
import { type Task, TERMINAL_TASK_STATUSES } from '../ports/domain.js';
import type { Notifier } from '../ports/notifier.js';
import type { Clock, Logger } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import type { Tracker } from '../ports/tracker.js';
import { describeError } from '../result/errors.js';
import { safeLogger } from '../runtime/logger.js';
import { DEFAULT_RECONCILER_INTERVAL_MS } from '../settings/daemon-defaults.js';
import { createDaemonLoop, type Daemon } from './loop.js';
import { decideReconcile, type ReconcileAction } from './reconciler-decision.js';

/** Options of {@link createReconciler}. */
export interface ReconcilerOptions {
  readonly store: Store;
  readonly pipeline: Pick<Pipeline, 'advance' | 'settleDecision' | 'enqueueCurrentStep' | 'handle' | 'stages'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly notifier?: Notifier;
  readonly events?: Pick<ConveyorEventBus, 'emit'>;
  /** default {@link DEFAULT_RECONCILER_INTERVAL_MS} (60 s) */
  readonly intervalMs?: number;
  /** grace per stage id in seconds; else the stage's `graceMs`; else `defaultGraceSeconds` */
  readonly graceSeconds?: Readonly<Record<string, number>>;
  /** default 300 s */
  readonly defaultGraceSeconds?: number;
  /** poll the tracker and replay what no webhook delivered */
  readonly tracker?: Tracker;
  /** tracker states to poll (e.g. the start and approval states); polling is off when empty */
  readonly pollStates?: readonly string[];
  readonly pollPerPage?: number;
  /** tasks read per store page (default 500) */
  readonly pageSize?: number;
}

/**
 * The reconciler, level-triggered: each tick reads every task that is not
 * terminal, has no queued or running job and was not updated for its stage's
 * grace, and repairs what a crash lost: a task never started, an enqueue never
 * done, a finished job never advanced, and for a gating task decides from the
 * decision record (`pipeline.settleDecision`): no decision job for the step →
 * enqueue it (the lost effect); an outcome recorded but not applied → apply it
 * once; a decision whose job ended with no outcome → an `error` outcome (the
 * decision is retried); an applied outcome → silent. It never runs a gate
 * itself. It frees leases held by tasks that are over,
 * and polls the tracker (cursor pagination) replaying each issue through
 * `pipeline.handle`, the same handler webhooks use. Every unblocked task gets
 * a log line, a card update and a count in the status.
 *
 * @example
 * ```ts
 * const reconciler = createReconciler({ store, pipeline, clock: systemClock, logger, tracker, pollStates: ['Todo', 'Approved'] });
 * reconciler.start();
 * ```
 */
export function createReconciler(options: ReconcilerOptions): Daemon {
  const { store, pipeline, clock } = options;
  const spec = pipeline.stages;
  const logger = safeLogger(options.logger).child({ daemon: 'reconciler' });
  const pageSize = options.pageSize ?? 500;

  const defaultGraceMs = (options.defaultGraceSeconds ?? 300) * 1000;
  const graceByStage = new Map<string, number>();
  for (const stage of spec.stages) {
    const configured = options.graceSeconds?.[stage.id];
    graceByStage.set(stage.id, configured === undefined ? (stage.graceMs ?? defaultGraceMs) : configured * 1000);
  }
  const graceOf = (stage: string): number => {
    const known = graceByStage.get(stage);
    if (known !== undefined) return known;
    const configured = options.graceSeconds?.[stage];
    return configured === undefined ? defaultGraceMs : configured * 1000;
  };
  const minGrace = Math.min(...graceByStage.values());

  async function notifyUnblocked(taskId: string, how: string): Promise<void> {
    logger.info('unblocked a task', { taskId, how });
    if (!options.notifier) return;
    const task = await store.getTask(taskId);
    if (!task.ok || task.value === undefined) return;
    const card = await options.notifier.upsertCard(buildTaskCard(spec, task.value, clock.now()));
    if (!card.ok) logger.warn('cannot update the card of an unblocked task', { taskId, error: card.error.message });
  }

  async function perform(action: ReconcileAction, task: Task): Promise<'unblocked' | 'silent' | 'none'> {
    switch (action.type) {
      case 'start': {
        const r = await pipeline.advance(action.taskId);
        if (!r.ok) throw r.error;
        return r.value.changed ? 'unblocked' : 'none';
      }
      case 'enqueue': {
        const r = await pipeline.enqueueCurrentStep(action.taskId);
        if (!r.ok) throw r.error;
        return r.value === undefined ? 'none' : 'unblocked';
      }
      case 'advance': {
        const r = await pipeline.advance(action.taskId, action.job);
        if (!r.ok) throw r.error;
        return r.value.changed ? 'unblocked' : 'none';
      }
      case 'settle': {
        // the row just listed spares the settle's first read (one store read per silent task, not two)
        const r = await pipeline.settleDecision(action.taskId, { task });
        if (!r.ok) throw r.error;
        if (r.value.action === 'applied' || r.value.action === 'enqueued') return 'unblocked';
        return r.value.action === 'silent' ? 'silent' : 'none';
      }
    }
  }

  async function reconcileTasks(counts: Record<string, number>): Promise<void> {
    const now = clock.now();
    const active = await store.listJobs({ statuses: ['queued', 'running'] });
    if (!active.ok) throw active.error;
    const busy = new Set(active.value.map((j) => j.taskId));
    let afterId: string | undefined;
    for (;;) {
      const page = await store.listTasks({
        excludeStatuses: TERMINAL_TASK_STATUSES,
        updatedBefore: now - minGrace + 1,
        limit: pageSize,
        ...(afterId === undefined ? {} : { afterId }),
      });
      if (!page.ok) throw page.error;
      for (const task of page.value) {
        counts.examined = (counts.examined ?? 0) + 1;
        try {
          await reconcileOne(task, busy.has(task.id), now, counts);
        } catch (thrown) {
          counts.failed = (counts.failed ?? 0) + 1;
          logger.error('reconciling one task failed; skipped', { taskId: task.id, error: describeError(thrown) });
        }
      }
      if (page.value.length < pageSize) break;
      afterId = page.value[page.value.length - 1]?.id;
    }
  }

  async function reconcileOne(task: Task, hasActiveJob: boolean, now: number, counts: Record<string, number>) {
    const grace = graceOf(task.snapshot.stage);
    let action = decideReconcile({ task, hasActiveJob }, now, grace);
    if (action?.type === 'enqueue') {
      // Is there a job for the step after all (finished, not yet advanced)?
      const jobs = await store.listJobs({ taskId: task.id });
      if (!jobs.ok) throw jobs.error;
      const stepJob = jobs.value.find((j) => j.stepKey === stepKey(task.id, task.snapshot.step));
      action = decideReconcile(
        stepJob === undefined ? { task, hasActiveJob } : { task, hasActiveJob, stepJob },
        now,
        grace,
      );
    }
    if (action === undefined) return;
    counts.stuck = (counts.stuck ?? 0) + 1;
    const outcome = await perform(action, task);
    if (outcome === 'unblocked') {
      counts.unblocked = (counts.unblocked ?? 0) + 1;
      await notifyUnblocked(task.id, action.type);
    } else if (outcome === 'silent') {
      counts.silent = (counts.silent ?? 0) + 1;
    }
  }

  async function releaseOrphanLeases(counts: Record<string, number>): Promise<void> {
    const leases = await store.listLeases();
    if (!leases.ok) throw leases.error;
    for (const lease of leases.value) {
      // `task:<id>` or `<host>/task:<id>` (the merge gate's): the same rule the pipeline releases by
      const taskId = taskOfLeaseHolder(lease.holder);
      if (taskId === undefined) continue;
      const task = await store.getTask(taskId);
      if (!task.ok) continue;
      if (task.value !== undefined && !TERMINAL_TASK_STATUSES.includes(task.value.snapshot.status)) continue;
      const released = await store.releaseLease({ name: lease.name, holder: lease.holder, token: lease.token });
      if (released.ok && released.value.released) {
        counts.leasesReleased = (counts.leasesReleased ?? 0) + 1;
        logger.warn('released a lease held by a task that is over', { name: lease.name, taskId });
      }
    }
  }

  async function pollTracker(counts: Record<string, number>): Promise<void> {
    const tracker = options.tracker;
    if (!tracker) return;
    for (const state of options.pollStates ?? []) {
      let cursor: string | undefined;
      do {
        const page = await tracker.listIssuesByState(state, {
          ...(cursor === undefined ? {} : { cursor }),
          ...(options.pollPerPage === undefined ? {} : { perPage: options.pollPerPage }),
        });
        if (!page.ok) {
          logger.warn('tracker poll failed', { state, error: page.error.message });
          counts.pollErrors = (counts.pollErrors ?? 0) + 1;
          break;
        }
        for (const issue of page.value.items) {
          counts.polled = (counts.polled ?? 0) + 1;
          const handled = await pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue });
          if (!handled.ok) {
            logger.warn('replaying a polled issue failed; skipped', {
              issueId: issue.id,
              error: handled.error.message,
            });
            continue;
          }
          if (handled.value.action === 'created' || handled.value.action === 'advanced') {
            counts.replayed = (counts.replayed ?? 0) + 1;
            logger.info('replayed a tracker change no webhook delivered', {
              issueId: issue.id,
              state: issue.state,
              action: handled.value.action,
            });
          }
        }
        cursor = page.value.nextCursor;
      } while (cursor !== undefined);
    }
  }

  return createDaemonLoop({
    name: 'reconciler',
    intervalMs: options.intervalMs ?? DEFAULT_RECONCILER_INTERVAL_MS,
    clock,
    logger: options.logger,
    ...(options.events === undefined ? {} : { events: options.events }),
    async tick() {
      const counts: Record<string, number> = { examined: 0, stuck: 0, unblocked: 0, silent: 0 };
      const parts: [string, (c: Record<string, number>) => Promise<void>][] = [
        ['tracker poll', pollTracker],
        ['tasks', reconcileTasks],
        ['leases', releaseOrphanLeases],
      ];
      for (const [name, part] of parts) {
        try {
          await part(counts);
        } catch (thrown) {
          counts.failed = (counts.failed ?? 0) + 1;
          logger.error(`reconciling ${name} failed`, { error: describeError(thrown) });
        }
      }
      return counts;
    },
  });
}
