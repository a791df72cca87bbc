import {
  type AsyncResult,
  ConveyorError,
  createStoreErrors,
  type DecisionStore,
  type DeliveryClaim,
  deliveryClaimMs,
  err,
  type FinishAndClaim,
  type FinishAndClaimOutcome,
  type FinishJob,
  type FinishOutcome,
  formatStoreId,
  type HistoryEntry,
  JOB_ID_PREFIX,
  type Job,
  type JobInput,
  type JobKind,
  type JobStatus,
  type Lease,
  type LeaseAcquisition,
  type Logger,
  ok,
  parseStoreId,
  type Result,
  STORE_ID_WIDTH,
  type StageSnapshot,
  type Store,
  TASK_ID_PREFIX,
  type Task,
  type TaskStatus,
} from '@conveyor/core';
import pg from 'pg';
import { createPostgresDecisions } from './decisions.js';
import { describeTarget, PKG, postgresError } from './errors.js';
import type { PgListenClient, PgNotification, PgPool, PgQueryConfig, PgQueryResult } from './pg-client.js';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, type PostgresMigration } from './schema.js';

/** What an {@link PostgresStore.onJobAvailable} listener hears. */
export interface JobAvailable {
  /** the `availableAt` of the enqueued job (epoch ms); `undefined` after a reconnect, when a notification may have been missed */
  readonly availableAt?: number;
}

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`; required unless `pool` is given */
  readonly connectionString?: string;
  /**
   * A pool to use instead of one opened from `connectionString` (anything with
   * the `pg.Pool` subset). The caller keeps it: `close()` does not end it.
   */
  readonly pool?: PgPool;
  /** the schema holding the store's tables (default `conveyor`); lower-case letters, digits and `_` */
  readonly schema?: string;
  /** connections of the pool this store opens (default 10) */
  readonly maxConnections?: number;
  /** the server cancels any statement running longer (default 30 000 ms); it then resolves to a `timeout` error */
  readonly statementTimeoutMs?: number;
  /** how long to wait for a connection (default 10 000 ms) */
  readonly connectTimeoutMs?: number;
  /** running jobs allowed per project, by project key; others get `defaultProjectLimit` */
  readonly projectLimits?: Readonly<Record<string, number>>;
  /** running jobs allowed per project not named in `projectLimits` (default: only the global `maxConcurrency`) */
  readonly defaultProjectLimit?: number;
  /**
   * How often the dedicated LISTEN connection proves it is alive with a
   * `SELECT 1` (default 10 000 ms; 0 turns it off). A failover can leave that
   * connection half-open (the old server gone without a reset): it sends
   * nothing of its own, so without the heartbeat it would wait silently, and
   * wake no one, until the operating system's keepalive gives up. A heartbeat
   * that gets no answer within as long again replaces the connection.
   */
  readonly listenHeartbeatMs?: number;
  /** where pool and listener trouble is reported (they never throw) */
  readonly logger?: Logger;
}

/** The PostgreSQL `Store` (every port with every extra), which also wakes idle workers. */
export interface PostgresStore extends Store, DecisionStore {
  /** `host:port/database` (never the credentials) */
  readonly target: string;
  /** the schema holding the tables */
  readonly schema: string;
  /** the schema version of the database */
  readonly schemaVersion: number;
  /** how many migrations this open applied (0 when another host had migrated already) */
  readonly migrationsApplied: number;
  /**
   * Calls `listener` as soon as a job is enqueued by any host (`LISTEN/NOTIFY`),
   * so an idle worker claims it at once instead of at its next poll. The
   * dedicated listening connection opens on the first subscription and
   * reconnects on its own; after a reconnect the listener is called once
   * without `availableAt`, since a notification may have been missed.
   * Returns the unsubscribe function.
   */
  onJobAvailable(listener: (event: JobAvailable) => void): () => void;
  /**
   * Ends a job and claims into the slot it frees in one statement and one round
   * trip (the calls of one event-loop turn share it; their claimed jobs go to
   * the first caller whose job exists). See `JobStoreFastPaths.finishAndClaim`.
   */
  finishAndClaim(input: FinishAndClaim): AsyncResult<FinishAndClaimOutcome, ConveyorError>;
}

// ids and their order are core's (`formatStoreId`), the same in every store
const ID_WIDTH = STORE_ID_WIDTH;
const TASK_PREFIX = TASK_ID_PREFIX;
const JOB_PREFIX = JOB_ID_PREFIX;
const formatId = formatStoreId;
const parseId = parseStoreId;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,40}$/;
/** advisory lock classes (the two-int4 key space): 'CONV' + 0/1/2 */
const MIGRATION_LOCK_CLASS = 1129270869;
const CLAIM_LOCK_CLASS = 1129270870;
const LEASE_LOCK_CLASS = 1129270871;
const LISTEN_BACKOFF_MS = [100, 250, 500, 1_000, 2_000, 5_000];
/** The default of {@link PostgresStoreOptions.listenHeartbeatMs}. */
const DEFAULT_LISTEN_HEARTBEAT_MS = 10_000;
/** The LISTEN connection's `query_timeout` is its heartbeat interval, but never shorter than this. */
const MIN_LISTEN_QUERY_TIMEOUT_MS = 1_000;

const ALL_TASK_STATUSES: readonly TaskStatus[] = [
  'active',
  'awaiting_approval',
  'gating',
  'failed',
  'rejected',
  'done',
];

const errors = createStoreErrors(PKG);

type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const str = (v: unknown): string => String(v);

function toTask(row: Row): Task {
  return {
    id: formatId(TASK_PREFIX, num(row.seq)),
    project: str(row.project),
    issueId: str(row.issue_id),
    repo: str(row.repo),
    branch: str(row.branch),
    title: str(row.title),
    description: str(row.description),
    snapshot: row.snapshot as StageSnapshot,
    version: num(row.version),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toJob(row: Row): Job {
  const job: { -readonly [K in keyof Job]: Job[K] } = {
    id: formatId(JOB_PREFIX, num(row.seq)),
    taskId: str(row.task_id),
    stage: str(row.stage),
    agent: str(row.agent),
    kind: row.kind as JobKind,
    status: row.status as JobStatus,
    attempt: num(row.attempt),
    stepKey: str(row.step_key),
    input: row.input as JobInput,
    availableAt: num(row.available_at),
    createdAt: num(row.created_at),
  };
  if (row.edge !== null) job.edge = str(row.edge);
  if (row.pid !== null) job.pid = num(row.pid);
  if (row.has_exit_code === true) job.exitCode = row.exit_code === null ? null : num(row.exit_code);
  if (row.started_at !== null) job.startedAt = num(row.started_at);
  if (row.finished_at !== null) job.finishedAt = num(row.finished_at);
  if (row.reason !== null) job.reason = str(row.reason);
  return job;
}

function toLease(row: Row): Lease {
  return {
    name: str(row.name),
    holder: str(row.holder),
    token: num(row.token),
    acquiredAt: num(row.acquired_at),
    expiresAt: num(row.expires_at),
  };
}

function toHistory(row: Row): HistoryEntry {
  return {
    taskId: str(row.task_id),
    seq: num(row.seq),
    fromStage: str(row.from_stage),
    fromStatus: row.from_status as TaskStatus,
    toStage: str(row.to_stage),
    toStatus: row.to_status as TaskStatus,
    cause: str(row.cause),
    ...(row.verdict_summary === null ? {} : { verdictSummary: str(row.verdict_summary) }),
    at: num(row.at),
  };
}

function invalid(message: string): ConveyorError {
  return new ConveyorError(PKG, 'invalid_config', `createPostgresStore: ${message}`);
}

function isNonNegativeInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function validate(options: PostgresStoreOptions): ConveyorError | undefined {
  if (options.pool === undefined && (typeof options.connectionString !== 'string' || options.connectionString === '')) {
    return invalid('connectionString must be a non-empty string (or pass a pool)');
  }
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    return invalid(`schema must match ${SCHEMA_NAME.source}, got ${JSON.stringify(options.schema)}`);
  }
  for (const [field, v] of [
    ['maxConnections', options.maxConnections],
    ['statementTimeoutMs', options.statementTimeoutMs],
    ['connectTimeoutMs', options.connectTimeoutMs],
    ['defaultProjectLimit', options.defaultProjectLimit],
    ['listenHeartbeatMs', options.listenHeartbeatMs],
  ] as const) {
    if (v !== undefined && !isNonNegativeInt(v)) return invalid(`${field} must be a non-negative integer, got ${v}`);
  }
  if (options.maxConnections === 0) return invalid('maxConnections must be at least 1');
  for (const [project, limit] of Object.entries(options.projectLimits ?? {})) {
    if (!isNonNegativeInt(limit)) {
      return invalid(`projectLimits.${project} must be a non-negative integer, got ${String(limit)}`);
    }
  }
  return undefined;
}

/** The migration SQL with its placeholders filled in for one schema. */
export function renderMigration(migration: PostgresMigration, schema: string): string {
  const claimLock = `${CLAIM_LOCK_CLASS}, hashtext('${schema}')`;
  return migration.sql
    .replaceAll('{{schema}}', `"${schema}"`)
    .replaceAll('{{schemaText}}', schema)
    .replaceAll('{{channel}}', `'${schema}_jobs'`)
    .replaceAll('{{claimLock}}', claimLock)
    .replaceAll('{{leaseLockClass}}', String(LEASE_LOCK_CLASS));
}

async function migrate(
  pool: PgPool,
  schema: string,
  target: string,
  now: number,
): Promise<Result<{ version: number; applied: number }, ConveyorError>> {
  let client: Awaited<ReturnType<PgPool['connect']>>;
  try {
    client = await pool.connect();
  } catch (thrown) {
    return err(postgresError(thrown, target, 'connecting'));
  }
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    // Two hosts starting at once: the second waits here, then finds the schema migrated.
    await client.query({
      text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
      values: [MIGRATION_LOCK_CLASS, schema],
    });
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at bigint NOT NULL)`,
    );
    const found = await client.query(`SELECT coalesce(max(version), 0) AS v FROM "${schema}".schema_migrations`);
    const current = num(found.rows[0]?.v ?? 0);
    if (current > POSTGRES_SCHEMA_VERSION) {
      await client.query('ROLLBACK');
      return err(
        new ConveyorError(
          PKG,
          'version_mismatch',
          `PostgreSQL ${target} schema "${schema}" was written by schema version ${current}, newer than ${POSTGRES_SCHEMA_VERSION}, the newest this @conveyor/store-postgres knows; upgrade @conveyor/store-postgres`,
          { details: { target, schema, databaseVersion: current, supportedVersion: POSTGRES_SCHEMA_VERSION } },
        ),
      );
    }
    let applied = 0;
    for (const m of POSTGRES_MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(renderMigration(m, schema));
      await client.query({
        text: `INSERT INTO "${schema}".schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)`,
        values: [m.version, m.description, now],
      });
      applied += 1;
    }
    await client.query('COMMIT');
    return ok({ version: Math.max(current, POSTGRES_SCHEMA_VERSION), applied });
  } catch (thrown) {
    broken = thrown instanceof Error ? thrown : new Error(String(thrown));
    try {
      await client.query('ROLLBACK');
    } catch {
      // the connection is gone; the server rolled back
    }
    return err(postgresError(thrown, target, 'migrating the schema'));
  } finally {
    client.release(broken);
  }
}

