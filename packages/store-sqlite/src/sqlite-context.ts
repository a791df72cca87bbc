import { type ConveyorError, createStoreErrors, err, type Result, type Store } from '@conveyor/core';
import { PKG, sqliteError } from './errors.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js';

/** The errors every store reports, with this package's name. */
export const errors = createStoreErrors(PKG);

/** What every table's file gets from the store: the connection and the one way to run an operation. */
export interface SqliteContext {
  readonly db: SqliteDatabase;
  /** the database file, named in every error */
  readonly path: string;
  /** A prepared statement, cached by its SQL text: each statement is compiled once per connection. */
  prepare(sql: string): SqliteStatement;
  /**
   * Runs one store method: refused after `close()`, and never throwing (what
   * SQLite throws becomes a `ConveyorError` naming the file and operation).
   */
  run<T>(operation: keyof Store, body: () => Result<T, ConveyorError>): Promise<Result<T, ConveyorError>>;
  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before the first read. */
  immediate<T>(fn: () => T): T;
  /** Marks the store closed; later `run` calls resolve to an error. */
  markClosed(): void;
  /** `true` once {@link SqliteContext.markClosed} was called. */
  closed(): boolean;
}

/** The context of one open connection. */
export function createSqliteContext(db: SqliteDatabase, path: string): SqliteContext {
  const statements = new Map<string, SqliteStatement>();
  const prepare = (sql: string): SqliteStatement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const begin = prepare('BEGIN IMMEDIATE');
  const commit = prepare('COMMIT');
  const rollback = prepare('ROLLBACK');
  let closed = false;

  return {
    db,
    path,
    prepare,
    run<T>(operation: keyof Store, body: () => Result<T, ConveyorError>): Promise<Result<T, ConveyorError>> {
      if (closed) return Promise.resolve(err(errors.closed(operation, `SQLite store ${path}`)));
      try {
        return Promise.resolve(body());
      } catch (thrown) {
        return Promise.resolve(err(sqliteError(thrown, path, operation)));
      }
    },
    immediate<T>(fn: () => T): T {
      begin.run();
      try {
        const out = fn();
        commit.run();
        return out;
      } catch (thrown) {
        if (db.inTransaction) rollback.run();
        throw thrown;
      }
    },
    markClosed() {
      closed = true;
    },
    closed: () => closed,
  };
}
