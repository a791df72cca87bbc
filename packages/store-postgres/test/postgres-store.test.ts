import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ConveyorError,
  createWorker,
  type Logger,
  type NewJob,
  type NewTask,
  ok,
  type Result,
  type StageSnapshot,
  systemClock,
} from '@conveyor/core';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresStore, POSTGRES_SCHEMA_VERSION, type PostgresStore, postgresErrorCode } from '../src/index.js';
import { lineReader, runSupport } from './support/child.js';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/database.js';

const server = serverUrl();
const db: TestDatabase | undefined = server === undefined ? undefined : await createTestDatabase(server);
const url = db?.url ?? '';
let schemas = 0;
const opened: PostgresStore[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
afterAll(async () => {
  await db?.drop();
});

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function freshSchema(): string {
  schemas += 1;
  return `t${process.pid}_${schemas}`;
}

async function open(schema: string, extra: Partial<Parameters<typeof createPostgresStore>[0]> = {}) {
  const r = await createPostgresStore({ connectionString: url, schema, logger: silent, ...extra });
  if (!r.ok) throw r.error;
  opened.push(r.value);
  return r.value;
}

function value<T>(result: Result<T, ConveyorError>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

const snapshot: StageSnapshot = {
  stage: 'development',
  status: 'active',
  step: 0,
  developerRetries: 0,
  deferrals: 0,
  jobAttempts: 0,
};

function newTask(project: string, issueId: string): NewTask {
  return {
    project,
    issueId,
    repo: `acme/${project}`,
    branch: `task/${issueId}`,
    title: issueId,
    description: '',
    snapshot,
    now: 1_000,
  };
}

function newJob(taskId: string, stepKey: string, availableAt = 1_000): NewJob {
  return {
    taskId,
    stage: 'development',
    agent: 'developer',
    kind: 'agent',
    stepKey,
    attempt: 1,
    input: { description: 'x' },
    availableAt,
    now: 1_000,
  };
}

/** Terminates the server processes of this database's connections named `application`. */
async function terminate(application: string): Promise<number> {
  const r = await db?.sql(
    'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
    [application],
  );
  return Number(r?.rows[0]?.n ?? 0);
}

/** A connection that holds a lock (or a transaction) until `release()`. */
async function holder(statements: string[]): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'test-holder' });
  await client.connect();
  await client.query('BEGIN');
  for (const s of statements) await client.query(s);
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