/**
 * Connects to PostgreSQL, migrates the schema (forward only, in one
 * transaction under an advisory lock, so hosts starting at once migrate once)
 * and returns the `Store` on it. A database migrated by a newer version of this
 * package fails with `version_mismatch` and is left untouched.
 *
 * Every atomic operation is one statement (claims, transitions and lease grants
 * are server-side functions), so a lost connection, a failover or a statement
 * timeout leaves nothing half-written and resolves to a retryable `network` or
 * `timeout` error; the pool replaces broken connections. Claims take
 * `FOR UPDATE SKIP LOCKED` rows under a transaction advisory lock, keep the
 * global `maxConcurrency`, the per-project limits and `availableAt` inside the
 * claiming statement, and are fair across projects (the first job of every
 * project before the second of any). Fencing tokens come from one sequence.
 *
 * @example
 * ```ts
 * const opened = await createPostgresStore({ connectionString: process.env.DATABASE_URL, projectLimits: { web: 4 } });
 * if (!opened.ok) throw opened.error;
 * const store = opened.value;
 * const stopWaking = store.onJobAvailable(() => void worker.tick());
 * ```
 */
export async function createPostgresStore(
  options: PostgresStoreOptions,
): Promise<Result<PostgresStore, ConveyorError>> {
  const bad = validate(options);
  if (bad) return err(bad);
  const schema = options.schema ?? 'conveyor';
  const target = describeTarget(options.connectionString);
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const ownsPool = options.pool === undefined;
  let pool: PgPool;
  try {
    pool =
      options.pool ??
      (new pg.Pool({
        connectionString: options.connectionString,
        max: options.maxConnections ?? 10,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        // the server cancels a long statement; the client gives up on a server that stopped answering
        statement_timeout: statementTimeoutMs,
        query_timeout: statementTimeoutMs + 5_000,
        idle_in_transaction_session_timeout: statementTimeoutMs + 5_000,
        application_name: 'conveyor',
        keepAlive: true,
      }) as unknown as PgPool);
  } catch (thrown) {
    return err(postgresError(thrown, target, 'creating the pool'));
  }
  const logger = options.logger;
  // An idle connection that breaks (a terminated backend, a failover) is dropped by the pool;
  // without a listener the error would crash the process.
  pool.on('error', (e) =>
    logger?.warn('an idle PostgreSQL connection failed; the pool replaces it', { error: e.message }),
  );

  const migrated = await migrate(pool, schema, target, Date.now());
  if (!migrated.ok) {
    if (ownsPool) await pool.end().catch(() => {});
    return err(migrated.error);
  }
  return ok(buildStore({ pool, ownsPool, schema, target, options, migrated: migrated.value }));
}

