import {
  type ConveyorError,
  claimSlots,
  err,
  type FinishOutcome,
  formatStoreId,
  isClaimable,
  JOB_ID_PREFIX,
  type Job,
  type JobQuery,
  type JobStore,
  ok,
  type ProjectLimitOptions,
  pickFairClaims,
  type Result,
} from '@conveyor/core';
import { byId, copy, errors, type Guard, type Mutable } from './memory-shared.js';

/**
 * The jobs table, in memory. Claims are fair across projects and keep the
 * per-project limits (core's `pickFairClaims`, as the SQL stores); a job's
 * project is its task's, read from `projects` (task id → project) at enqueue.
 */
export function createMemoryJobs(
  guard: Guard,
  projects: ReadonlyMap<string, string> = new Map(),
  limits: ProjectLimitOptions = {},
): JobStore {
  const jobs = new Map<string, Mutable<Job>>();
  const projectOfJob = new Map<string, string>();
  const jobByStep = new Map<string, string>();
  let jobSeq = 0;

  return {
    enqueueJob(input) {
      return guard<{ job: Job; created: boolean }>('enqueueJob', () => {
        const existingId = jobByStep.get(input.stepKey);
        const existing = existingId === undefined ? undefined : jobs.get(existingId);
        if (existing) return ok({ job: copy(existing), created: false });
        jobSeq += 1;
        const job: Mutable<Job> = {
          id: formatStoreId(JOB_ID_PREFIX, jobSeq),
          taskId: input.taskId,
          stage: input.stage,
          agent: input.agent,
          kind: input.kind,
          status: 'queued',
          attempt: input.attempt,
          stepKey: input.stepKey,
          ...(input.edge === undefined ? {} : { edge: input.edge }),
          input: copy(input.input),
          availableAt: input.availableAt,
          createdAt: input.now,
        };
        jobs.set(job.id, job);
        jobByStep.set(job.stepKey, job.id);
        projectOfJob.set(job.id, projects.get(input.taskId) ?? '');
        return ok({ job: copy(job), created: true });
      });
    },

    claimJobs(input) {
      return guard('claimJobs', () => {
        const bad = errors.checkMaxConcurrency(input.maxConcurrency);
        if (bad) return err(bad);
        const all = [...jobs.values()];
        const running = new Map<string, number>();
        for (const j of all) {
          if (j.status !== 'running') continue;
          const project = projectOfJob.get(j.id) ?? '';
          running.set(project, (running.get(project) ?? 0) + 1);
        }
        const slots = claimSlots(input.maxConcurrency, all.filter((j) => j.status === 'running').length);
        if (slots === 0) return ok([]);
        const claimable = all
          .filter((j) => isClaimable(j, input.now))
          .map((job) => ({ id: job.id, availableAt: job.availableAt, project: projectOfJob.get(job.id) ?? '', job }));
        const claimed = pickFairClaims(claimable, running, slots, limits).map((c) => c.job);
        for (const job of claimed) {
          job.status = 'running';
          job.startedAt = input.now;
        }
        return ok(claimed.map(copy));
      });
    },

    setJobPid(jobId, pid) {
      return guard('setJobPid', (): Result<void, ConveyorError> => {
        const job = jobs.get(jobId);
        if (!job) return err(errors.jobNotFound('setJobPid', jobId));
        if (job.status !== 'running') return err(errors.jobNotRunning('setJobPid', jobId, job.status));
        job.pid = pid;
        return ok();
      });
    },

    finishJob(input) {
      return guard('finishJob', (): Result<FinishOutcome, ConveyorError> => {
        const job = jobs.get(input.jobId);
        if (!job) return err(errors.jobNotFound('finishJob', input.jobId));
        if (job.status !== 'running') return ok({ won: false, job: copy(job) });
        job.status = input.status;
        job.finishedAt = input.now;
        if (input.exitCode !== undefined) job.exitCode = input.exitCode;
        if (input.reason !== undefined) job.reason = input.reason;
        return ok({ won: true, job: copy(job) });
      });
    },

    getJob(jobId) {
      return guard('getJob', () => {
        const job = jobs.get(jobId);
        return ok(job ? copy(job) : undefined);
      });
    },

    listJobs(query: JobQuery) {
      return guard('listJobs', () => {
        const bad = errors.checkLimit('listJobs', query.limit);
        if (bad) return err(bad);
        const found = [...jobs.values()]
          .filter(
            (j) =>
              (query.statuses === undefined || query.statuses.includes(j.status)) &&
              (query.taskId === undefined || j.taskId === query.taskId),
          )
          .sort(byId);
        const limited = query.limit === undefined ? found : found.slice(0, query.limit);
        return ok(limited.map(copy));
      });
    },

    cancelQueuedJobs(taskId, reason, now) {
      return guard('cancelQueuedJobs', () => {
        let count = 0;
        for (const job of jobs.values()) {
          if (job.taskId !== taskId || job.status !== 'queued') continue;
          job.status = 'cancelled';
          job.reason = reason;
          job.finishedAt = now;
          count += 1;
        }
        return ok(count);
      });
    },
  };
}
