import { PG_URL_ENV, POSTGRES_MISSING_MESSAGE, randomDatabaseName, withDatabase } from '@conveyor/testkit';
import pg from 'pg';

/** A database of its own for one test file. */
export interface TestDatabase {
  /** connection string of the fresh database */
  readonly url: string;
  /** the server's `postgres` database, for admin statements (terminating backends, dropping) */
  readonly adminUrl: string;
  /** Runs one statement on the fresh database as the superuser, on a short-lived connection. */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Drops the database (terminating whatever is still connected). */
  drop(): Promise<void>;
}

/** The server URL the global setup found, or `undefined` locally without PostgreSQL (in CI that throws). */
export function serverUrl(): string | undefined {
  const url = process.env[PG_URL_ENV];
  if (url !== undefined && url !== '') return url;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI: ${PG_URL_ENV} is not set`);
  console.warn(POSTGRES_MISSING_MESSAGE);
  return undefined;
}

async function once(url: string, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database with a random name on the test server. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = randomDatabaseName();
  await once(adminUrl, `CREATE DATABASE ${name}`);
  const url = withDatabase(adminUrl, name);
  return {
    url,
    adminUrl,
    sql: (text, values) => once(url, text, values),
    async drop() {
      await once(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
