import {
  ConveyorError,
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
  parseStoreId,
  type Result,
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

/** Core's claim order (`byClaimOrder`) on rows: `availableAt`, then creation order. */
function byAvailableThenSeq(a: JobRow, b: JobRow): number {
  return a.available_at - b.available_at || a.seq - b.seq;
}

/** The `jobs` table. Every operation is one statement: atomic without a transaction. */
export function createSqliteJobs(ctx: SqliteContext): JobStore {
  const { prepare, run } = ctx;
  const insertJob = prepare(
    `INSERT INTO jobs (task_id, stage, agent, kind, status, attempt, step_key, edge, input, available_at, created_at)
     VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
     ON CONFLICT (step_key) DO NOTHING
     RETURNING ${JOB_COLUMNS}`,
  );
  const jobByStep = prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE step_key = ?`);
  const jobBySeq = prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq = ?`);
  // claimSlots (core) in SQL: the free slots are maxConcurrency minus the running count, never below zero
  const claim = prepare(
    `UPDATE jobs SET status = 'running', started_at = @now
     WHERE seq IN (
       SELECT seq FROM jobs WHERE status = 'queued' AND available_at <= @now
       ORDER BY available_at, seq
       LIMIT max(0, @max - (SELECT count(*) FROM jobs WHERE status = 'running'))
     )
     RETURNING ${JOB_COLUMNS}`,
  );
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
        const rows = claim.all({ now: input.now, max: input.maxConcurrency }) as JobRow[];
        // RETURNING does not promise an order
        if (rows.length > 1) rows.sort(byAvailableThenSeq);
        return ok(rows.map(toJob));
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
