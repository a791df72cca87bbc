import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { findPostgresBinDir } from '@conveyor/testkit';
import pg from 'pg';

/** Stops and starts one PostgreSQL server on its own data folder and port: a restart, a failover to itself. */
export interface ServerControl {
  /** `pg_ctl stop -m fast`: every backend is terminated, new connections are refused */
  stop(): Promise<void>;
  /** `pg_ctl start` on the same data folder (so the same port) */
  start(): Promise<void>;
}

function pgCtl(bin: string, args: readonly string[]): Promise<void> {
  // PostgreSQL refuses to run as root: the throwaway cluster belongs to `postgres` then
  const asPostgres = userInfo().uid === 0;
  const file = asPostgres ? 'runuser' : join(bin, 'pg_ctl');
  const argv = asPostgres ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args] : [...args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: 60_000, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`pg_ctl ${args[0]} failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
}

/** Control of the server at `adminUrl` (a superuser URL of a server this test run started, never a shared one). */
export async function controlServer(adminUrl: string): Promise<ServerControl> {
  const bin = findPostgresBinDir();
  if (bin === undefined) throw new Error('no PostgreSQL binaries to restart the server with');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const data = String((await client.query('SHOW data_directory')).rows[0]?.data_directory);
  await client.end();
  const log = join(dirname(data), 'restart.log');
  return {
    stop: () => pgCtl(bin, ['stop', '-D', data, '-m', 'fast', '-w']),
    start: () => pgCtl(bin, ['start', '-D', data, '-w', '-l', log]),
  };
}
