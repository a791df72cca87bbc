/**
 * The subset of a better-sqlite3 prepared statement the store uses. Declared
 * structurally so tests and hosts can pass their own instance (or a fake).
 */
export interface SqliteStatement {
  run(...params: unknown[]): { readonly changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * The subset of a better-sqlite3 `Database` the store uses.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const db: SqliteDatabase = new Database('/var/lib/conveyor/state.db');
 * ```
 */
export interface SqliteDatabase {
  /** `true` while a transaction is open. */
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { readonly simple?: boolean }): unknown;
  close(): unknown;
}

/** Opens a database at a path: what `createSqliteStore` calls when it is given a factory. */
export type SqliteDatabaseFactory = (path: string) => SqliteDatabase;