interface Built {
  readonly pool: PgPool;
  readonly ownsPool: boolean;
  readonly schema: string;
  readonly target: string;
  readonly options: PostgresStoreOptions;
  readonly migrated: { version: number; applied: number };
}

function buildStore({ pool, ownsPool, schema, target, options, migrated }: Built): PostgresStore {
  const t = (table: string): string => `"${schema}".${table}`;
  const channel = `${schema}_jobs`;
  const limitsJson = JSON.stringify(options.projectLimits ?? {});
  const defaultLimit = options.defaultProjectLimit ?? null;
  const logger = options.logger;
  let closed = false;

  const sql = {
    insertTask: `INSERT INTO ${t('tasks')} (project, issue_id, repo, branch, title, description, stage, status, snapshot, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)
       ON CONFLICT (project, issue_id) DO NOTHING RETURNING *`,
    taskBySeq: `SELECT * FROM ${t('tasks')} WHERE seq = $1`,
    taskByIssue: `SELECT * FROM ${t('tasks')} WHERE project = $1 AND issue_id = $2`,
    taskByBranch: `SELECT * FROM ${t('tasks')} WHERE repo = $1 AND branch = $2 ORDER BY seq LIMIT 1`,
    saveTransition: `SELECT r.outcome, r.actual_version, (r.task).* FROM ${t('save_transition')}($1, $2, $3, $4, $5, $6, $7, $8, $9) r`,
    history: `SELECT * FROM ${t('task_history')} WHERE task_id = $1 ORDER BY seq`,
    insertJob: `INSERT INTO ${t('jobs')} (task_id, project, stage, agent, kind, status, attempt, step_key, edge, input, available_at, created_at)
       VALUES ($1, coalesce((SELECT project FROM ${t('tasks')} WHERE seq = $2), ''), $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11)
       ON CONFLICT (step_key) DO NOTHING RETURNING *`,
    jobByStep: `SELECT * FROM ${t('jobs')} WHERE step_key = $1`,
    jobBySeq: `SELECT * FROM ${t('jobs')} WHERE seq = $1`,
    jobsBySeq: `SELECT * FROM ${t('jobs')} WHERE seq = ANY($1::bigint[])`,
    claim: `SELECT * FROM ${t('claim_jobs')}($1, $2, $3::jsonb, $4)`,
    finishAndClaim: `SELECT * FROM ${t('finish_and_claim')}($1::bigint[], $2::text[], $3::integer[], $4::boolean[],
       $5::text[], $6::bigint[], $7, $8, $9::jsonb, $10)`,
    setPid: `UPDATE ${t('jobs')} SET pid = $1 WHERE seq = $2 AND status = 'running'`,
    finish: `UPDATE ${t('jobs')} SET status = $1, exit_code = $2, has_exit_code = $3, reason = $4, finished_at = $5
       WHERE seq = $6 AND status = 'running' RETURNING *`,
    finishMany: `UPDATE ${t('jobs')} j SET status = v.status, exit_code = v.exit_code, has_exit_code = v.has_exit_code,
         reason = v.reason, finished_at = v.finished_at
       FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::boolean[], $5::text[], $6::bigint[])
         AS v (seq, status, exit_code, has_exit_code, reason, finished_at)
       WHERE j.seq = v.seq AND j.status = 'running' RETURNING j.*`,
    cancelQueued: `UPDATE ${t('jobs')} SET status = 'cancelled', reason = $1, finished_at = $2 WHERE task_id = $3 AND status = 'queued'`,
    acquireLease: `SELECT r.acquired, (r.lease).* FROM ${t('acquire_lease')}($1, $2, $3, $4) r`,
    leaseByName: `SELECT * FROM ${t('leases')} WHERE name = $1`,
    renewLease: `UPDATE ${t('leases')} SET expires_at = $1 WHERE name = $2 AND holder = $3 AND token = $4 AND expires_at > $5 RETURNING *`,
    releaseLease: `DELETE FROM ${t('leases')} WHERE name = $1 AND holder = $2 AND ($3::bigint IS NULL OR token = $3)`,
    listLeases: `SELECT * FROM ${t('leases')} ORDER BY name`,
    reclaimLeases: `DELETE FROM ${t('leases')} WHERE expires_at <= $1 RETURNING *`,
    // core's isDeliveryClaimable is the upsert's WHERE: of racing receivers exactly one gets the row back
    recordDelivery: `INSERT INTO ${t('deliveries')} AS d (source, delivery_id, received_at, claimed_at, attempt)
       VALUES ($1, $2, $3, $3, 1)
       ON CONFLICT (source, delivery_id) DO UPDATE SET claimed_at = excluded.claimed_at, attempt = d.attempt + 1
         WHERE d.handled_at IS NULL AND (d.claimed_at IS NULL OR d.claimed_at <= $3 - $4)
       RETURNING attempt`,
    deliveryState: `SELECT handled_at FROM ${t('deliveries')} WHERE source = $1 AND delivery_id = $2`,
    deliveryHandled: `UPDATE ${t('deliveries')} SET handled_at = $1 WHERE source = $2 AND delivery_id = $3 AND handled_at IS NULL`,
    deliveryFailed: `UPDATE ${t('deliveries')} SET claimed_at = NULL
       WHERE source = $1 AND delivery_id = $2 AND attempt = $3 AND handled_at IS NULL`,
    getCardRef: `SELECT ref FROM ${t('card_refs')} WHERE task_id = $1 AND channel = $2`,
    setCardRef: `INSERT INTO ${t('card_refs')} (task_id, channel, ref) VALUES ($1, $2, $3)
       ON CONFLICT (task_id, channel) DO UPDATE SET ref = excluded.ref`,
    deleteCardRef: `DELETE FROM ${t('card_refs')} WHERE task_id = $1 AND channel = $2`,
  } as const;

  /** Runs a fixed statement as a prepared statement named after its key (parsed once per connection). */
  function q(key: keyof typeof sql, values: readonly unknown[]): Promise<PgQueryResult> {
    const config: PgQueryConfig = { name: `conveyor_${schema}_${key}`, text: sql[key], values };
    return pool.query(config);
  }

  function run<T>(operation: string, body: () => Promise<Result<T, ConveyorError>>): AsyncResult<T, ConveyorError> {
    if (closed) return Promise.resolve(err(errors.closed(operation, `PostgreSQL store ${target}`)));
    return body().catch((thrown: unknown) => err(postgresError(thrown, target, operation)));
  }

  async function jobRow(jobId: string): Promise<Row | undefined> {
    const seq = parseId(JOB_PREFIX, jobId);
    if (seq === undefined) return undefined;
    return (await q('jobBySeq', [seq])).rows[0];
  }

  // --- LISTEN/NOTIFY -------------------------------------------------------------------
  const listeners = new Set<(event: JobAvailable) => void>();
  let listenClient: PgListenClient | undefined;
  let listenTimer: NodeJS.Timeout | undefined;
  let listenAttempt = 0;
  let listenedBefore = false;
  let listenHeartbeat: NodeJS.Timeout | undefined;
  const heartbeatMs = options.listenHeartbeatMs ?? DEFAULT_LISTEN_HEARTBEAT_MS;

  const emit = (event: JobAvailable): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (thrown) {
        logger?.warn('a job-available listener threw', {
          error: thrown instanceof Error ? thrown.message : String(thrown),
        });
      }
    }
  };

  function scheduleListen(): void {
    if (closed || listeners.size === 0 || listenTimer !== undefined) return;
    const delay =
      listenAttempt === 0 ? 0 : (LISTEN_BACKOFF_MS[Math.min(listenAttempt, LISTEN_BACKOFF_MS.length) - 1] ?? 5_000);
    listenTimer = setTimeout(() => {
      listenTimer = undefined;
      void openListener();
    }, delay);
    listenTimer.unref?.();
  }

  async function openListener(): Promise<void> {
    if (closed || listeners.size === 0 || listenClient !== undefined) return;
    listenAttempt += 1;
    let client: PgListenClient;
    if (options.connectionString !== undefined) {
      client = new pg.Client({
        connectionString: options.connectionString,
        application_name: 'conveyor-listen',
        keepAlive: true,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        // a heartbeat (or the LISTEN) that gets no answer fails instead of waiting forever
        ...(heartbeatMs > 0 ? { query_timeout: Math.max(heartbeatMs, MIN_LISTEN_QUERY_TIMEOUT_MS) } : {}),
      }) as unknown as PgListenClient;
    } else {
      logger?.warn('onJobAvailable needs a connectionString for its dedicated connection; workers will poll');
      return;
    }
    let gone = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const lost = (why: string): void => {
      if (gone) return;
      gone = true;
      if (heartbeat !== undefined) clearInterval(heartbeat);
      if (listenHeartbeat === heartbeat) listenHeartbeat = undefined;
      if (listenClient === client) listenClient = undefined;
      client.end().catch(() => {});
      if (closed) return;
      logger?.warn('the LISTEN connection was lost; reconnecting', { error: why });
      scheduleListen();
    };
    client.on('error', (e) => lost(e.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (message: PgNotification) => {
      if (message.channel !== channel) return;
      const at = Number(message.payload);
      emit(Number.isFinite(at) ? { availableAt: at } : {});
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${channel}"`);
    } catch (thrown) {
      lost(thrown instanceof Error ? thrown.message : String(thrown));
      return;
    }
    if (closed || listeners.size === 0) {
      gone = true;
      await client.end().catch(() => {});
      return;
    }
    listenClient = client;
    listenAttempt = 0;
    if (heartbeatMs > 0) {
      let beating = false;
      heartbeat = setInterval(() => {
        if (beating || gone) return;
        beating = true;
        client.query('SELECT 1').then(
          () => {
            beating = false;
          },
          (thrown: unknown) => lost(`heartbeat failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`),
        );
      }, heartbeatMs);
      heartbeat.unref?.();
      listenHeartbeat = heartbeat;
    }
    // Jobs enqueued while this connection was down notified no one.
    if (listenedBefore) emit({});
    listenedBefore = true;
  }

  function stopListening(): void {
    if (listenTimer !== undefined) clearTimeout(listenTimer);
    listenTimer = undefined;
    if (listenHeartbeat !== undefined) clearInterval(listenHeartbeat);
    listenHeartbeat = undefined;
    const client = listenClient;
    listenClient = undefined;
    void client?.end().catch(() => {});
  }

  // --- finishJob batching -------------------------------------------------------------
  // Finishes issued in the same turn of the event loop (a worker whose jobs end together,
  // a reaper tick) go to the server as one statement. Each call still gets its own
  // outcome: the statement flips only rows still running, and of several calls for one
  // job in a batch only the first is in the statement, so exactly one can win.
  interface PendingFinish {
    readonly seq: number;
    readonly input: FinishJob;
    readonly resolve: (outcome: Result<FinishOutcome, ConveyorError>) => void;
  }
  const finishes = (() => {
    let pending: PendingFinish[] = [];
    let scheduled = false;

    async function settle(batch: PendingFinish[]): Promise<void> {
      const first = new Map<number, PendingFinish>();
      for (const p of batch) if (!first.has(p.seq)) first.set(p.seq, p);
      const entries = [...first.values()];
      const won = new Map<number, Row>();
      if (entries.length === 1 && entries[0] !== undefined) {
        const { input, seq } = entries[0];
        const row = (
          await q('finish', [
            input.status,
            input.exitCode ?? null,
            input.exitCode !== undefined,
            input.reason ?? null,
            input.now,
            seq,
          ])
        ).rows[0];
        if (row) won.set(seq, row);
      } else {
        const rows = (
          await q('finishMany', [
            entries.map((e) => e.seq),
            entries.map((e) => e.input.status),
            entries.map((e) => e.input.exitCode ?? null),
            entries.map((e) => e.input.exitCode !== undefined),
            entries.map((e) => e.input.reason ?? null),
            entries.map((e) => e.input.now),
          ])
        ).rows;
        for (const row of rows) won.set(num(row.seq), row);
      }
      const lost = [...new Set(batch.filter((p) => first.get(p.seq) !== p || !won.has(p.seq)).map((p) => p.seq))];
      const current = new Map<number, Row>();
      if (lost.length > 0) for (const row of (await q('jobsBySeq', [lost])).rows) current.set(num(row.seq), row);
      for (const p of batch) {
        const winner = first.get(p.seq) === p ? won.get(p.seq) : undefined;
        if (winner) {
          p.resolve(ok({ won: true, job: toJob(winner) }));
          continue;
        }
        const row = current.get(p.seq) ?? won.get(p.seq);
        p.resolve(row ? ok({ won: false, job: toJob(row) }) : err(errors.jobNotFound('finishJob', p.input.jobId)));
      }
    }

    function flush(): void {
      scheduled = false;
      const batch = pending;
      pending = [];
      settle(batch).catch((thrown: unknown) => {
        const error = postgresError(thrown, target, 'finishJob');
        for (const p of batch) p.resolve(err(error));
      });
    }

    return {
      add(seq: number, input: FinishJob): Promise<Result<FinishOutcome, ConveyorError>> {
        return new Promise((resolve) => {
          pending.push({ seq, input, resolve });
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        });
      },
    };
  })();

  // --- finishAndClaim batching ---------------------------------------------------------
  // Like finishJob: the calls of one turn of the event loop (a worker whose jobs end
  // together) go as one statement per maxConcurrency, which flips them all and then claims
  // once into the freed slots. The claimed jobs go to the first caller of the statement
  // whose job exists (the others get none: every caller must run what it gets, and one
  // claim cannot be split without a second round trip); each caller gets its own flip.
  interface PendingFinishClaim {
    readonly seq: number;
    readonly input: FinishAndClaim;
    readonly resolve: (outcome: Result<FinishAndClaimOutcome, ConveyorError>) => void;
  }
  const finishClaims = (() => {
    let pending: PendingFinishClaim[] = [];
    let scheduled = false;

    async function settle(batch: PendingFinishClaim[]): Promise<void> {
      const first = new Map<number, PendingFinishClaim>();
      for (const p of batch) if (!first.has(p.seq)) first.set(p.seq, p);
      const entries = [...first.values()];
      const head = batch[0];
      if (head === undefined) return;
      const rows = (
        await q('finishAndClaim', [
          entries.map((e) => e.seq),
          entries.map((e) => e.input.finish.status),
          entries.map((e) => e.input.finish.exitCode ?? null),
          entries.map((e) => e.input.finish.exitCode !== undefined),
          entries.map((e) => e.input.finish.reason ?? null),
          entries.map((e) => e.input.finish.now),
          head.input.claim.now,
          head.input.claim.maxConcurrency,
          limitsJson,
          defaultLimit,
        ])
      ).rows;
      const won = new Map<number, Row>();
      const claimed: Job[] = [];
      for (const row of rows) {
        const seq = num(row.seq);
        if (first.has(seq) && row.status !== 'running') won.set(seq, row);
        else claimed.push(toJob(row));
      }
      const lost = [...new Set(batch.filter((p) => first.get(p.seq) !== p || !won.has(p.seq)).map((p) => p.seq))];
      const current = new Map<number, Row>();
      if (lost.length > 0) for (const row of (await q('jobsBySeq', [lost])).rows) current.set(num(row.seq), row);
      // the claimed jobs go to the first caller whose job exists (the statement claims only then)
      const receiver = batch.find((p) => won.has(p.seq) || current.has(p.seq));
      for (const p of batch) {
        const mine = p === receiver ? claimed : [];
        const winner = first.get(p.seq) === p ? won.get(p.seq) : undefined;
        if (winner) {
          p.resolve(ok({ finished: { won: true, job: toJob(winner) }, claimed: mine }));
          continue;
        }
        const row = current.get(p.seq) ?? won.get(p.seq);
        p.resolve(
          row
            ? ok({ finished: { won: false, job: toJob(row) }, claimed: mine })
            : err(errors.jobNotFound('finishAndClaim', p.input.finish.jobId)),
        );
      }
    }

    function flush(): void {
      scheduled = false;
      const groups = new Map<number, PendingFinishClaim[]>();
      for (const p of pending) {
        const group = groups.get(p.input.claim.maxConcurrency);
        if (group) group.push(p);
        else groups.set(p.input.claim.maxConcurrency, [p]);
      }
      pending = [];
      for (const batch of groups.values()) {
        settle(batch).catch((thrown: unknown) => {
          const error = postgresError(thrown, target, 'finishAndClaim');
          for (const p of batch) p.resolve(err(error));
        });
      }
    }

    return {
      add(seq: number, input: FinishAndClaim): Promise<Result<FinishAndClaimOutcome, ConveyorError>> {
        return new Promise((resolve) => {
          pending.push({ seq, input, resolve });
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        });
      },
    };
  })();

  const decisions = createPostgresDecisions({
    table: t,
    query: (name, text, values) => pool.query({ name: `conveyor_${schema}_${name}`, text, values }),
    run,
  });

  const store: PostgresStore = {
    ...decisions,
    target,
    schema,
    schemaVersion: migrated.version,
    migrationsApplied: migrated.applied,

    onJobAvailable(listener) {
      listeners.add(listener);
      if (listenClient === undefined) scheduleListen();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          stopListening();
          listenedBefore = false;
        }
      };
    },

    createTaskIfAbsent(input) {
      return run('createTaskIfAbsent', async () => {
        const inserted = await q('insertTask', [
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
        ]);
        const row = inserted.rows[0];
        if (row) return ok({ task: toTask(row), created: true });
        // the conflicting insert committed before ours gave up: a new statement sees it
        const existing = (await q('taskByIssue', [input.project, input.issueId])).rows[0];
        if (!existing) {
          return err(
            new ConveyorError(
              PKG,
              'internal',
              `createTaskIfAbsent: (${input.project}, ${input.issueId}) conflicted but no task was found`,
            ),
          );
        }
        return ok({ task: toTask(existing), created: false });
      });
    },

    getTask(taskId) {
      return run('getTask', async () => {
        const seq = parseId(TASK_PREFIX, taskId);
        if (seq === undefined) return ok(undefined);
        const row = (await q('taskBySeq', [seq])).rows[0];
        return ok(row ? toTask(row) : undefined);
      });
    },

    findTaskByIssue(project, issueId) {
      return run('findTaskByIssue', async () => {
        const row = (await q('taskByIssue', [project, issueId])).rows[0];
        return ok(row ? toTask(row) : undefined);
      });
    },

    findTaskByBranch(repo, branch) {
      return run('findTaskByBranch', async () => {
        const row = (await q('taskByBranch', [repo, branch])).rows[0];
        return ok(row ? toTask(row) : undefined);
      });
    },

    listTasks(query) {
      return run('listTasks', async () => {
        const badLimit = errors.checkLimit('listTasks', query.limit);
        if (badLimit) return err(badLimit);
        const where: string[] = [];
        const values: unknown[] = [];
        const add = (clause: (n: string) => string, value: unknown): void => {
          values.push(value);
          where.push(clause(`$${values.length}`));
        };
        if (query.project !== undefined) add((n) => `project = ${n}`, query.project);
        if (query.repo !== undefined) add((n) => `repo = ${n}`, query.repo);
        if (query.stage !== undefined) add((n) => `stage = ${n}`, query.stage);
        if (query.statuses !== undefined || query.excludeStatuses !== undefined) {
          const excluded = query.excludeStatuses ?? [];
          const allowed = [...new Set(query.statuses ?? ALL_TASK_STATUSES)].filter((s) => !excluded.includes(s));
          if (allowed.length === 0) return ok([]);
          add((n) => `status = ANY(${n}::text[])`, allowed);
        }
        if (query.updatedBefore !== undefined) add((n) => `updated_at < ${n}`, query.updatedBefore);
        if (query.afterId !== undefined) {
          const after = parseId(TASK_PREFIX, query.afterId);
          if (after === undefined) {
            add((n) => `('${TASK_PREFIX}' || lpad(seq::text, ${ID_WIDTH}, '0')) COLLATE "C" > ${n}`, query.afterId);
          } else add((n) => `seq > ${n}`, after);
        }
        let text = `SELECT * FROM ${t('tasks')}`;
        if (where.length > 0) text += ` WHERE ${where.join(' AND ')}`;
        text += ' ORDER BY seq';
        if (query.limit !== undefined) {
          values.push(query.limit);
          text += ` LIMIT $${values.length}`;
        }
        return ok((await pool.query({ text, values })).rows.map(toTask));
      });
    },

    saveTransition(input) {
      return run('saveTransition', async () => {
        const seq = parseId(TASK_PREFIX, input.taskId);
        if (seq === undefined) return err(errors.taskNotFound('saveTransition', input.taskId));
        const row = (
          await q('saveTransition', [
            seq,
            input.taskId,
            input.expectedVersion,
            JSON.stringify(input.snapshot),
            input.snapshot.stage,
            input.snapshot.status,
            input.cause,
            input.verdictSummary ?? null,
            input.now,
          ])
        ).rows[0];
        if (!row || row.outcome === 'not_found') return err(errors.taskNotFound('saveTransition', input.taskId));
        if (row.outcome === 'conflict') {
          return err(errors.versionConflict(input.taskId, num(row.actual_version), input.expectedVersion));
        }
        return ok(toTask(row));
      });
    },

    listHistory(taskId) {
      return run('listHistory', async () => ok((await q('history', [taskId])).rows.map(toHistory)));
    },

    enqueueJob(input) {
      return run('enqueueJob', async () => {
        const inserted = await q('insertJob', [
          input.taskId,
          parseId(TASK_PREFIX, input.taskId) ?? null,
          input.stage,
          input.agent,
          input.kind,
          input.attempt,
          input.stepKey,
          input.edge ?? null,
          JSON.stringify(input.input),
          input.availableAt,
          input.now,
        ]);
        const row = inserted.rows[0];
        if (row) return ok({ job: toJob(row), created: true });
        const existing = (await q('jobByStep', [input.stepKey])).rows[0];
        if (!existing) {
          return err(
            new ConveyorError(PKG, 'internal', `enqueueJob: step ${input.stepKey} conflicted but no job was found`),
          );
        }
        return ok({ job: toJob(existing), created: false });
      });
    },

    claimJobs(input) {
      return run('claimJobs', async () => {
        const badMax = errors.checkMaxConcurrency(input.maxConcurrency);
        if (badMax) return err(badMax);
        if (input.maxConcurrency === 0) return ok([]);
        const rows = (await q('claim', [input.now, input.maxConcurrency, limitsJson, defaultLimit])).rows;
        return ok(rows.map(toJob));
      });
    },

    setJobPid(jobId, pid) {
      return run('setJobPid', async (): Promise<Result<void, ConveyorError>> => {
        const seq = parseId(JOB_PREFIX, jobId);
        if (seq !== undefined && (await q('setPid', [pid, seq])).rowCount === 1) return ok();
        const row = await jobRow(jobId);
        if (!row) return err(errors.jobNotFound('setJobPid', jobId));
        return err(errors.jobNotRunning('setJobPid', jobId, str(row.status)));
      });
    },

    finishJob(input) {
      return run('finishJob', async (): Promise<Result<FinishOutcome, ConveyorError>> => {
        const seq = parseId(JOB_PREFIX, input.jobId);
        if (seq === undefined) return err(errors.jobNotFound('finishJob', input.jobId));
        return finishes.add(seq, input);
      });
    },

    finishAndClaim(input) {
      return run('finishAndClaim', async (): Promise<Result<FinishAndClaimOutcome, ConveyorError>> => {
        const badMax = errors.checkMaxConcurrency(input.claim.maxConcurrency);
        if (badMax) return err(badMax);
        const seq = parseId(JOB_PREFIX, input.finish.jobId);
        if (seq === undefined) return err(errors.jobNotFound('finishAndClaim', input.finish.jobId));
        return finishClaims.add(seq, input);
      });
    },

    getJob(jobId) {
      return run('getJob', async () => {
        const row = await jobRow(jobId);
        return ok(row ? toJob(row) : undefined);
      });
    },

    listJobs(query) {
      return run('listJobs', async () => {
        const badLimit = errors.checkLimit('listJobs', query.limit);
        if (badLimit) return err(badLimit);
        const where: string[] = [];
        const values: unknown[] = [];
        if (query.statuses !== undefined) {
          values.push([...query.statuses]);
          where.push(`status = ANY($${values.length}::text[])`);
        }
        if (query.taskId !== undefined) {
          values.push(query.taskId);
          where.push(`task_id = $${values.length}`);
        }
        let text = `SELECT * FROM ${t('jobs')}`;
        if (where.length > 0) text += ` WHERE ${where.join(' AND ')}`;
        text += ' ORDER BY seq';
        if (query.limit !== undefined) {
          values.push(query.limit);
          text += ` LIMIT $${values.length}`;
        }
        return ok((await pool.query({ text, values })).rows.map(toJob));
      });
    },

    cancelQueuedJobs(taskId, reason, now) {
      return run('cancelQueuedJobs', async () => ok((await q('cancelQueued', [reason, now, taskId])).rowCount ?? 0));
    },

    acquireLease(input) {
      return run('acquireLease', async (): Promise<Result<LeaseAcquisition, ConveyorError>> => {
        const badTtl = errors.checkTtl('acquireLease', input.name, input.ttlMs);
        if (badTtl) return err(badTtl);
        const row = (await q('acquireLease', [input.name, input.holder, input.now, input.ttlMs])).rows[0];
        if (!row) return err(new ConveyorError(PKG, 'internal', `acquireLease ${input.name}: no row came back`));
        const lease = toLease(row);
        return ok(row.acquired === true ? { acquired: true, lease } : { acquired: false, current: lease });
      });
    },

    renewLease(input) {
      return run('renewLease', async () => {
        const badTtl = errors.checkTtl('renewLease', input.name, input.ttlMs);
        if (badTtl) return err(badTtl);
        const renewed = (
          await q('renewLease', [input.now + input.ttlMs, input.name, input.holder, input.token, input.now])
        ).rows[0];
        if (renewed) return ok(toLease(renewed));
        const current = (await q('leaseByName', [input.name])).rows[0];
        return err(errors.leaseLost(input, current ? toLease(current) : undefined));
      });
    },

    releaseLease(input) {
      return run('releaseLease', async () => {
        const deleted = await q('releaseLease', [input.name, input.holder, input.token ?? null]);
        return ok({ released: (deleted.rowCount ?? 0) > 0 });
      });
    },

    getLease(name) {
      return run('getLease', async () => {
        const row = (await q('leaseByName', [name])).rows[0];
        return ok(row ? toLease(row) : undefined);
      });
    },

    listLeases() {
      return run('listLeases', async () => ok((await q('listLeases', [])).rows.map(toLease)));
    },

    reclaimExpiredLeases(now) {
      return run('reclaimExpiredLeases', async () => {
        const leases = (await q('reclaimLeases', [now])).rows.map(toLease);
        leases.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return ok(leases);
      });
    },

    recordDelivery(input) {
      return run('recordDelivery', async (): Promise<Result<DeliveryClaim, ConveyorError>> => {
        const claimed = (await q('recordDelivery', [input.source, input.deliveryId, input.now, deliveryClaimMs(input)]))
          .rows[0];
        if (claimed) return ok({ firstSeen: true, attempt: num(claimed.attempt) });
        const state = (await q('deliveryState', [input.source, input.deliveryId])).rows[0];
        return ok({ firstSeen: false, handled: state !== undefined && state.handled_at !== null });
      });
    },

    markDeliveryHandled(input) {
      return run('markDeliveryHandled', async (): Promise<Result<void, ConveyorError>> => {
        await q('deliveryHandled', [input.now, input.source, input.deliveryId]);
        return ok();
      });
    },

    markDeliveryFailed(input) {
      return run('markDeliveryFailed', async (): Promise<Result<void, ConveyorError>> => {
        await q('deliveryFailed', [input.source, input.deliveryId, input.attempt]);
        return ok();
      });
    },

    getCardRef(taskId, cardChannel) {
      return run('getCardRef', async () => {
        const row = (await q('getCardRef', [taskId, cardChannel])).rows[0];
        return ok(row === undefined ? undefined : str(row.ref));
      });
    },

    setCardRef(taskId, cardChannel, ref) {
      return run('setCardRef', async (): Promise<Result<void, ConveyorError>> => {
        await q('setCardRef', [taskId, cardChannel, ref]);
        return ok();
      });
    },

    deleteCardRef(taskId, cardChannel) {
      return run('deleteCardRef', async (): Promise<Result<void, ConveyorError>> => {
        await q('deleteCardRef', [taskId, cardChannel]);
        return ok();
      });
    },

    async close() {
      if (closed) return ok();
      closed = true;
      listeners.clear();
      stopListening();
      if (!ownsPool) return ok();
      try {
        await pool.end();
        return ok();
      } catch (thrown) {
        return err(postgresError(thrown, target, 'close'));
      }
    },
  };
  return store;
}
