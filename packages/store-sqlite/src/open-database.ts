import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ConveyorError } from '@conveyor/core';
import { PKG, sqliteError } from './errors.js';
import type { Migration } from './schema.js';
import type { SqliteDatabase } from './sqlite-database.js';

const SQLITE_HEADER = 'SQLite format 3\u0000';

/** Reads the first 16 bytes; a non-empty file that does not start with the SQLite header is not ours to touch. */
export function checkHeader(path: string): ConveyorError | undefined {
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

/** `PRAGMA user_version`: the schema version of the open database. */
export function readUserVersion(db: SqliteDatabase): number {
  const v = db.pragma('user_version', { simple: true });
  return typeof v === 'number' ? v : Number(v);
}

/**
 * Runs the migrations newer than the database in one `BEGIN IMMEDIATE`
 * transaction (safe when several processes open the file at once); the error
 * when one fails, and then nothing was applied.
 */
export function migrate(
  db: SqliteDatabase,
  path: string,
  migrations: readonly Migration[],
  now: number,
): ConveyorError | undefined {
  try {
    db.exec('BEGIN IMMEDIATE');
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
    return undefined;
  } catch (thrown) {
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } catch {
      // the first error is the one to report
    }
    return sqliteError(thrown, path, 'migrating the schema');
  }
}
