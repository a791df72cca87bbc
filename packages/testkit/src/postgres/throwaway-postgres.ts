import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The environment variable a test reads a PostgreSQL server from: `postgres://user@host:port/postgres`. */
export const PG_URL_ENV = 'CONVEYOR_PG_URL';

/** Why a PostgreSQL test was skipped (printed locally; in CI a missing server fails instead). */
export const POSTGRES_MISSING_MESSAGE =
  'no PostgreSQL server: set CONVEYOR_PG_URL or install PostgreSQL (apt-get install -y postgresql); skipping';

/** A PostgreSQL server for tests. */
export interface ThrowawayPostgres {
  /** connection string of the server's `postgres` database, as a superuser */
  readonly url: string;
  /** Stops the server and deletes its data folder (a no-op for a server taken from `CONVEYOR_PG_URL`). */
  stop(): Promise<void>;
}

/** Options of {@link startThrowawayPostgres}. */
export interface ThrowawayPostgresOptions {
  /** the folder holding `initdb`, `pg_ctl` and `postgres` (default: `CONVEYOR_PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin`) */
  readonly binDir?: string;
  /** how long the server may take to start (default 30 000 ms) */
  readonly startTimeoutMs?: number;
}

function run(file: string, args: readonly string[], asUser: string | undefined, timeoutMs: number): Promise<string> {
  const [cmd, argv] = asUser === undefined ? [file, args] : ['runuser', ['-u', asUser, '--', file, ...args]];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args[0] ?? ''} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The folder of the PostgreSQL server binaries, or `undefined` when none is installed. */
export function findPostgresBinDir(): string | undefined {
  const given = process.env.CONVEYOR_PG_BIN;
  if (given !== undefined && given !== '') return existsSync(join(given, 'initdb')) ? given : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a fresh PostgreSQL cluster in a temporary folder, listening on
 * 127.0.0.1 (a free port) and on a unix socket inside that folder, with
 * `trust` authentication and durability switched off (it is thrown away).
 * Run as root, it runs the server as the `postgres` user (PostgreSQL refuses
 * root). Rejects when no binaries are found or the server does not start.
 *
 * @example
 * ```ts
 * const pg = await startThrowawayPostgres();
 * // … connect to pg.url …
 * await pg.stop();
 * ```
 */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const bin = options.binDir ?? findPostgresBinDir();
  if (bin === undefined) throw new Error(POSTGRES_MISSING_MESSAGE);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const asUser = userInfo().uid === 0 ? 'postgres' : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-pg-'));
  const data = join(dir, 'data');
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    let owner: { uid: number; gid: number } | undefined;
    if (asUser !== undefined) {
      owner = {
        uid: Number((await run('id', ['-u'], asUser, 5_000)).trim()),
        gid: Number((await run('id', ['-g'], asUser, 5_000)).trim()),
      };
      chownSync(dir, owner.uid, owner.gid);
    }
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
      asUser,
      timeoutMs,
    );
    const port = await freePort();
    const conf = [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'max_connections = 200',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'shared_buffers = 64MB',
    ].join('\n');
    writeFileSync(join(data, 'postgresql.auto.conf'), `${conf}\n`);
    if (owner !== undefined) chownSync(join(data, 'postgresql.auto.conf'), owner.uid, owner.gid);
    await run(
      join(bin, 'pg_ctl'),
      ['start', '-D', data, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), '-l', join(dir, 'server.log')],
      asUser,
      timeoutMs + 5_000,
    );
    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], asUser, 30_000);
        } finally {
          cleanup();
        }
      },
    };
  } catch (failure) {
    cleanup();
    throw failure;
  }
}

/**
 * The server for a test run: `CONVEYOR_PG_URL` when set, otherwise a
 * {@link startThrowawayPostgres} cluster. Resolves to `undefined` (print
 * {@link POSTGRES_MISSING_MESSAGE} and skip) when neither works — except in CI
 * (`CI=true`), where a missing server rejects so the run fails.
 *
 * @example
 * ```ts
 * // vitest globalSetup
 * export default async function setup() {
 *   const pg = await postgresForTests();
 *   if (pg) process.env.CONVEYOR_PG_URL = pg.url;
 *   return () => pg?.stop();
 * }
 * ```
 */
export async function postgresForTests(): Promise<ThrowawayPostgres | undefined> {
  const given = process.env[PG_URL_ENV];
  if (given !== undefined && given !== '') return { url: given, stop: async () => {} };
  try {
    return await startThrowawayPostgres();
  } catch (failure) {
    if (process.env.CI === 'true') {
      throw new Error(`PostgreSQL is required in CI: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
    return undefined;
  }
}

/** A connection string with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A fresh database name, `conveyor_test_<random>` (safe to interpolate: lower-case letters, digits, `_`). */
export function randomDatabaseName(prefix = 'conveyor_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
