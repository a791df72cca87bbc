import { closeSync, openSync, readSync, statSync } from 'node:fs';
import {
  type AcquireLease,
  type AsyncResult,
  type CardRefStore,
  ConveyorError,
  createStoreErrors,
  type DecisionStore,
  err,
  type FinishJob,
  type FinishOutcome,
  type HistoryEntry,
  type Job,
  type JobInput,
  type JobKind,
  type JobQuery,
  type JobStatus,
  type Lease,
  type LeaseAcquisition,
  type NewJob,
  type NewTask,
  ok,
  type RecordDelivery,
  type ReleaseLease,
  type RenewLease,
  type Result,
  type SaveTransition,
  type StageSnapshot,
  type Store,
  type StoreCapabilities,
  type Task,
  type TaskQuery,
  type TaskStatus,
} from '@conveyor/core';
import Database from 'better-sqlite3';
import { createSqliteDecisions } from './decisions.js';
import { PKG, sqliteError } from './errors.js';
import { MIGRATIONS, type Migration, SCHEMA_VERSION } from './schema.js';
import type { SqliteDatabase, SqliteDatabaseFactory, SqliteStatement } from './sqlite-database.js';

/** How hard SQLite syncs to disk (`PRAGMA synchronous`). */
export type SqliteSynchronous = 'NORMAL' | 'FULL' | 'OFF';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** the database file; created with its folder's permissions when missing */
  readonly path: string;
  /** `PRAGMA synchronous` (default `NORMAL`: durable across process crashes; with WAL, a power loss may drop the last commits) */
  readonly synchronous?: SqliteSynchronous;
  /** how long a writer waits for another process's lock before failing with `timeout` (default 5000) */
  readonly busyTimeoutMs?: number;
  /**
   * An open better-sqlite3 database (or anything with the same subset), or a
   * factory that opens `path`. Default: `new Database(path)`. The store owns
   * the connection once it opened successfully and closes it on `close()`.
   */
  readonly database?: SqliteDatabase | SqliteDatabaseFactory;
}

/** The SQLite `Store`, which also keeps card refs and the decision record. */
export interface SqliteStore extends Store, CardRefStore, DecisionStore {
  /** the database file */
  readonly path: string;
  /** the schema version of the open database */
  readonly schemaVersion: number;
}

const ALL_TASK_STATUSES: readonly TaskStatus[] = [
  'active',
  'awaiting_approval',
  'gating',
  'blocked',
  'failed',
  'rejected',
  'done',
];
const SQLITE_HEADER = 'SQLite format 3\u0000';
const ID_WIDTH = 12;
const TASK_PREFIX = 'task_';
const JOB_PREFIX = 'job_';

const TASK_COLUMNS =
  'seq, project, issue_id, repo, branch, title, description, snapshot, version, created_at, updated_at';
const JOB_COLUMNS =
  'seq, task_id, stage, agent, kind, status, attempt, step_key, edge, input, pid, exit_code, has_exit_code, available_at, created_at, started_at, finished_at, reason';

interface TaskRow {
  seq: number;
  project: string;
  issue_id: string;
  repo: string;
  branch: string;
  title: string;
  description: string;
  snapshot: string;
  version: number;
  created_at: number;
  updated_at: number;
}

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

interface LeaseRow {
  name: string;
  holder: string;
  token: number;
  acquired_at: number;
  expires_at: number;
}

interface HistoryRow {
  task_id: string;
  seq: number;
  from_stage: string;
  from_status: TaskStatus;
  to_stage: string;
  to_status: TaskStatus;
  cause: string;
  verdict_summary: string | null;
  at: number;
}

function formatId(prefix: string, seq: number): string {
  return `${prefix}${String(seq).padStart(ID_WIDTH, '0')}`;
}

/** The row number behind an id this store handed out, or `undefined` for any other string. */
function parseId(prefix: string, id: string): number | undefined {
  if (id.length !== prefix.length + ID_WIDTH || !id.startsWith(prefix)) return undefined;
  const digits = id.slice(prefix.length);
  if (!/^\d+$/.test(digits)) return undefined;
  return Number(digits);
}

