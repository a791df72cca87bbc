import {
  ConveyorError,
  claimSlots,
  err,
  type FinishOutcome,
  formatStoreId,
  JOB_ID_PREFIX,
  type Job,
  type JobInput,
  type JobKind,
  type JobQuery,
  type JobStatus,
  type JobStore,
  type NewJob,
  ok,
  type ProjectLimitOptions,
  parseStoreId,
  pickFairClaims,
  projectClaimQuota,
  type Result,
  TASK_ID_PREFIX,
} from '@conveyor/core';
import { PKG } from './errors.js';
import { errors, type SqliteContext } from './sqlite-context.js';

const JOB_COLUMNS =
  'seq, task_id, stage, agent, kind, status, attempt, step_key, edge, input, pid, exit_code, has_exit_code, available_at, created_at, started_at, finished_at, reason';

interface JobRow {
  seq: number;
  task_id: string;
  stage: string;
  agent: string;
  kind: JobKind;
  status: JobStatus;
  attempt: number;
  step_key: string;
  edge: string | null;
  input: string;
  pid: number | null;
  exit_code: number | null;
  has_exit_code: number;
  available_at: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  reason: string | null;
}

function toJob(row: JobRow): Job {
  const job: { -readonly [K in keyof Job]: Job[K] } = {
    id: formatStoreId(JOB_ID_PREFIX, row.seq),
    taskId: row.task_id,
    stage: row.stage,
    agent: row.agent,
    kind: row.kind,
    status: row.status,
    attempt: row.attempt,
    stepKey: row.step_key,
    input: JSON.parse(row.input) as JobInput,
    availableAt: row.available_at,
    createdAt: row.created_at,
  };
  if (row.edge !== null) job.edge = row.edge;
  if (row.pid !== null) job.pid = row.pid;
  if (row.has_exit_code === 1) job.exitCode = row.exit_code;
  if (row.started_at !== null) job.startedAt = row.started_at;
  if (row.finished_at !== null) job.finishedAt = row.finished_at;
  if (row.reason !== null) job.reason = row.reason;
  return job;
}

/**
 * The `jobs` table. Every operation is one statement, atomic without a
 * transaction, except the claim: it reads the running counts and the queues
 * and flips the rows it picked in one `BEGIN IMMEDIATE` transaction, so
 * claimers of several processes are serialised and the limits hold.
 */
