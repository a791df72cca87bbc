import {
  ConveyorError,
  type DecisionStore,
  err,
  ok,
  type ProjectLimitOptions,
  type Result,
  type Store,
} from '@conveyor/core';
import Database from 'better-sqlite3';
import { createSqliteCardRefs } from './card-refs.js';
import { createSqliteDecisions } from './decisions.js';
import { createSqliteDeliveries } from './deliveries.js';
import { PKG, sqliteError } from './errors.js';
import { createSqliteJobs } from './jobs.js';
import { createSqliteLeases } from './leases.js';
import { checkHeader, migrate, readUserVersion } from './open-database.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { createSqliteContext } from './sqlite-context.js';
import type { SqliteDatabase, SqliteDatabaseFactory } from './sqlite-database.js';
import { createSqliteTasks } from './tasks.js';

/**
 * How hard SQLite syncs to disk (`PRAGMA synchronous`, in WAL mode):
 *
 * - `FULL` (the default): every commit is on disk before the call resolves; a
 *   power loss or an OS crash loses nothing that was answered.
 * - `NORMAL`: durable across a crash of the process, but a power loss or an OS
 *   crash may drop the last transactions: a webhook already answered 200, a
 *   job already claimed or finished. Roughly 10x faster commits.
 * - `OFF`: no syncing at all; for throwaway databases (tests, benchmarks).
 */
export type SqliteSynchronous = 'NORMAL' | 'FULL' | 'OFF';

/** The default of {@link SqliteStoreOptions.synchronous}: nothing answered is lost to a power cut. */
export const DEFAULT_SYNCHRONOUS: SqliteSynchronous = 'FULL';

/** The default of {@link SqliteStoreOptions.busyTimeoutMs}: 5 s. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** the database file; created with its folder's permissions when missing */
  readonly path: string;
  /**
   * `PRAGMA synchronous` (default `FULL`). `NORMAL` is faster but a power
   * loss may drop the last commits; see {@link SqliteSynchronous}.
   */
  readonly synchronous?: SqliteSynchronous;
  /** how long a writer waits for another process's lock before failing with `timeout` (default 5000) */
  readonly busyTimeoutMs?: number;
  /**
   * An open better-sqlite3 database (or anything with the same subset), or a
   * factory that opens `path`. Default: `new Database(path)`. The store owns
   * the connection once it opened successfully and closes it on `close()`.
   */
  readonly database?: SqliteDatabase | SqliteDatabaseFactory;
  /**
   * Running jobs allowed per project, by project key; others get
   * `defaultProjectLimit`. Every process sharing the file should pass the same limits.
   */
  readonly projectLimits?: Readonly<Record<string, number>>;
  /** running jobs allowed per project not named in `projectLimits` (default: only the global `maxConcurrency`) */
  readonly defaultProjectLimit?: number;
}

/** The SQLite `Store`: every port, every optional extra, and the decision record. */
export interface SqliteStore extends Store, DecisionStore {
  /** the database file */
  readonly path: string;
  /** the schema version of the open database */
  readonly schemaVersion: number;
  /** the `PRAGMA synchronous` in force */
  readonly synchronous: SqliteSynchronous;
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
  const nonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (options.defaultProjectLimit !== undefined && !nonNegative(options.defaultProjectLimit)) {
    return new ConveyorError(
      PKG,
      'invalid_config',
      `createSqliteStore: defaultProjectLimit must be a non-negative integer, got ${String(options.defaultProjectLimit)}`,
    );
  }
  for (const [project, limit] of Object.entries(options.projectLimits ?? {})) {
    if (!nonNegative(limit)) {
      return new ConveyorError(
        PKG,
        'invalid_config',
        `createSqliteStore: projectLimits.${project} must be a non-negative integer, got ${String(limit)}`,
      );
    }
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

/**
 * Opens (creating when missing) a SQLite database and returns the `Store` on
 * it. Synchronous: it returns the `Result` directly, not a promise.
 *
 * On open it sets WAL, `synchronous` (default `FULL`) and `busy_timeout`, then runs the
 * forward-only migrations in one `BEGIN IMMEDIATE` transaction (safe when
 * several processes open the same file at once). A database written by a newer
 * schema version fails with `version_mismatch`; a file that is not a SQLite
 * database, or is corrupt, fails with `corrupt` and is never written to.
 *
 * Every read-then-write operation runs in a `BEGIN IMMEDIATE` transaction or
 * is a single atomic statement, so several processes can share the file.
 * Claims are fair across projects (the first job of every project before the
 * second of any) and keep `projectLimits` / `defaultProjectLimit` inside the
 * claiming transaction, as the PostgreSQL store does. No
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
  const synchronous = options.synchronous ?? DEFAULT_SYNCHRONOUS;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;

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
  } catch (thrown) {
    return fail(sqliteError(thrown, path, 'preparing the database'));
  }
  if (version < SCHEMA_VERSION) {
    const failed = migrate(db, path, MIGRATIONS, Date.now());
    if (failed) return fail(failed);
  }

  try {
    const limits: ProjectLimitOptions = {
      ...(options.projectLimits === undefined ? {} : { projectLimits: Object.freeze({ ...options.projectLimits }) }),
      ...(options.defaultProjectLimit === undefined ? {} : { defaultProjectLimit: options.defaultProjectLimit }),
    };
    return ok(buildStore(db, path, synchronous, limits));
  } catch (thrown) {
    return fail(sqliteError(thrown, path, 'preparing statements'));
  }
}

function buildStore(
  db: SqliteDatabase,
  path: string,
  synchronous: SqliteSynchronous,
  limits: ProjectLimitOptions,
): SqliteStore {
  const ctx = createSqliteContext(db, path);
  return {
    path,
    schemaVersion: SCHEMA_VERSION,
    synchronous,
    ...createSqliteTasks(ctx),
    ...createSqliteJobs(ctx, limits),
    ...createSqliteLeases(ctx),
    ...createSqliteDeliveries(ctx),
    ...createSqliteCardRefs(ctx),
    ...createSqliteDecisions(ctx),
    close() {
      if (ctx.closed()) return Promise.resolve(ok());
      ctx.markClosed();
      try {
        db.close();
        return Promise.resolve(ok());
      } catch (thrown) {
        return Promise.resolve(err(sqliteError(thrown, path, 'close')));
      }
    },
  };
}
