import { ConveyorError, type ConveyorErrorCode } from '@conveyor/core';

/** The package name every error of this package carries. */
export const PKG = '@conveyor/store-sqlite';

function sqliteCodeOf(thrown: unknown): string | undefined {
  if (typeof thrown === 'object' && thrown !== null && 'code' in thrown) {
    const code = (thrown as { code: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

function codeFor(sqliteCode: string | undefined): ConveyorErrorCode {
  if (sqliteCode === undefined) return 'internal';
  if (sqliteCode.startsWith('SQLITE_BUSY') || sqliteCode.startsWith('SQLITE_LOCKED')) return 'timeout';
  if (sqliteCode.startsWith('SQLITE_CORRUPT') || sqliteCode === 'SQLITE_NOTADB') return 'corrupt';
  if (sqliteCode.startsWith('SQLITE_CONSTRAINT')) return 'conflict';
  if (sqliteCode.startsWith('SQLITE_CANTOPEN')) return 'invalid_config';
  return 'internal';
}

/**
 * Maps anything a SQLite call threw to a `ConveyorError` that names the
 * database file, the operation and the SQLite code (`SQLITE_BUSY` becomes a
 * retryable `timeout`, `SQLITE_CORRUPT`/`SQLITE_NOTADB` become `corrupt`).
 */
export function sqliteError(thrown: unknown, path: string, operation: string): ConveyorError {
  if (thrown instanceof ConveyorError) return thrown;
  const sqliteCode = sqliteCodeOf(thrown);
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  const suffix = sqliteCode === undefined ? '' : ` (${sqliteCode})`;
  return new ConveyorError(
    PKG,
    codeFor(sqliteCode),
    `${operation} on SQLite database ${path} failed: ${text}${suffix}`,
    {
      cause: thrown,
      details: { path, operation, ...(sqliteCode === undefined ? {} : { sqliteCode }) },
    },
  );
}