function toTask(row: TaskRow): Task {
  return {
    id: formatId(TASK_PREFIX, row.seq),
    project: row.project,
    issueId: row.issue_id,
    repo: row.repo,
    branch: row.branch,
    title: row.title,
    description: row.description,
    snapshot: JSON.parse(row.snapshot) as StageSnapshot,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toJob(row: JobRow): Job {
  const job: {
    -readonly [K in keyof Job]: Job[K];
  } = {
    id: formatId(JOB_PREFIX, row.seq),
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

function byAvailableThenId(a: JobRow, b: JobRow): number {
  return a.available_at - b.available_at || a.seq - b.seq;
}

function toLease(row: LeaseRow): Lease {
  return {
    name: row.name,
    holder: row.holder,
    token: row.token,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}

function toHistory(row: HistoryRow): HistoryEntry {
  return {
    taskId: row.task_id,
    seq: row.seq,
    fromStage: row.from_stage,
    fromStatus: row.from_status,
    toStage: row.to_stage,
    toStatus: row.to_status,
    cause: row.cause,
    ...(row.verdict_summary === null ? {} : { verdictSummary: row.verdict_summary }),
    at: row.at,
  };
}

const errors = createStoreErrors(PKG);

/** Reads the first 16 bytes; a non-empty file that does not start with the SQLite header is not ours to touch. */
function checkHeader(path: string): ConveyorError | undefined {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return undefined;
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined; // missing: SQLite creates it
  }
  if (size === 0) return undefined;
  const header = Buffer.alloc(16);
  let read = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, header, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
  } catch (thrown) {
    return sqliteError(thrown, path, 'reading the file header');
  }
  if (read < 16 || header.toString('latin1') !== SQLITE_HEADER) {
    return new ConveyorError(
      PKG,
      'corrupt',
      `${path} is not a SQLite database (its first bytes are not the SQLite header); refusing to open or overwrite it`,
      { details: { path, size } },
    );
  }
  return undefined;
}

function validate(options: SqliteStoreOptions): ConveyorError | undefined {
  if (typeof options.path !== 'string' || options.path === '') {
    return new ConveyorError(PKG, 'invalid_config', 'createSqliteStore: path must be a non-empty string');
  }
  if (options.synchronous !== undefined && !['NORMAL', 'FULL', 'OFF'].includes(options.synchronous)) {
    return new ConveyorError(
      PKG,
      'invalid_config',
      `createSqliteStore: synchronous must be NORMAL, FULL or OFF, got ${String(options.synchronous)}`,
    );
  }
  const busy = options.busyTimeoutMs;
  if (busy !== undefined && (!Number.isInteger(busy) || busy < 0)) {
    return new ConveyorError(
      PKG,
      'invalid_config',
      `createSqliteStore: busyTimeoutMs must be a non-negative integer, got ${String(busy)}`,
    );
  }
  return undefined;
}

function readUserVersion(db: SqliteDatabase): number {
  const v = db.pragma('user_version', { simple: true });
  return typeof v === 'number' ? v : Number(v);
}

function migrate(db: SqliteDatabase, path: string, migrations: readonly Migration[], now: number): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    // Another process may have migrated while this one waited for the lock.
    const current = readUserVersion(db);
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.description,
        now,
      );
      db.pragma(`user_version = ${m.version}`);
    }
    db.exec('COMMIT');
  } catch (thrown) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw sqliteError(thrown, path, 'migrating the schema');
  }
}

