/**
 * `@conveyor/store-sqlite`: the embedded SQLite `Store` (better-sqlite3), safe
 * to share between processes on one host.
 *
 * @packageDocumentation
 */
export { PKG as STORE_SQLITE_PACKAGE } from './errors.js';
export { MIGRATIONS, type Migration, SCHEMA_VERSION } from './schema.js';
export { type SqliteSettings, sqliteSettingsSchema } from './settings.js';
export type { SqliteDatabase, SqliteDatabaseFactory, SqliteStatement } from './sqlite-database.js';
export {
  createSqliteStore,
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_SYNCHRONOUS,
  type SqliteStore,
  type SqliteStoreOptions,
  type SqliteSynchronous,
} from './sqlite-store.js';
