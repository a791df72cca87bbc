import { setTimeout as sleep } from 'node:timers/promises';
import { createReaper, type Logger, ok, silentLogger } from '@conveyor/core';
import { createStubWorker, queueProjectJobs, value } from '@conveyor/testkit';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/database.js';

/**
 * Backends killed (`pg_terminate_backend`) in the middle of a write, after it
 * changed rows and before it committed, and statements cancelled by the
 * server's statement timeout: the call resolves to a typed, retryable error,
 * nothing is half-written, and the daemons carry on.
 *
 * A test trigger parks the write: an AFTER STATEMENT trigger on the table waits
 * for an advisory lock the test holds, so the statement has written every row
 * it will write and the transaction is still open when it is killed.
 */
const server = serverUrl();
const db: TestDatabase | undefined = server === undefined ? undefined : await createTestDatabase(server);
const url = db?.url ?? '';
const PARK_KEY = 7_171_717;
let schemas = 0;
const opened: PostgresStore[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
afterAll(async () => {
  await db?.drop();
});

async function open(extra: Partial<Parameters<typeof createPostgresStore>[0]> = {}): Promise<PostgresStore> {
  schemas += 1;
  const r = await createPostgresStore({
    connectionString: url,
    schema: `iw${process.pid}_${schemas}`,
    logger: silentLogger,
    ...extra,
  });
  if (!r.ok) throw r.error;
  opened.push(r.value);
  return r.value;
}

const seed = async (store: PostgresStore, project: string, count: number) => ({
  jobs: await queueProjectJobs(store, project, count),
});

/** A connection holding the advisory lock a parked statement waits for, until `release()`. */
async function park(store: PostgresStore, table: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'test-parker' });
  await client.connect();
  await client.query(`CREATE OR REPLACE FUNCTION "${store.schema}".park() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_advisory_xact_lock_shared(${PARK_KEY}); RETURN NULL; END $$`);
  await client.query(
    `CREATE TRIGGER park AFTER UPDATE ON "${store.schema}".${table} FOR EACH STATEMENT EXECUTE FUNCTION "${store.schema}".park()`,
  );
  await client.query('SELECT pg_advisory_lock($1)', [PARK_KEY]);
  return {
    async release() {
      await client.query(`DROP TRIGGER park ON "${store.schema}".${table}`);
      await client.query('SELECT pg_advisory_unlock($1)', [PARK_KEY]);
      await client.end();
    },
  };
}

/** Waits until a store connection is parked on the advisory lock, then terminates it. */
async function killParked(): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    const r = await db?.sql(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'conveyor'
         AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
    );
    const pid = r?.rows[0]?.pid as number | undefined;
    if (pid !== undefined) {
      await db?.sql('SELECT pg_terminate_backend($1)', [pid]);
      return;
    }
    await sleep(10);
  }
  throw new Error('no store statement ever parked');
}

async function statuses(store: PostgresStore): Promise<string[]> {
  return value(await store.listJobs({})).map((j) => j.status);
}

