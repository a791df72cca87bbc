/**
 * `@conveyor/store-postgres`: the `Store` for many hosts on one PostgreSQL
 * (node-postgres): fair, limit-keeping claims with `FOR UPDATE SKIP LOCKED`,
 * fencing tokens from a sequence, `LISTEN/NOTIFY` wake-ups, forward-only
 * migrations under an advisory lock.
 *
 * @packageDocumentation
 */
export {
  codeFor as postgresErrorCode,
  describeTarget,
  PKG as STORE_POSTGRES_PACKAGE,
  postgresError,
} from './errors.js';
export type {
  PgListenClient,
  PgNotification,
  PgPool,
  PgPoolClient,
  PgQueryConfig,
  PgQueryResult,
} from './pg-client.js';
export {
  createPostgresStore,
  type JobAvailable,
  type PostgresStore,
  type PostgresStoreOptions,
  renderMigration,
} from './postgres-store.js';
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, type PostgresMigration } from './schema.js';