export function createSqliteJobs(ctx: SqliteContext, limits: ProjectLimitOptions = {}): JobStore {
  const { prepare, run } = ctx;
  const insertJob = prepare(
    `INSERT INTO jobs (task_id, project, stage, agent, kind, status, attempt, step_key, edge, input, available_at, created_at)
     VALUES (?, coalesce((SELECT project FROM tasks WHERE seq = ?), ''), ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
     ON CONFLICT (step_key) DO NOTHING
     RETURNING ${JOB_COLUMNS}`,
  );
  const jobByStep = prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE step_key = ?`);
  const jobBySeq = prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq = ?`);
  const runningByProject = prepare(`SELECT project, count(*) AS n FROM jobs WHERE status = 'running' GROUP BY project`);
  // the projects with queued jobs, one index seek each (a skip scan): a long queue costs nothing here
  const queuedProjects = prepare(
    `WITH RECURSIVE p(project) AS (
       SELECT min(project) FROM jobs WHERE status = 'queued'
       UNION ALL
       SELECT (SELECT min(project) FROM jobs WHERE status = 'queued' AND project > p.project) FROM p
       WHERE p.project IS NOT NULL
     )
     SELECT project FROM p WHERE project IS NOT NULL`,
  );
  const queueOf = prepare(
    `SELECT seq, project, available_at FROM jobs
     WHERE status = 'queued' AND project = ? AND available_at <= ?
     ORDER BY available_at, seq LIMIT ?`,
  );
  const start = prepare(
    `UPDATE jobs SET status = 'running', started_at = ? WHERE seq = ? AND status = 'queued' RETURNING ${JOB_COLUMNS}`,
  );

  /** The fair claim (core's `pickFairClaims`), inside the caller's transaction. */
  function claimFairly(maxConcurrency: number, now: number): JobRow[] {
    const running = new Map<string, number>();
    let runningTotal = 0;
    for (const row of runningByProject.all() as { project: string; n: number }[]) {
      running.set(row.project, row.n);
      runningTotal += row.n;
    }
    const slots = claimSlots(maxConcurrency, runningTotal);
    if (slots === 0) return [];
    const candidates: { id: string; seq: number; project: string; availableAt: number }[] = [];
    for (const { project } of queuedProjects.all() as { project: string }[]) {
      const quota = projectClaimQuota(limits, project, running.get(project) ?? 0, slots);
      if (quota === 0) continue;
      for (const row of queueOf.all(project, now, quota) as { seq: number; project: string; available_at: number }[]) {
        candidates.push({
          id: formatStoreId(JOB_ID_PREFIX, row.seq),
          seq: row.seq,
          project,
          availableAt: row.available_at,
        });
      }
    }
    const rows: JobRow[] = [];
    for (const pick of pickFairClaims(candidates, running, slots, limits)) {
      const row = start.get(now, pick.seq) as JobRow | undefined;
      if (row) rows.push(row);
    }
    return rows;
  }
  const setPid = prepare(`UPDATE jobs SET pid = ? WHERE seq = ? AND status = 'running'`);
  const finish = prepare(
    `UPDATE jobs SET status = ?, exit_code = ?, has_exit_code = ?, reason = ?, finished_at = ?
     WHERE seq = ? AND status = 'running'
     RETURNING ${JOB_COLUMNS}`,
  );
  const cancelQueued = prepare(
    `UPDATE jobs SET status = 'cancelled', reason = ?, finished_at = ? WHERE task_id = ? AND status = 'queued'`,
  );

  const getRow = (jobId: string): JobRow | undefined => {
    const seq = parseStoreId(JOB_ID_PREFIX, jobId);
    return seq === undefined ? undefined : (jobBySeq.get(seq) as JobRow | undefined);
  };

  return {
    enqueueJob(input: NewJob) {
      return run<{ job: Job; created: boolean }>('enqueueJob', () => {
        const inserted = insertJob.get(
          input.taskId,
          parseStoreId(TASK_ID_PREFIX, input.taskId) ?? null,
          input.stage,
          input.agent,
          input.kind,
          input.attempt,
          input.stepKey,
          input.edge ?? null,
          JSON.stringify(input.input),
          input.availableAt,
          input.now,
        ) as JobRow | undefined;
        if (inserted) return ok({ job: toJob(inserted), created: true });
        const existing = jobByStep.get(input.stepKey) as JobRow | undefined;
        if (!existing) {
          return err(
            new ConveyorError(PKG, 'internal', `enqueueJob: step ${input.stepKey} conflicted but no job was found`),
          );
        }
        return ok({ job: toJob(existing), created: false });
      });
    },

    claimJobs(input) {
      return run('claimJobs', () => {
        const bad = errors.checkMaxConcurrency(input.maxConcurrency);
        if (bad) return err(bad);
        if (input.maxConcurrency === 0) return ok([]);
        return ok(ctx.immediate(() => claimFairly(input.maxConcurrency, input.now)).map(toJob));
      });
    },

    setJobPid(jobId, pid) {
      return run('setJobPid', (): Result<void, ConveyorError> => {
        const seq = parseStoreId(JOB_ID_PREFIX, jobId);
        if (seq !== undefined && setPid.run(pid, seq).changes === 1) return ok();
        const row = getRow(jobId);
        if (!row) return err(errors.jobNotFound('setJobPid', jobId));
        return err(errors.jobNotRunning('setJobPid', jobId, row.status));
      });
    },

    finishJob(input) {
      return run('finishJob', (): Result<FinishOutcome, ConveyorError> => {
        const seq = parseStoreId(JOB_ID_PREFIX, input.jobId);
        if (seq !== undefined) {
          const won = finish.get(
            input.status,
            input.exitCode ?? null,
            input.exitCode === undefined ? 0 : 1,
            input.reason ?? null,
            input.now,
            seq,
          ) as JobRow | undefined;
          if (won) return ok({ won: true, job: toJob(won) });
        }
        const row = getRow(input.jobId);
        if (!row) return err(errors.jobNotFound('finishJob', input.jobId));
        return ok({ won: false, job: toJob(row) });
      });
    },

    getJob(jobId) {
      return run('getJob', () => {
        const row = getRow(jobId);
        return ok(row ? toJob(row) : undefined);
      });
    },

    listJobs(query: JobQuery) {
      return run('listJobs', () => {
        const bad = errors.checkLimit('listJobs', query.limit);
        if (bad) return err(bad);
        const where: string[] = [];
        const params: unknown[] = [];
        if (query.statuses !== undefined) {
          where.push('status IN (SELECT value FROM json_each(?))');
          params.push(JSON.stringify(query.statuses));
        }
        if (query.taskId !== undefined) {
          where.push('task_id = ?');
          params.push(query.taskId);
        }
        let sql = `SELECT ${JOB_COLUMNS} FROM jobs`;
        if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
        sql += ' ORDER BY seq';
        if (query.limit !== undefined) {
          sql += ' LIMIT ?';
          params.push(query.limit);
        }
        return ok((prepare(sql).all(...params) as JobRow[]).map(toJob));
      });
    },

    cancelQueuedJobs(taskId, reason, now) {
      return run('cancelQueuedJobs', () => ok(cancelQueued.run(reason, now, taskId).changes));
    },
  };
}