describe.skipIf(db === undefined)('postgres store: interrupted writes', () => {
  it('a claim killed after it flipped its rows leaves every job queued; the next claim takes them', async () => {
    const store = await open();
    const { jobs } = await seed(store, 'web', 4);
    const parked = await park(store, 'jobs');
    const claim = store.claimJobs({ maxConcurrency: 3, now: 5_000 });
    await killParked();
    const failed = await claim;
    await parked.release();
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error.code).toBe('network');
      expect(failed.error.retryable).toBe(true);
    }
    expect(await statuses(store)).toEqual(['queued', 'queued', 'queued', 'queued']);
    const rows = await db?.sql(`SELECT count(*) AS n FROM "${store.schema}".jobs WHERE started_at IS NOT NULL`);
    expect(Number(rows?.rows[0]?.n)).toBe(0);
    const claimed = value(await store.claimJobs({ maxConcurrency: 3, now: 5_000 }));
    expect(claimed.map((j) => j.id)).toEqual(jobs.slice(0, 3).map((j) => j.id));
  });

  it('a batch of finishes killed mid-statement finishes none of them; each caller gets the error', async () => {
    const store = await open();
    await seed(store, 'web', 3);
    const claimed = value(await store.claimJobs({ maxConcurrency: 3, now: 5_000 }));
    expect(claimed).toHaveLength(3);
    const parked = await park(store, 'jobs');
    // finishes issued in one turn go to the server as one statement
    const finishes = claimed.map((j) => store.finishJob({ jobId: j.id, status: 'succeeded', exitCode: 0, now: 6_000 }));
    await killParked();
    const outcomes = await Promise.all(finishes);
    await parked.release();
    for (const o of outcomes) expect(!o.ok && o.error.code).toBe('network');
    expect(await statuses(store)).toEqual(['running', 'running', 'running']);
    const rows = await db?.sql(`SELECT count(*) AS n FROM "${store.schema}".jobs WHERE finished_at IS NOT NULL`);
    expect(Number(rows?.rows[0]?.n)).toBe(0);
    // the retry wins, once
    const again = await Promise.all(
      claimed.map((j) => store.finishJob({ jobId: j.id, status: 'succeeded', exitCode: 0, now: 7_000 })),
    );
    expect(again.map((r) => value(r).won)).toEqual([true, true, true]);
  });

  it('a worker whose claim is killed mid-statement logs it, survives, and runs every job exactly once', async () => {
    const store = await open();
    const { jobs } = await seed(store, 'web', 3);
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (message) => errors.push(message), child: () => logger };
    const worker = createStubWorker({ store, clock: { now: () => 5_000 }, logger, maxConcurrency: 3 });
    const { launched } = worker;
    const parked = await park(store, 'jobs');
    const tick = worker.tick();
    await killParked();
    expect(await tick).toEqual({});
    await parked.release();
    expect(errors).toContain('tick failed');
    expect(launched).toEqual([]);
    expect(await worker.tick()).toMatchObject({ claimed: 3 });
    await worker.idle();
    expect([...launched].sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(await statuses(store)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('a lease grant killed after it wrote the lease leaves no lease and burns only a token', async () => {
    const store = await open();
    value(await store.acquireLease({ name: 'merge:acme/web', holder: 'a', ttlMs: 1_000, now: 1_000 }));
    // the second grant takes over an expired lease: an UPDATE of the leases row
    const parked = await park(store, 'leases');
    const grant = store.acquireLease({ name: 'merge:acme/web', holder: 'b', ttlMs: 60_000, now: 10_000 });
    await killParked();
    const failed = await grant;
    await parked.release();
    expect(!failed.ok && failed.error.code).toBe('network');
    const lease = value(await store.getLease('merge:acme/web'));
    expect(lease?.holder).toBe('a');
    const retried = value(
      await store.acquireLease({ name: 'merge:acme/web', holder: 'b', ttlMs: 60_000, now: 10_000 }),
    );
    expect(retried.acquired).toBe(true);
    if (retried.acquired) expect(retried.lease.token).toBeGreaterThan(lease?.token ?? Number.POSITIVE_INFINITY);
  });
});

describe.skipIf(db === undefined)('postgres store: statement timeouts', () => {
  it('a statement cancelled by statement_timeout is a timeout error; the worker and the reaper survive it', async () => {
    const store = await open({ statementTimeoutMs: 200 });
    const { jobs } = await seed(store, 'web', 2);
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (message) => errors.push(message), child: () => logger };
    const pipeline = {
      advance: async (taskId: string) => ok({ task: { id: taskId } as never, changed: false, failedEffects: [] }),
    };
    const worker = createStubWorker({ store, clock: { now: () => 5_000 }, logger, maxConcurrency: 2 });
    const reaper = createReaper({
      store,
      pipeline,
      probe: { isAlive: async () => ok(true) },
      clock: { now: () => 5_000 },
      logger,
    });
    // another connection holds the jobs table: every statement on it waits, then is cancelled
    const locker = new pg.Client({ connectionString: url, application_name: 'test-locker' });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${store.schema}".jobs IN ACCESS EXCLUSIVE MODE`);
    try {
      const claim = await store.claimJobs({ maxConcurrency: 2, now: 5_000 });
      expect(!claim.ok && claim.error.code).toBe('timeout');
      expect(!claim.ok && claim.error.retryable).toBe(true);
      expect(!claim.ok && claim.error.details?.sqlState).toBe('57014');
      expect(await worker.tick()).toEqual({});
      expect(await reaper.tick()).toEqual({});
      expect(worker.status().lastError).toMatch(/57014/);
      expect(reaper.status().lastError).toMatch(/57014/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(errors.filter((m) => m === 'tick failed')).toHaveLength(2);
    expect(await worker.tick()).toMatchObject({ claimed: 2 });
    await worker.idle();
    expect(await reaper.tick()).toMatchObject({ running: 0 });
    expect(value(await store.listJobs({})).map((j) => [j.id, j.status])).toEqual(jobs.map((j) => [j.id, 'succeeded']));
  });

  it('a client-side query timeout of a caller-supplied pool is a timeout error too', async () => {
    const pool = new pg.Pool({ connectionString: url, query_timeout: 200, max: 2 });
    pool.on('error', () => {});
    try {
      const store = await open({ pool });
      await seed(store, 'web', 1);
      const locker = new pg.Client({ connectionString: url, application_name: 'test-locker' });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${store.schema}".jobs IN ACCESS EXCLUSIVE MODE`);
      let listed: Awaited<ReturnType<PostgresStore['listJobs']>>;
      try {
        listed = await store.listJobs({});
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      expect(!listed.ok && listed.error.code).toBe('timeout');
      expect(!listed.ok && listed.error.retryable).toBe(true);
      // the pool drops the timed-out connection; the next call works
      expect(value(await store.listJobs({}))).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });
});
