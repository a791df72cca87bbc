import type { InboundEvent } from '../events/inbound.js';
import type { EdgeVerdict } from '../gates/types.js';
import { mergeLeaseName, taskOfLeaseHolder } from '../leases/merge-lease.js';
import type { Job, Task } from '../ports/domain.js';
import { TERMINAL_TASK_STATUSES } from '../ports/domain.js';
import type { TrackerIssue } from '../ports/tracker.js';
import { type ConveyorError, conveyorError, toConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { safeLogger } from '../runtime/logger.js';
import { edgeId, findStage, initialSnapshot, outgoingEdge } from '../stages/define.js';
import { transition } from '../stages/transition.js';
import type { StageEffect, StageEvent } from '../stages/types.js';
import { buildTaskCard } from './card.js';
import type { ApplyOutcome, EdgeDecision, HandleOutcome, Pipeline, PipelineOptions, TaskRoute } from './types.js';

const PKG = '@conveyor/core';

/**
 * The idempotency key of the job of a task's step.
 *
 * @example
 * ```ts
 * stepKey('t1', 3); // 't1:3'
 * ```
 */
export function stepKey(taskId: string, step: number): string {
  return `${taskId}:${step}`;
}

function isTerminal(task: Task): boolean {
  return TERMINAL_TASK_STATUSES.includes(task.snapshot.status);
}

function sameState(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Creates the pipeline runtime. An event becomes a pure `transition`; the new
 * snapshot and its history entry are stored in one `saveTransition` (retried on
 * a version conflict), and only then are the effects performed. Effects are
 * idempotent (a step's job has the key `${taskId}:${step}`, a card update is an
 * update), so performing them again after a crash does no harm; a failing
 * effect is logged and the stored transition stays (the reconciler repairs).
 *
 * @example
 * ```ts
 * const pipeline = createPipeline({ store, stages: DEFAULT_STAGES, gates: registry, clock: systemClock, logger, repo: 'acme/web' });
 * const outcome = await pipeline.handle({ kind: 'tracker.issue', action: 'created', issue });
 * if (outcome.ok) logger.info('handled', { action: outcome.value.action });
 * ```
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const { store, stages: spec, gates, clock } = options;
  const logger = safeLogger(options.logger).child({ component: 'pipeline' });
  const maxSaveAttempts = options.maxSaveAttempts ?? 5;
  const startStates = options.startStates ?? ['Todo'];
  const deciding = new Set<string>();

  const route = (issue: TrackerIssue): TaskRoute | undefined => {
    if (options.route) return options.route(issue);
    if (options.repo === undefined) return undefined;
    return { repo: options.repo, branch: `task/${issue.key ?? issue.id}` };
  };

  async function loadTask(taskId: string): Promise<Result<Task, ConveyorError>> {
    const got = await store.getTask(taskId);
    if (!got.ok) return err(got.error);
    if (got.value === undefined) return err(conveyorError(PKG, 'not_found', `task ${taskId} does not exist`));
    return ok(got.value);
  }

  async function performEffect(task: Task, effect: StageEffect): Promise<Result<void, ConveyorError>> {
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
        if (!enq.value.created)
          logger.info('job already enqueued for this step', { taskId: task.id, step: effect.step });
        return ok();
      }
      case 'run_gates': {
        const applied = await runGates(task.id);
        return applied.ok ? ok() : err(applied.error);
      }
      case 'notify': {
        if (!options.notifier) return ok();
        const card = buildTaskCard(spec, task, now, options.linksFor ? options.linksFor(task) : []);
        return options.notifier.upsertCard(card);
      }
      case 'set_tracker_state':
        return options.tracker ? options.tracker.setState(task.issueId, effect.state) : ok();
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

  async function performEffects(task: Task, effects: readonly StageEffect[]): Promise<StageEffect['type'][]> {
    const failed: StageEffect['type'][] = [];
    // run_gates last: it applies another transition, after this one's effects are done.
    const ordered = [
      ...effects.filter((e) => e.type !== 'run_gates'),
      ...effects.filter((e) => e.type === 'run_gates'),
    ];
    for (const effect of ordered) {
      let outcome: Result<void, ConveyorError>;
      try {
        outcome = await performEffect(task, effect);
      } catch (thrown) {
        outcome = err(toConveyorError(PKG, thrown, 'internal', `effect ${effect.type} threw`));
      }
      if (!outcome.ok) {
        failed.push(effect.type);
        logger.error('effect failed; the stored transition stays and the reconciler repairs', {
          taskId: task.id,
          effect: effect.type,
          error: outcome.error.message,
        });
      }
    }
    return failed;
  }

  async function applyToTask(start: Task, event: StageEvent): Promise<Result<ApplyOutcome, ConveyorError>> {
    let task = start;
    for (let attempt = 1; ; attempt += 1) {
      const result = transition(spec, task.snapshot, event);
      if (!result.changed) {
        logger.debug('event did not apply', { taskId: task.id, event: event.type, reason: result.ignoredReason });
        return ok({
          task,
          changed: false,
          ...(result.ignoredReason === undefined ? {} : { reason: result.ignoredReason }),
          failedEffects: [],
        });
      }
      const verdictSummary = event.type === 'gates.decided' ? event.verdict.summary : undefined;
      const now = clock.now();
      const saved = await store.saveTransition({
        taskId: task.id,
        expectedVersion: task.version,
        snapshot: result.snapshot,
        cause: event.type,
        ...(verdictSummary === undefined ? {} : { verdictSummary }),
        now,
      });
      if (!saved.ok) {
        if (saved.error.code !== 'conflict' || attempt >= maxSaveAttempts) return err(saved.error);
        const fresh = await loadTask(task.id);
        if (!fresh.ok) return fresh.error.code === 'not_found' ? err(saved.error) : err(fresh.error);
        task = fresh.value;
        continue;
      }
      const from = { stage: task.snapshot.stage, status: task.snapshot.status };
      const to = { stage: result.snapshot.stage, status: result.snapshot.status };
      logger.info('task transition', {
        taskId: task.id,
        from: `${from.stage}/${from.status}`,
        to: `${to.stage}/${to.status}`,
        cause: event.type,
        step: result.snapshot.step,
        effects: result.effects.map((e) => e.type),
      });
      options.events?.emit('transition', { taskId: task.id, from, to, cause: event.type });
      const failedEffects = await performEffects(saved.value, result.effects);
      const latest = await store.getTask(task.id);
      const after = latest.ok && latest.value !== undefined ? latest.value : saved.value;
      return ok({ task: after, changed: true, failedEffects });
    }
  }

  async function apply(taskId: string, event: StageEvent): Promise<Result<ApplyOutcome, ConveyorError>> {
    const task = await loadTask(taskId);
    if (!task.ok) return err(task.error);
    return applyToTask(task.value, event);
  }

  async function decideEdge(taskId: string, opts: { readonly readOnly: boolean; readonly task?: Task }) {
    let task: Task;
    if (opts.readOnly && opts.task !== undefined && opts.task.id === taskId) {
      task = opts.task;
    } else {
      const loaded = await loadTask(taskId);
      if (!loaded.ok) return err(loaded.error);
      task = loaded.value;
    }
    if (task.snapshot.status !== 'gating') {
      return err(
        conveyorError(PKG, 'conflict', `task ${taskId} is ${task.snapshot.status}, not gating: no edge to decide`),
      );
    }
    const edge = outgoingEdge(spec, task.snapshot.stage);
    if (edge === undefined) {
      return err(conveyorError(PKG, 'invalid_config', `stage ${task.snapshot.stage} has no outgoing edge`));
    }
    const id = edgeId(edge.from, edge.to);
    const workdir = options.workdirFor?.(task);
    if (!opts.readOnly) deciding.add(taskId);
    let verdict: EdgeVerdict;
    try {
      verdict = await gates.runEdge(id, {
        task,
        logger: logger.child({ taskId, edge: id }),
        now: () => clock.now(),
        readOnly: opts.readOnly,
        ...(workdir === undefined ? {} : { workdir }),
        ...(options.reportDir === undefined ? {} : { reportDir: options.reportDir }),
      });
    } catch (thrown) {
      return err(toConveyorError(PKG, thrown, 'internal', `gates of ${id} threw for task ${taskId}`));
    } finally {
      if (!opts.readOnly) deciding.delete(taskId);
    }
    return ok<EdgeDecision, ConveyorError>({ task, edge: id, verdict });
  }

  async function runGates(taskId: string): Promise<Result<ApplyOutcome, ConveyorError>> {
    if (deciding.has(taskId)) {
      const task = await loadTask(taskId);
      if (!task.ok) return err(task.error);
      return ok({ task: task.value, changed: false, reason: 'gates already running for this task', failedEffects: [] });
    }
    const decision = await decideEdge(taskId, { readOnly: false });
    if (!decision.ok) return err(decision.error);
    const { task, edge, verdict } = decision.value;
    logger.info('edge decided', { taskId, edge, status: verdict.status, summary: verdict.summary });
    options.events?.emit('edge.decided', { taskId, verdict });
    return applyToTask(task, { type: 'gates.decided', edge, verdict });
  }

  async function advance(taskId: string, finishedJob?: Job): Promise<Result<ApplyOutcome, ConveyorError>> {
    const loaded = await loadTask(taskId);
    if (!loaded.ok) return err(loaded.error);
    const task = loaded.value;
    if (finishedJob === undefined) {
      if (task.snapshot.step === 0 && !isTerminal(task)) return applyToTask(task, { type: 'task.created' });
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
    if (finishedJob.kind === 'gates') return runGates(taskId);
    const exitCode = finishedJob.exitCode ?? null;
    const stage = findStage(spec, finishedJob.stage);
    if (exitCode === 0 && stage?.action === true) {
      logger.info('action stage job finished; an action commits nothing, as expected', {
        taskId,
        jobId: finishedJob.id,
        stage: finishedJob.stage,
      });
    }
    return applyToTask(task, {
      type: 'job.finished',
      stage: finishedJob.stage,
      exitCode,
      ...(finishedJob.reason === undefined ? {} : { reason: finishedJob.reason }),
    });
  }

  async function enqueueCurrentStep(taskId: string): Promise<Result<Job | undefined, ConveyorError>> {
    const loaded = await loadTask(taskId);
    if (!loaded.ok) return err(loaded.error);
    const task = loaded.value;
    const { snapshot } = task;
    if (snapshot.status !== 'active' || snapshot.step === 0) return ok(undefined);
    const stage = findStage(spec, snapshot.stage);
    if (stage?.agent === undefined) return ok(undefined);
    const now = clock.now();
    const enq = await store.enqueueJob({
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
    if (!enq.ok) return err(enq.error);
    return ok(enq.value.job);
  }

  async function resolveStatusTask(
    event: Extract<InboundEvent, { kind: 'forge.status' }>,
  ): Promise<Result<{ task?: Task; reason?: string }, ConveyorError>> {
    const branches = [...(event.branches ?? [])];
    if (branches.length === 0 && options.forge) {
      const resolved = await options.forge.resolveShaToBranch(event.repo, event.sha);
      if (resolved.ok && resolved.value !== undefined) branches.push(resolved.value);
      if (!resolved.ok)
        logger.warn('cannot resolve sha to a branch', { sha: event.sha, error: resolved.error.message });
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

  async function handleIssue(issue: TrackerIssue): Promise<Result<HandleOutcome, ConveyorError>> {
    const project = options.projectOf ? options.projectOf(issue) : issue.project;
    const existing = await store.findTaskByIssue(project, issue.id);
    if (!existing.ok) return err(existing.error);
    if (existing.value !== undefined && existing.value.snapshot.step > 0) {
      const applied = await applyToTask(existing.value, { type: 'tracker.status_changed', state: issue.state });
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
      if (!startStates.some((s) => sameState(s, issue.state))) {
        return ok({ action: 'ignored', reason: `issue ${issue.id} is in "${issue.state}", not a start state` });
      }
      const where = route(issue);
      if (where === undefined) {
        logger.warn('no route for a new issue; configure `route` or `repo`', { issueId: issue.id, project });
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
    const started = await applyToTask(task, { type: 'task.created' });
    if (!started.ok) return err(started.error);
    return ok({ action: created ? 'created' : started.value.changed ? 'advanced' : 'unchanged', taskId: task.id });
  }

  async function handle(event: InboundEvent): Promise<Result<HandleOutcome, ConveyorError>> {
    try {
      switch (event.kind) {
        case 'tracker.issue':
          return await handleIssue(event.issue);
        case 'tracker.issue_deleted': {
          const task = await store.findTaskByIssue(event.project, event.issueId);
          if (!task.ok) return err(task.error);
          if (task.value === undefined) return ok({ action: 'ignored', reason: `no task for issue ${event.issueId}` });
          const applied = await applyToTask(task.value, { type: 'rejected', reason: 'the issue was deleted' });
          if (!applied.ok) return err(applied.error);
          return ok({ action: applied.value.changed ? 'advanced' : 'unchanged', taskId: task.value.id });
        }
        case 'forge.pull_request': {
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
              ? await store.releaseLease({
                  name: lease.value.name,
                  holder: lease.value.holder,
                  token: lease.value.token,
                })
              : ok({ released: false });
          if (!released.ok) return err(released.error);
          return ok(
            released.value.released
              ? { action: 'released', taskId: task.value.id }
              : { action: 'unchanged', taskId: task.value.id, reason: 'the task did not hold the merge lease' },
          );
        }
        case 'forge.status': {
          const resolved = await resolveStatusTask(event);
          if (!resolved.ok) return err(resolved.error);
          const task = resolved.value.task;
          if (task === undefined) {
            logger.warn('status event not resolved to a task', {
              repo: event.repo,
              sha: event.sha,
              reason: resolved.value.reason,
            });
            return ok({ action: 'unresolved', reason: resolved.value.reason ?? 'no task' });
          }
          if (task.snapshot.status === 'gating' && event.state !== 'pending') {
            const applied = await runGates(task.id);
            if (!applied.ok) return err(applied.error);
            return ok({ action: applied.value.changed ? 'advanced' : 'resolved', taskId: task.id });
          }
          return ok({ action: 'resolved', taskId: task.id });
        }
        default:
          return ok({ action: 'ignored', reason: `${event.kind} needs no action` });
      }
    } catch (thrown) {
      return err(toConveyorError(PKG, thrown, 'internal', `handling ${event.kind} failed`));
    }
  }

  return Object.freeze({
    handle,
    advance,
    apply,
    decideEdge,
    runGates,
    enqueueCurrentStep,
    isDeciding: (taskId: string) => deciding.has(taskId),
    stages: spec,
  } satisfies Pipeline);
}
