import { ConveyorError, type ConveyorErrorCode } from '@conveyor/core';

/** The package name every error of this package carries. */
export const PKG = '@conveyor/store-postgres';

function fieldOf(thrown: unknown, field: 'code' | 'message'): string | undefined {
  if (typeof thrown === 'object' && thrown !== null && field in thrown) {
    const value = (thrown as Record<string, unknown>)[field];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** Node's socket errors: the server is unreachable or the connection broke. */
const NETWORK_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The error code for a thrown `pg` error: a SQLSTATE, a Node socket errno, or
 * none (node-postgres reports a dropped connection as a plain `Error`).
 */
export function codeFor(thrown: unknown): ConveyorErrorCode {
  const code = fieldOf(thrown, 'code');
  const message = fieldOf(thrown, 'message') ?? '';
  if (code === undefined) {
    // the client's own `query_timeout` (a server that stopped answering, or a caller's pool set tighter)
    if (/query read timeout/i.test(message)) return 'timeout';
    if (/connection terminated|connection ended|not queryable|timeout exceeded when trying to connect/i.test(message)) {
      return 'network';
    }
    return 'internal';
  }
  if (NETWORK_ERRNO.has(code)) return 'network';
  // query_canceled (statement_timeout), lock_not_available (lock_timeout)
  if (code === '57014' || code === '55P03') return 'timeout';
  // serialization failure, deadlock: retry
  if (code === '40001' || code === '40P01') return 'timeout';
  // admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now (a failover), connection exceptions
  if (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08')) return 'network';
  // too_many_connections, out of resources
  if (code === '53300' || code.startsWith('53')) return 'timeout';
  // read_only_sql_transaction: a standby after a failover, until the pool reaches the new primary
  if (code === '25006') return 'network';
  if (code.startsWith('23')) return 'conflict';
  // invalid authorization, invalid catalog (no such database), insufficient privilege
  if (code.startsWith('28') || code === '3D000' || code === '42501') return 'invalid_config';
  if (code.startsWith('XX')) return 'corrupt';
  return 'internal';
}

/**
 * Maps anything a `pg` call threw to a `ConveyorError` naming the server
 * (host, port, database — never the user or password), the operation and the
 * SQLSTATE. A lost connection, a failover or a terminated backend becomes a
 * retryable `network`; a statement timeout, a deadlock or a full server a
 * retryable `timeout`.
 */
export function postgresError(thrown: unknown, target: string, operation: string): ConveyorError {
  if (thrown instanceof ConveyorError) return thrown;
  const sqlState = fieldOf(thrown, 'code');
  const text = fieldOf(thrown, 'message') ?? String(thrown);
  const suffix = sqlState === undefined ? '' : ` (${sqlState})`;
  return new ConveyorError(PKG, codeFor(thrown), `${operation} on PostgreSQL ${target} failed: ${text}${suffix}`, {
    cause: thrown,
    details: { target, operation, ...(sqlState === undefined ? {} : { sqlState }) },
  });
}

/**
 * Where a connection string points, for messages: `host:port/database`. The
 * user name and password are never part of it.
 */
export function describeTarget(connectionString: string | undefined): string {
  if (connectionString === undefined) return '(a caller-supplied pool)';
  try {
    const url = new URL(connectionString);
    const socket = url.searchParams.get('host');
    const host = url.hostname === '' ? (socket ?? 'localhost') : url.hostname;
    return `${host}${url.port === '' ? '' : `:${url.port}`}${url.pathname === '' ? '' : url.pathname}`;
  } catch {
    return '(an unparsable connection string)';
  }
}