describe.skipIf(db === undefined)('postgres store', () => {
  describe('options', () => {
    it('refuses bad options with an error naming the field', async () => {
      const noUrl = await createPostgresStore({});
      expect(!noUrl.ok && noUrl.error.code).toBe('invalid_config');
      expect(!noUrl.ok && noUrl.error.message).toMatch(/connectionString/);
      const badSchema = await createPostgresStore({ connectionString: url, schema: 'Robert"; DROP TABLE x; --' });
      expect(!badSchema.ok && badSchema.error.message).toMatch(/schema must match/);
      const badLimit = await createPostgresStore({ connectionString: url, projectLimits: { web: -1 } });
      expect(!badLimit.ok && badLimit.error.message).toMatch(/projectLimits\.web/);
    });

    it('names the server, never the password, when it cannot connect', async () => {
      const r = await createPostgresStore({
        connectionString: 'postgres://conveyor:s3cret-pw@127.0.0.1:1/nothing',
        connectTimeoutMs: 2_000,
      });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe('network');
      expect(r.error.message).toContain('127.0.0.1:1/nothing');
      expect(r.error.message).not.toContain('s3cret-pw');
      expect(JSON.stringify(r.error.details)).not.toContain('s3cret-pw');
    });

    it('maps SQLSTATEs to retryable and final codes', () => {
      expect(postgresErrorCode({ code: '57014' })).toBe('timeout');
      expect(postgresErrorCode({ code: '57P01' })).toBe('network');
      expect(postgresErrorCode({ code: '08006' })).toBe('network');
      expect(postgresErrorCode({ code: '25006' })).toBe('network');
      expect(postgresErrorCode({ code: '40P01' })).toBe('timeout');
      expect(postgresErrorCode({ code: '23505' })).toBe('conflict');
      expect(postgresErrorCode({ code: '28P01' })).toBe('invalid_config');
      expect(postgresErrorCode(new Error('Connection terminated unexpectedly'))).toBe('network');
      expect(postgresErrorCode(new Error('Query read timeout'))).toBe('timeout');
      expect(postgresErrorCode(new Error('something else'))).toBe('internal');
    });
  });

  describe('migrations', () => {
    it('two host processes starting at once on an empty schema migrate it once', async () => {
      const schema = freshSchema();
      const hosts = [0, 1, 2].map(() => runSupport('./open-store.ts', [url, schema]));
      const readers = hosts.map(lineReader);
      expect(await Promise.all(readers.map((r) => r.next()))).toEqual(['loaded', 'loaded', 'loaded']);
      for (const h of hosts) h.stdin?.write('go\n');
      const outcomes = (await Promise.all(readers.map((r) => r.next()))).map(
        (line) => JSON.parse(line) as { ok: boolean; migrationsApplied: number; schemaVersion: number },
      );
      for (const o of outcomes) expect(o).toMatchObject({ ok: true, schemaVersion: POSTGRES_SCHEMA_VERSION });
      expect(outcomes.map((o) => o.migrationsApplied).sort()).toEqual([0, 0, POSTGRES_SCHEMA_VERSION]);
      const rows = await db?.sql(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      expect(rows?.rows.map((r) => r.version)).toEqual(
        Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    }, 60_000);

    it('refuses a schema written by a newer version and leaves it untouched', async () => {
      const schema = freshSchema();
      const store = await open(schema);
      const task = value(await store.createTaskIfAbsent(newTask('web', 'I-1'))).task;
      await store.close();
      await db?.sql(`INSERT INTO "${schema}".schema_migrations VALUES (999, 'from the future', 0)`);
      const again = await createPostgresStore({ connectionString: url, schema });
      expect(again.ok).toBe(false);
      if (again.ok) return;
      expect(again.error.code).toBe('version_mismatch');
      expect(again.error.message).toMatch(/999.*newer/);
      const rows = await db?.sql(`SELECT seq FROM "${schema}".tasks`);
      expect(rows?.rows).toHaveLength(1);
      expect(task.id).toMatch(/^task_/);
    });

    it('reopening a migrated schema applies nothing', async () => {
      const schema = freshSchema();
      expect((await open(schema)).migrationsApplied).toBe(POSTGRES_SCHEMA_VERSION);
      expect((await open(schema)).migrationsApplied).toBe(0);
    });
  });

  describe('claims', () => {
    it('a busy project does not starve another: its one job starts in the same claim round', async () => {
      const store = await open(freshSchema());
      const busy = value(await store.createTaskIfAbsent(newTask('busy', 'B-1'))).task;
      const quiet = value(await store.createTaskIfAbsent(newTask('quiet', 'Q-1'))).task;
      for (let i = 0; i < 100; i += 1) value(await store.enqueueJob(newJob(busy.id, `busy:${i}`, 100 + i)));
      // the quiet project's job is the newest of all
      const lonely = value(await store.enqueueJob(newJob(quiet.id, 'quiet:0', 5_000))).job;
      const round = value(await store.claimJobs({ maxConcurrency: 4, now: 10_000 }));
      expect(round).toHaveLength(4);
      expect(round.map((j) => j.id)).toContain(lonely.id);
      // the busy project's oldest go first, in order
      expect(round.filter((j) => j.taskId === busy.id).map((j) => j.stepKey)).toEqual(['busy:0', 'busy:1', 'busy:2']);
    });

    it('keeps per-project limits inside the claim, also under concurrent claimers of several hosts', async () => {
      const schema = freshSchema();
      const limits = { projectLimits: { a: 2, b: 3 }, defaultProjectLimit: 1 };
      const hosts = [await open(schema, limits), await open(schema, limits), await open(schema, limits)];
      const [first] = hosts;
      if (!first) throw new Error('no host');
      const tasks = await Promise.all(
        ['a', 'b', 'c', 'd'].map(async (p) => value(await first.createTaskIfAbsent(newTask(p, `${p}-1`))).task),
      );
      for (const task of tasks) {
        for (let i = 0; i < 10; i += 1) value(await first.enqueueJob(newJob(task.id, `${task.project}:${i}`)));
      }
      const claims = await Promise.all(
        hosts.flatMap((h) => Array.from({ length: 8 }, () => h.claimJobs({ maxConcurrency: 6, now: 2_000 }))),
      );
      const claimed = claims.flatMap(value);
      // a: 2, b: 3, c: 1, d: 1 = 7 allowed by the projects, 6 by the global limit
      expect(claimed).toHaveLength(6);
      expect(new Set(claimed.map((j) => j.id)).size).toBe(6);
      const running = value(await first.listJobs({ statuses: ['running'] }));
      const perProject = new Map<string, number>();
      for (const job of running) {
        const project = tasks.find((t) => t.id === job.taskId)?.project ?? '?';
        perProject.set(project, (perProject.get(project) ?? 0) + 1);
      }
      expect(running).toHaveLength(6);
      expect(perProject.get('a') ?? 0).toBeLessThanOrEqual(2);
      expect(perProject.get('b') ?? 0).toBeLessThanOrEqual(3);
      expect(perProject.get('c') ?? 0).toBeLessThanOrEqual(1);
      expect(perProject.get('d') ?? 0).toBeLessThanOrEqual(1);
      // every project got a slot in the first rounds
      expect([...perProject.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    });

    it('skips a job another transaction holds instead of waiting for it', async () => {
      const schema = freshSchema();
      const store = await open(schema, { statementTimeoutMs: 2_000 });
      const task = value(await store.createTaskIfAbsent(newTask('web', 'W-1'))).task;
      const held = value(await store.enqueueJob(newJob(task.id, 's1', 100))).job;
      const free = value(await store.enqueueJob(newJob(task.id, 's2', 200))).job;
      const lock = await holder([`SELECT 1 FROM "${schema}".jobs WHERE seq = ${Number(held.id.slice(4))} FOR UPDATE`]);
      try {
        const claimed = value(await store.claimJobs({ maxConcurrency: 5, now: 1_000 }));
        expect(claimed.map((j) => j.id)).toEqual([free.id]);
      } finally {
        await lock.release();
      }
      expect(value(await store.claimJobs({ maxConcurrency: 5, now: 1_000 })).map((j) => j.id)).toEqual([held.id]);
    });
  });

  describe('fencing tokens', () => {
    it('never repeat across hosts, and grow for every grant of one name', async () => {
      const schema = freshSchema();
      const hosts = [await open(schema), await open(schema), await open(schema)];
      const grants: { name: string; token: number; at: number }[] = [];
      let clock = 0;
      await Promise.all(
        hosts.map(async (host, h) => {
          for (let i = 0; i < 30; i += 1) {
            const name = `lease-${i % 3}`;
            const holderName = `host-${h}`;
            const got = value(await host.acquireLease({ name, holder: holderName, ttlMs: 60_000, now: 1_000 }));
            if (!got.acquired) continue;
            clock += 1;
            grants.push({ name, token: got.lease.token, at: clock });
            value(await host.releaseLease({ name, holder: holderName, token: got.lease.token }));
          }
        }),
      );
      expect(grants.length).toBeGreaterThan(10);
      expect(new Set(grants.map((g) => g.token)).size).toBe(grants.length);
      for (const name of ['lease-0', 'lease-1', 'lease-2']) {
        const tokens = grants.filter((g) => g.name === name).map((g) => g.token);
        expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      }
    });
  });

  describe('LISTEN/NOTIFY', () => {
    it('wakes a listener of another host as soon as a job is enqueued, and again after its connection is killed', async () => {
      const schema = freshSchema();
      const idle = await open(schema);
      const busy = await open(schema);
      const heard: (number | undefined)[] = [];
      let wake: (() => void) | undefined;
      const next = (): Promise<void> =>
        new Promise((resolve) => {
          wake = resolve;
        });
      const stop = idle.onJobAvailable((e) => {
        heard.push(e.availableAt);
        wake?.();
      });
      // the listening connection opens in the background
      await waitForListener();
      const task = value(await busy.createTaskIfAbsent(newTask('web', 'N-1'))).task;
      let heardOne = next();
      value(await busy.enqueueJob(newJob(task.id, 'n1', 4_242)));
      await heardOne;
      expect(heard).toEqual([4_242]);

      heardOne = next();
      expect(await terminate('conveyor-listen')).toBe(1);
      // after the reconnect: one wake-up without availableAt (something may have been missed)
      await heardOne;
      expect(heard).toEqual([4_242, undefined]);
      heardOne = next();
      value(await busy.enqueueJob(newJob(task.id, 'n2', 4_343)));
      await heardOne;
      expect(heard).toEqual([4_242, undefined, 4_343]);
      stop();
    });
  });

  describe('worker wake-ups', () => {
    it('an idle worker of one host starts a job another host enqueued without waiting for its poll', async () => {
      const schema = freshSchema();
      const idle = await open(schema);
      const other = await open(schema);
      const task = value(await other.createTaskIfAbsent(newTask('web', 'W-9'))).task;
      const started: string[] = [];
      const worker = createWorker({
        store: idle,
        pipeline: {
          runDecision: async (job) => ok({ action: 'silent' as const, taskId: job.taskId }),
          advance: async (taskId) => ok({ task: { ...task, id: taskId }, changed: false, failedEffects: [] }),
        },
        launcher: {
          launch: async (spec) => {
            started.push(spec.jobId);
            return ok({
              pid: process.pid,
              exited: Promise.resolve({ exitCode: 0, signal: null, timedOut: false }),
              kill() {},
            });
          },
        },
        commandFor: () => ({ command: 'true', args: [] }),
        clock: systemClock,
        logger: silent,
        maxConcurrency: 2,
        // its one poll runs at start; the next would be an hour later
        intervalMs: 3_600_000,
        wake: (wakeUp) => idle.onJobAvailable(wakeUp),
      });
      worker.start();
      await waitForListener();
      const job = value(await other.enqueueJob(newJob(task.id, 'w1', 0))).job;
      for (let i = 0; i < 500 && started.length === 0; i += 1) await sleep(10);
      await worker.stop();
      expect(started).toEqual([job.id]);
      expect(value(await other.getJob(job.id))?.status).toBe('succeeded');
    });
  });

  describe('failures', () => {
    it('a terminated backend mid-transition is a network error, writes nothing, and the pool reconnects', async () => {
      const schema = freshSchema();
      const store = await open(schema);
      const task = value(await store.createTaskIfAbsent(newTask('web', 'F-1'))).task;
      // the history table is locked: the transition updates the task row, then waits
      const lock = await holder([`LOCK TABLE "${schema}".task_history IN ACCESS EXCLUSIVE MODE`]);
      const pending = store.saveTransition({
        taskId: task.id,
        expectedVersion: task.version,
        snapshot: { ...snapshot, status: 'gating' },
        cause: 'job.finished',
        now: 2_000,
      });
      await waitForWaiting();
      expect(await terminate('conveyor')).toBeGreaterThanOrEqual(1);
      const failed = await pending;
      await lock.release();
      expect(failed.ok).toBe(false);
      if (!failed.ok) {
        expect(failed.error.code).toBe('network');
        expect(failed.error.retryable).toBe(true);
      }
      // nothing half-written: same version, no history
      expect(value(await store.getTask(task.id))).toEqual(task);
      expect(value(await store.listHistory(task.id))).toEqual([]);
      // and the next call works on a new connection
      const saved = value(
        await store.saveTransition({
          taskId: task.id,
          expectedVersion: task.version,
          snapshot: { ...snapshot, status: 'gating' },
          cause: 'job.finished',
          now: 3_000,
        }),
      );
      expect(saved.version).toBe(task.version + 1);
    });

    it('every idle connection killed: calls fail or succeed, never throw, and then all succeed', async () => {
      const store = await open(freshSchema());
      const task = value(await store.createTaskIfAbsent(newTask('web', 'F-2'))).task;
      await Promise.all(Array.from({ length: 5 }, () => store.getTask(task.id)));
      expect(await terminate('conveyor')).toBeGreaterThanOrEqual(1);
      const during = await Promise.all(Array.from({ length: 5 }, () => store.getTask(task.id)));
      for (const r of during) if (!r.ok) expect(r.error.code).toBe('network');
      await sleep(50);
      for (let i = 0; i < 5; i += 1) expect(value(await store.getTask(task.id))).toEqual(task);
    });

    it('a statement timeout is a timeout error that rolls the whole transition back; the worker survives it', async () => {
      const schema = freshSchema();
      const store = await open(schema, { statementTimeoutMs: 300 });
      const task = value(await store.createTaskIfAbsent(newTask('web', 'T-1'))).task;
      const lock = await holder([`LOCK TABLE "${schema}".task_history IN ACCESS EXCLUSIVE MODE`]);
      const timedOut = await store.saveTransition({
        taskId: task.id,
        expectedVersion: task.version,
        snapshot: { ...snapshot, status: 'gating' },
        cause: 'job.finished',
        now: 2_000,
      });
      await lock.release();
      expect(timedOut.ok).toBe(false);
      if (!timedOut.ok) expect(timedOut.error.code).toBe('timeout');
      expect(value(await store.getTask(task.id))).toEqual(task);

      // a worker whose claim times out logs it and claims on its next tick
      const job = value(await store.enqueueJob(newJob(task.id, 't1'))).job;
      const errors: string[] = [];
      const logger: Logger = { ...silent, error: (message) => errors.push(message), child: () => logger };
      const worker = createWorker({
        store,
        pipeline: {
          runDecision: async (job) => ok({ action: 'silent' as const, taskId: job.taskId }),
          advance: async (taskId) => ok({ task: { ...task, id: taskId }, changed: false, failedEffects: [] }),
        },
        launcher: {
          launch: async () =>
            ok({
              pid: process.pid,
              exited: Promise.resolve({ exitCode: 0, signal: null, timedOut: false }),
              kill() {},
            }),
        },
        commandFor: () => ({ command: 'true', args: [] }),
        clock: { now: () => 5_000 },
        logger,
        maxConcurrency: 2,
      });
      const jobsLock = await holder([`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`]);
      expect(await worker.tick()).toEqual({});
      await jobsLock.release();
      expect(errors).toContain('tick failed');
      expect(await worker.tick()).toMatchObject({ claimed: 1 });
      await worker.idle();
      expect(value(await store.getJob(job.id))?.status).toBe('succeeded');
    });
  });
});

/** Waits until the store's listening connection has run its LISTEN. */
async function waitForListener(): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const r = await db?.sql(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'conveyor-listen' AND query LIKE 'LISTEN%'",
    );
    if (Number(r?.rows[0]?.n ?? 0) > 0) return;
    await sleep(10);
  }
  throw new Error('the store never listened');
}

/** Waits until some `conveyor` connection of this database waits for a lock. */
async function waitForWaiting(): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const r = await db?.sql(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'conveyor' AND wait_event_type = 'Lock'",
    );
    if (Number(r?.rows[0]?.n ?? 0) > 0) return;
    await sleep(10);
  }
  throw new Error('no statement ever waited for the lock');
}