/**
 * Opens (creating when missing) a SQLite database and returns the `Store` on
 * it. Synchronous: it returns the `Result` directly, not a promise.
 *
 * On open it sets WAL, `synchronous` and `busy_timeout`, then runs the
 * forward-only migrations in one `BEGIN IMMEDIATE` transaction (safe when
 * several processes open the same file at once). A database written by a newer
 * schema version fails with `version_mismatch`; a file that is not a SQLite
 * database, or is corrupt, fails with `corrupt` and is never written to.
 *
 * Every read-then-write operation runs in a `BEGIN IMMEDIATE` transaction or
 * is a single atomic statement, so several processes can share the file. No
 * method throws: SQLite errors (`SQLITE_BUSY` after the busy timeout becomes a
 * retryable `timeout`) resolve to a `ConveyorError` with the cause.
 *
 * @example
 * ```ts
 * const opened = createSqliteStore({ path: '/var/lib/conveyor/state.db' });
 * if (!opened.ok) throw opened.error;
 * const store = opened.value;
 * const claimed = await store.claimJobs({ maxConcurrency: 4, now: Date.now() });
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): Result<SqliteStore, ConveyorError> {
  const invalidOptions = validate(options);
  if (invalidOptions) return err(invalidOptions);
  const { path } = options;
  const synchronous = options.synchronous ?? 'NORMAL';
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;

  const badHeader = checkHeader(path);
  if (badHeader) return err(badHeader);

  let db: SqliteDatabase;
  const given = options.database;
  const ownsOnFailure = typeof given !== 'object';
  try {
    if (given === undefined) db = new Database(path);
    else if (typeof given === 'function') db = given(path);
    else db = given;
  } catch (thrown) {
    return err(sqliteError(thrown, path, 'opening'));
  }

  const fail = (error: ConveyorError): Result<SqliteStore, ConveyorError> => {
    if (ownsOnFailure) {
      try {
        db.close();
      } catch {
        // already failing; the first error is the one to report
      }
    }
    return err(error);
  };

  let version: number;
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Reads only: a corrupt or foreign file fails here, before anything is written.
    version = readUserVersion(db);
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
  } catch (thrown) {
    const e = sqliteError(thrown, path, 'opening');
    if (e.code === 'corrupt') {
      return fail(
        new ConveyorError(
          PKG,
          'corrupt',
          `${path} is not a readable SQLite database; refusing to touch it: ${e.message}`,
          {
            cause: thrown,
            details: e.details,
          },
        ),
      );
    }
    return fail(e);
  }
  if (version > SCHEMA_VERSION) {
    return fail(
      new ConveyorError(
        PKG,
        'version_mismatch',
        `${path} was written by schema version ${version}, newer than ${SCHEMA_VERSION}, the newest this @conveyor/store-sqlite knows; upgrade @conveyor/store-sqlite`,
        { details: { path, databaseVersion: version, supportedVersion: SCHEMA_VERSION } },
      ),
    );
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    if (version < SCHEMA_VERSION) migrate(db, path, MIGRATIONS, Date.now());
  } catch (thrown) {
    return fail(sqliteError(thrown, path, 'preparing the database'));
  }

  try {
    return ok(buildStore(db, path));
  } catch (thrown) {
    return fail(sqliteError(thrown, path, 'preparing statements'));
  }
}

function buildStore(db: SqliteDatabase, path: string): SqliteStore {
  const prepare = (sql: string): SqliteStatement => db.prepare(sql);
  const begin = prepare('BEGIN IMMEDIATE');
  const commit = prepare('COMMIT');
  const rollback = prepare('ROLLBACK');

  const s = {
    insertTask: prepare(
      `INSERT INTO tasks (project, issue_id, repo, branch, title, description, stage, status, snapshot, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (project, issue_id) DO NOTHING
       RETURNING ${TASK_COLUMNS}`,
    ),
    taskBySeq: prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE seq = ?`),
    taskByIssue: prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE project = ? AND issue_id = ?`),
    taskByBranch: prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE repo = ? AND branch = ? ORDER BY seq LIMIT 1`),
    updateTask: prepare(
      'UPDATE tasks SET snapshot = ?, stage = ?, status = ?, version = version + 1, updated_at = ? WHERE seq = ? AND version = ?',
    ),
    insertHistory: prepare(
      `INSERT INTO task_history (task_id, seq, from_stage, from_status, to_stage, to_status, cause, verdict_summary, at)
       VALUES (@taskId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM task_history WHERE task_id = @taskId), @fromStage, @fromStatus, @toStage, @toStatus, @cause, @verdictSummary, @at)`,
    ),
    history: prepare('SELECT * FROM task_history WHERE task_id = ? ORDER BY seq'),

    insertJob: prepare(
      `INSERT INTO jobs (task_id, stage, agent, kind, status, attempt, step_key, edge, input, available_at, created_at)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
       ON CONFLICT (step_key) DO NOTHING
       RETURNING ${JOB_COLUMNS}`,
    ),
    jobByStep: prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE step_key = ?`),
    jobBySeq: prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq = ?`),
    claim: prepare(
      `UPDATE jobs SET status = 'running', started_at = @now
       WHERE seq IN (
         SELECT seq FROM jobs WHERE status = 'queued' AND available_at <= @now
         ORDER BY available_at, seq
         LIMIT max(0, @max - (SELECT count(*) FROM jobs WHERE status = 'running'))
       )
       RETURNING ${JOB_COLUMNS}`,
    ),
    setPid: prepare(`UPDATE jobs SET pid = ? WHERE seq = ? AND status = 'running'`),
    finish: prepare(
      `UPDATE jobs SET status = ?, exit_code = ?, has_exit_code = ?, reason = ?, finished_at = ?
       WHERE seq = ? AND status = 'running'
       RETURNING ${JOB_COLUMNS}`,
    ),
    cancelQueued: prepare(
      `UPDATE jobs SET status = 'cancelled', reason = ?, finished_at = ? WHERE task_id = ? AND status = 'queued'`,
    ),

    leaseByName: prepare('SELECT * FROM leases WHERE name = ?'),
    nextToken: prepare(
      `INSERT INTO lease_tokens (name, last_token) VALUES (?, 1)
       ON CONFLICT (name) DO UPDATE SET last_token = last_token + 1
       RETURNING last_token`,
    ),
    putLease: prepare(
      'INSERT OR REPLACE INTO leases (name, holder, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ),
    renewLease: prepare(
      'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ? RETURNING *',
    ),
    releaseLease: prepare(
      'DELETE FROM leases WHERE name = @name AND holder = @holder AND (@token IS NULL OR token = @token)',
    ),
    listLeases: prepare('SELECT * FROM leases ORDER BY name'),
    reclaimLeases: prepare('DELETE FROM leases WHERE expires_at <= ? RETURNING *'),

    recordDelivery: prepare(
      'INSERT INTO deliveries (source, delivery_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),

    getCardRef: prepare('SELECT ref FROM card_refs WHERE task_id = ? AND channel = ?'),
    setCardRef: prepare(
      'INSERT INTO card_refs (task_id, channel, ref) VALUES (?, ?, ?) ON CONFLICT (task_id, channel) DO UPDATE SET ref = excluded.ref',
    ),
    deleteCardRef: prepare('DELETE FROM card_refs WHERE task_id = ? AND channel = ?'),
  };

  /** Statements whose SQL depends on which filters a query uses, cached by their text. */
  const dynamic = new Map<string, SqliteStatement>();
  const cached = (sql: string): SqliteStatement => {
    let stmt = dynamic.get(sql);
    if (!stmt) {
      stmt = prepare(sql);
      dynamic.set(sql, stmt);
    }
    return stmt;
  };

  let closed = false;

  function run<T>(operation: string, body: () => Result<T, ConveyorError>): Promise<Result<T, ConveyorError>> {
    if (closed) {
      return Promise.resolve(err(errors.closed(operation, `SQLite store ${path}`)));
    }
    try {
      return Promise.resolve(body());
    } catch (thrown) {
      return Promise.resolve(err(sqliteError(thrown, path, operation)));
    }
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before the first read. */
  function immediate<T>(fn: () => T): T {
    begin.run();
    try {
      const out = fn();
      commit.run();
      return out;
    } catch (thrown) {
      if (db.inTransaction) rollback.run();
      throw thrown;
    }
  }

  function getJobRow(jobId: string): JobRow | undefined {
    const seq = parseId(JOB_PREFIX, jobId);
    return seq === undefined ? undefined : (s.jobBySeq.get(seq) as JobRow | undefined);
  }

  const store: SqliteStore = {
    ...createSqliteDecisions(db, { run, immediate }),
    path,
    schemaVersion: SCHEMA_VERSION,
    capabilities: Object.freeze<StoreCapabilities>({ crossProcess: true }),

    createTaskIfAbsent(input: NewTask): AsyncResult<{ task: Task; created: boolean }, ConveyorError> {
      return run<{ task: Task; created: boolean }>('createTaskIfAbsent', () => {
        const inserted = s.insertTask.get(
          input.project,
          input.issueId,
          input.repo,
          input.branch,
          input.title,
          input.description,
          input.snapshot.stage,
          input.snapshot.status,
          JSON.stringify(input.snapshot),
          input.now,
          input.now,
        ) as TaskRow | undefined;
        if (inserted) return ok({ task: toTask(inserted), created: true });
        const existing = s.taskByIssue.get(input.project, input.issueId) as TaskRow | undefined;
        if (!existing) {
          throw new ConveyorError(
            PKG,
            'internal',
            `createTaskIfAbsent: (${input.project}, ${input.issueId}) conflicted but no task was found`,
          );
        }
        return ok({ task: toTask(existing), created: false });
      });
    },

    getTask(taskId) {
      return run('getTask', () => {
        const seq = parseId(TASK_PREFIX, taskId);
        const row = seq === undefined ? undefined : (s.taskBySeq.get(seq) as TaskRow | undefined);
        return ok(row ? toTask(row) : undefined);
      });
    },

    findTaskByIssue(project, issueId) {
      return run('findTaskByIssue', () => {
        const row = s.taskByIssue.get(project, issueId) as TaskRow | undefined;
        return ok(row ? toTask(row) : undefined);
      });
    },

    findTaskByBranch(repo, branch) {
      return run('findTaskByBranch', () => {
        const row = s.taskByBranch.get(repo, branch) as TaskRow | undefined;
        return ok(row ? toTask(row) : undefined);
      });
    },

    listTasks(query: TaskQuery) {
      return run('listTasks', () => {
        const bad = errors.checkLimit('listTasks', query.limit);
        if (bad) return err(bad);
        const where: string[] = [];
        const params: unknown[] = [];
        const add = (clause: string, value: unknown): void => {
          where.push(clause);
          params.push(value);
        };
        if (query.project !== undefined) add('project = ?', query.project);
        if (query.repo !== undefined) add('repo = ?', query.repo);
        if (query.stage !== undefined) add('stage = ?', query.stage);
        if (query.statuses !== undefined || query.excludeStatuses !== undefined) {
          // The statuses are a closed set: turning "not these" into "one of those" lets
          // SQLite use the (status, updated_at) index instead of scanning every task.
          const excluded = query.excludeStatuses ?? [];
          const allowed = [...new Set(query.statuses ?? ALL_TASK_STATUSES)].filter((st) => !excluded.includes(st));
          if (allowed.length === 0) return ok([]);
          where.push(`status IN (${allowed.map(() => '?').join(', ')})`);
          params.push(...allowed);
        }
        if (query.updatedBefore !== undefined) add('updated_at < ?', query.updatedBefore);
        if (query.afterId !== undefined) {
          const after = parseId(TASK_PREFIX, query.afterId);
          if (after === undefined) add(`printf('${TASK_PREFIX}%0${ID_WIDTH}d', seq) > ?`, query.afterId);
          else add('seq > ?', after);
        }
        let sql = `SELECT ${TASK_COLUMNS} FROM tasks`;
        if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
        sql += ' ORDER BY seq';
        if (query.limit !== undefined) {
          sql += ' LIMIT ?';
          params.push(query.limit);
        }
        return ok((cached(sql).all(...params) as TaskRow[]).map(toTask));
      });
    },

    saveTransition(input: SaveTransition) {
      return run('saveTransition', () => {
        const seq = parseId(TASK_PREFIX, input.taskId);
        const notFound = (): Result<Task, ConveyorError> => err(errors.taskNotFound('saveTransition', input.taskId));
        if (seq === undefined) return notFound();
        return immediate((): Result<Task, ConveyorError> => {
          const row = s.taskBySeq.get(seq) as TaskRow | undefined;
          if (!row) return notFound();
          if (row.version !== input.expectedVersion) {
            return err(errors.versionConflict(input.taskId, row.version, input.expectedVersion));
          }
          const from = JSON.parse(row.snapshot) as StageSnapshot;
          const snapshotJson = JSON.stringify(input.snapshot);
          s.updateTask.run(
            snapshotJson,
            input.snapshot.stage,
            input.snapshot.status,
            input.now,
            seq,
            input.expectedVersion,
          );
          s.insertHistory.run({
            taskId: input.taskId,
            fromStage: from.stage,
            fromStatus: from.status,
            toStage: input.snapshot.stage,
            toStatus: input.snapshot.status,
            cause: input.cause,
            verdictSummary: input.verdictSummary ?? null,
            at: input.now,
          });
          return ok(toTask({ ...row, snapshot: snapshotJson, version: row.version + 1, updated_at: input.now }));
        });
      });
    },

    listHistory(taskId) {
      return run('listHistory', () => ok((s.history.all(taskId) as HistoryRow[]).map(toHistory)));
    },

    enqueueJob(input: NewJob) {
      return run<{ job: Job; created: boolean }>('enqueueJob', () => {
        const inserted = s.insertJob.get(
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
        const existing = s.jobByStep.get(input.stepKey) as JobRow | undefined;
        if (!existing) {
          throw new ConveyorError(PKG, 'internal', `enqueueJob: step ${input.stepKey} conflicted but no job was found`);
        }
        return ok({ job: toJob(existing), created: false });
      });
    },

    claimJobs(input) {
      return run('claimJobs', () => {
        const bad = errors.checkMaxConcurrency(input.maxConcurrency);
        if (bad) return err(bad);
        if (input.maxConcurrency === 0) return ok([]);
        const rows = s.claim.all({ now: input.now, max: input.maxConcurrency }) as JobRow[];
        // RETURNING does not promise an order
        if (rows.length > 1) rows.sort(byAvailableThenId);
        return ok(rows.map(toJob));
      });
    },

    setJobPid(jobId, pid) {
      return run('setJobPid', (): Result<void, ConveyorError> => {
        const seq = parseId(JOB_PREFIX, jobId);
        if (seq !== undefined && s.setPid.run(pid, seq).changes === 1) return ok();
        const row = getJobRow(jobId);
        if (!row) return err(errors.jobNotFound('setJobPid', jobId));
        return err(errors.jobNotRunning('setJobPid', jobId, row.status));
      });
    },

    finishJob(input: FinishJob) {
      return run('finishJob', (): Result<FinishOutcome, ConveyorError> => {
        const seq = parseId(JOB_PREFIX, input.jobId);
        if (seq !== undefined) {
          const won = s.finish.get(
            input.status,
            input.exitCode ?? null,
            input.exitCode === undefined ? 0 : 1,
            input.reason ?? null,
            input.now,
            seq,
          ) as JobRow | undefined;
          if (won) return ok({ won: true, job: toJob(won) });
        }
        const row = getJobRow(input.jobId);
        if (!row) return err(errors.jobNotFound('finishJob', input.jobId));
        return ok({ won: false, job: toJob(row) });
      });
    },

    getJob(jobId) {
      return run('getJob', () => {
        const row = getJobRow(jobId);
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
        return ok((cached(sql).all(...params) as JobRow[]).map(toJob));
      });
    },

    cancelQueuedJobs(taskId, reason, now) {
      return run('cancelQueuedJobs', () => ok(s.cancelQueued.run(reason, now, taskId).changes));
    },

    acquireLease(input: AcquireLease) {
      return run('acquireLease', () => {
        const bad = errors.checkTtl('acquireLease', input.name, input.ttlMs);
        if (bad) return err(bad);
        return immediate((): Result<LeaseAcquisition, ConveyorError> => {
          const current = s.leaseByName.get(input.name) as LeaseRow | undefined;
          if (current && current.expires_at > input.now) return ok({ acquired: false, current: toLease(current) });
          const tokenRow = s.nextToken.get(input.name) as { last_token: number } | undefined;
          if (!tokenRow) throw new ConveyorError(PKG, 'internal', `acquireLease ${input.name}: no token was issued`);
          const lease: Lease = {
            name: input.name,
            holder: input.holder,
            token: tokenRow.last_token,
            acquiredAt: input.now,
            expiresAt: input.now + input.ttlMs,
          };
          s.putLease.run(lease.name, lease.holder, lease.token, lease.acquiredAt, lease.expiresAt);
          return ok({ acquired: true, lease });
        });
      });
    },

    renewLease(input: RenewLease) {
      return run('renewLease', () => {
        const bad = errors.checkTtl('renewLease', input.name, input.ttlMs);
        if (bad) return err(bad);
        const renewed = s.renewLease.get(input.now + input.ttlMs, input.name, input.holder, input.token, input.now) as
          | LeaseRow
          | undefined;
        if (renewed) return ok(toLease(renewed));
        const current = s.leaseByName.get(input.name) as LeaseRow | undefined;
        return err(errors.leaseLost(input, current));
      });
    },

    releaseLease(input: ReleaseLease) {
      return run<{ released: boolean }>('releaseLease', () => {
        const changes = s.releaseLease.run({
          name: input.name,
          holder: input.holder,
          token: input.token ?? null,
        }).changes;
        return ok({ released: changes > 0 });
      });
    },

    getLease(name) {
      return run('getLease', () => {
        const row = s.leaseByName.get(name) as LeaseRow | undefined;
        return ok(row ? toLease(row) : undefined);
      });
    },

    listLeases() {
      return run('listLeases', () => ok((s.listLeases.all() as LeaseRow[]).map(toLease)));
    },

    reclaimExpiredLeases(now) {
      return run('reclaimExpiredLeases', () => {
        const rows = s.reclaimLeases.all(now) as LeaseRow[];
        rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return ok(rows.map(toLease));
      });
    },

    recordDelivery(input: RecordDelivery) {
      return run<{ firstSeen: boolean }>('recordDelivery', () => {
        const changes = s.recordDelivery.run(input.source, input.deliveryId, input.now).changes;
        return ok({ firstSeen: changes === 1 });
      });
    },

    getCardRef(taskId, channel) {
      return run('getCardRef', () => {
        const row = s.getCardRef.get(taskId, channel) as { ref: string } | undefined;
        return ok(row?.ref);
      });
    },

    setCardRef(taskId, channel, ref) {
      return run('setCardRef', (): Result<void, ConveyorError> => {
        s.setCardRef.run(taskId, channel, ref);
        return ok();
      });
    },

    deleteCardRef(taskId, channel) {
      return run('deleteCardRef', (): Result<void, ConveyorError> => {
        s.deleteCardRef.run(taskId, channel);
        return ok();
      });
    },

    close() {
      if (closed) return Promise.resolve(ok());
      closed = true;
      try {
        db.close();
        return Promise.resolve(ok());
      } catch (thrown) {
        return Promise.resolve(err(sqliteError(thrown, path, 'close')));
      }
    },
  };
  return store;
}
