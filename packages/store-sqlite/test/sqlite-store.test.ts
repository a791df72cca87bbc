import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageSnapshot } from '@conveyor/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore, MIGRATIONS, SCHEMA_VERSION, type SqliteDatabase, type SqliteStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'conveyor-sqlite-'));
let n = 0;
const freshPath = (): string => {
  n += 1;
  return join(dir, `db-${n}.sqlite`);
};

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const snapshot: StageSnapshot = {
  stage: 'development',
  status: 'active',
  step: 1,
  developerRetries: 0,
  deferrals: 0,
  jobAttempts: 0,
};

function open(path: string, options: Partial<Parameters<typeof createSqliteStore>[0]> = {}): SqliteStore {
  const opened = createSqliteStore({ path, ...options });
  if (!opened.ok) throw opened.error;
  return opened.value;
}

describe('createSqliteStore: opening and migrations', () => {
  it('creates the schema on a fresh file, in WAL mode, and records the migration', async () => {
    const path = freshPath();
    const store = open(path, { synchronous: 'FULL' });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    await store.close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
      version: number;
    }[];
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining(['tasks', 'task_history', 'jobs', 'leases', 'lease_tokens', 'deliveries', 'card_refs']),
    );
    db.close();
  });

  it('re-opens without re-running migrations, and a reopened store sees all data', async () => {
    const path = freshPath();
    const first = open(path);
    const created = await first.createTaskIfAbsent({
      project: 'web',
      issueId: 'PLN-7',
      repo: 'acme/web',
      branch: 'task/PLN-7',
      title: 'Persist me',
      description: 'd',
      snapshot,
      now: 10,
    });
    if (!created.ok) throw created.error;
    const task = created.value.task;
    await first.saveTransition({
      taskId: task.id,
      expectedVersion: task.version,
      snapshot: { ...snapshot, status: 'gating' },
      cause: 'job.finished',
      now: 20,
    });
    const job = await first.enqueueJob({
      taskId: task.id,
      stage: 'development',
      agent: 'dev',
      kind: 'agent',
      stepKey: `${task.id}:1`,
      attempt: 1,
      input: { description: 'd' },
      availableAt: 0,
      now: 30,
    });
    if (!job.ok) throw job.error;
    await first.acquireLease({ name: 'merge', holder: 'A', ttlMs: 60_000, now: 40 });
    await first.releaseLease({ name: 'merge', holder: 'A' });
    await first.recordDelivery({ source: 'plane', deliveryId: 'd-1', now: 50 });
    await first.setCardRef(task.id, 'telegram', '1/2');
    expect((await first.close()).ok).toBe(true);

    const appliedAt = (): number => {
      const db = new Database(path, { readonly: true });
      const row = db.prepare('SELECT applied_at FROM schema_migrations WHERE version = 1').get() as {
        applied_at: number;
      };
      db.close();
      return row.applied_at;
    };
    const before = appliedAt();

    const second = open(path);
    const again = await second.getTask(task.id);
    expect(again.ok && again.value).toMatchObject({ title: 'Persist me', version: task.version + 1 });
    const history = await second.listHistory(task.id);
    expect(history.ok && history.value.map((h) => h.toStatus)).toEqual(['gating']);
    const jobs = await second.listJobs({});
    expect(jobs.ok && jobs.value.map((j) => j.id)).toEqual([job.value.job.id]);
    const delivery = await second.recordDelivery({ source: 'plane', deliveryId: 'd-1', now: 60 });
    expect(delivery.ok && delivery.value.firstSeen).toBe(false);
    expect(await second.getCardRef(task.id, 'telegram')).toMatchObject({ ok: true, value: '1/2' });
    // the token counter survived the release and the restart
    const lease = await second.acquireLease({ name: 'merge', holder: 'B', ttlMs: 60_000, now: 70 });
    expect(lease.ok && lease.value.acquired && lease.value.lease.token).toBe(2);
    await second.close();
    expect(appliedAt()).toBe(before);
  });

  it('migrates a version 1 delivery log: what it recorded stays handled, a new delivery is pending', async () => {
    const path = freshPath();
    const v1 = new Database(path);
    v1.exec(MIGRATIONS[0]?.sql ?? '');
    v1.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (1, ?, 0)').run('v1');
    v1.pragma('user_version = 1');
    v1.prepare('INSERT INTO deliveries (source, delivery_id, received_at) VALUES (?, ?, ?)').run('gitea', 'old', 5);
    v1.close();

    const store = open(path);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    // recorded by a version 1 store, which counted it seen: a redelivery, even much later, is a handled duplicate
    expect(await store.recordDelivery({ source: 'gitea', deliveryId: 'old', now: 10_000_000 })).toMatchObject({
      ok: true,
      value: { firstSeen: false, handled: true },
    });
    expect(await store.recordDelivery({ source: 'gitea', deliveryId: 'new', now: 10 })).toMatchObject({
      ok: true,
      value: { firstSeen: true, attempt: 1 },
    });
    await store.close();
  });

  it('a delivery recorded by a process that died before handling it is processed on redelivery after the claim window', async () => {
    const path = freshPath();
    const dying = open(path);
    expect((await dying.recordDelivery({ source: 'plane', deliveryId: 'd', now: 1_000 })).ok).toBe(true);
    // the host dies here: the connection goes away without the delivery being settled
    await dying.close();
    const restarted = open(path);
    expect(await restarted.recordDelivery({ source: 'plane', deliveryId: 'd', now: 1_000 + 29_999 })).toMatchObject({
      ok: true,
      value: { firstSeen: false, handled: false },
    });
    const retried = await restarted.recordDelivery({ source: 'plane', deliveryId: 'd', now: 1_000 + 30_000 });
    expect(retried).toMatchObject({ ok: true, value: { firstSeen: true, attempt: 2 } });
    await restarted.markDeliveryHandled({ source: 'plane', deliveryId: 'd', attempt: 2, now: 31_001 });
    expect(await restarted.recordDelivery({ source: 'plane', deliveryId: 'd', now: 99_000 })).toMatchObject({
      ok: true,
      value: { firstSeen: false, handled: true },
    });
    await restarted.close();
  });

  it('refuses a database written by a newer schema version, naming both versions', () => {
    const path = freshPath();
    open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const opened = createSqliteStore({ path });
    expect(opened.ok).toBe(false);
    if (opened.ok) return;
    expect(opened.error.code).toBe('version_mismatch');
    expect(opened.error.pkg).toBe('@conveyor/store-sqlite');
    expect(opened.error.message).toContain(String(SCHEMA_VERSION + 5));
    expect(opened.error.message).toContain(String(SCHEMA_VERSION));
    expect(opened.error.details).toMatchObject({
      databaseVersion: SCHEMA_VERSION + 5,
      supportedVersion: SCHEMA_VERSION,
    });
  });

  it('refuses a file of garbage bytes and leaves it untouched', () => {
    const path = freshPath();
    const garbage = randomBytes(8192);
    writeFileSync(path, garbage);
    const opened = createSqliteStore({ path });
    expect(opened.ok).toBe(false);
    if (!opened.ok) {
      expect(opened.error.code).toBe('corrupt');
      expect(opened.error.message).toContain(path);
    }
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses a file with a SQLite header but corrupt content and leaves it untouched', () => {
    const path = freshPath();
    const bytes = Buffer.concat([Buffer.from('SQLite format 3\u0000', 'latin1'), randomBytes(4096)]);
    writeFileSync(path, bytes);
    const opened = createSqliteStore({ path });
    expect(opened.ok).toBe(false);
    if (!opened.ok) expect(opened.error.code).toBe('corrupt');
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses a text file and leaves it untouched', () => {
    const path = freshPath();
    writeFileSync(path, 'not a database\n');
    const opened = createSqliteStore({ path });
    expect(!opened.ok && opened.error.code).toBe('corrupt');
    expect(readFileSync(path, 'utf8')).toBe('not a database\n');
  });

  it('rejects bad options with invalid_config', () => {
    expect(createSqliteStore({ path: '' })).toMatchObject({ ok: false, error: { code: 'invalid_config' } });
    expect(createSqliteStore({ path: freshPath(), synchronous: 'SOMETIMES' as unknown as 'FULL' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_config' },
    });
    expect(createSqliteStore({ path: freshPath(), busyTimeoutMs: -1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_config' },
    });
    const missingDir = createSqliteStore({ path: join(dir, 'no', 'such', 'dir', 'x.db') });
    expect(missingDir.ok).toBe(false);
  });

  it('applies the synchronous and busy_timeout options to the connection', async () => {
    const seen: SqliteDatabase[] = [];
    const opened = createSqliteStore({
      path: freshPath(),
      synchronous: 'FULL',
      busyTimeoutMs: 1234,
      database: (p): SqliteDatabase => {
        const db = new Database(p);
        seen.push(db);
        return db;
      },
    });
    if (!opened.ok) throw opened.error;
    const db = seen[0];
    expect(db?.pragma('synchronous', { simple: true })).toBe(2);
    expect(db?.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db?.pragma('journal_mode', { simple: true })).toBe('wal');
    await opened.value.close();
    // the default is FULL: nothing answered is lost to a power cut
    const byDefault = createSqliteStore({
      path: freshPath(),
      database: (p) => {
        const d = new Database(p);
        seen.push(d);
        return d;
      },
    });
    if (!byDefault.ok) throw byDefault.error;
    expect(byDefault.value.synchronous).toBe('FULL');
    expect(seen[1]?.pragma('synchronous', { simple: true })).toBe(2);
    expect(seen[1]?.pragma('busy_timeout', { simple: true })).toBe(5000);
    await byDefault.value.close();
    const relaxed = createSqliteStore({
      path: freshPath(),
      synchronous: 'NORMAL',
      database: (p) => {
        const d = new Database(p);
        seen.push(d);
        return d;
      },
    });
    if (!relaxed.ok) throw relaxed.error;
    expect(seen[2]?.pragma('synchronous', { simple: true })).toBe(1);
    await relaxed.value.close();
  });

  it('accepts an open database instance or a factory', async () => {
    const path = freshPath();
    let factoryPath = '';
    const viaFactory = createSqliteStore({
      path,
      database: (p): SqliteDatabase => {
        factoryPath = p;
        return new Database(p);
      },
    });
    expect(viaFactory.ok).toBe(true);
    expect(factoryPath).toBe(path);
    if (viaFactory.ok) await viaFactory.value.close();

    const db = new Database(path);
    const viaInstance = createSqliteStore({ path, database: db });
    expect(viaInstance.ok).toBe(true);
    if (viaInstance.ok) {
      const res = await viaInstance.value.recordDelivery({ source: 's', deliveryId: 'x', now: 1 });
      expect(res.ok && res.value.firstSeen).toBe(true);
      await viaInstance.value.close();
    }
    expect(db.open).toBe(false);
  });

  it('maps a lock held by another connection to a retryable timeout naming SQLITE_BUSY', async () => {
    const path = freshPath();
    const store = open(path, { busyTimeoutMs: 50 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const res = await store.recordDelivery({ source: 's', deliveryId: 'busy', now: 1 });
      expect(res.ok).toBe(false);
      if (!res.ok) {
        expect(res.error.code).toBe('timeout');
        expect(res.error.retryable).toBe(true);
        expect(res.error.details).toMatchObject({ sqliteCode: 'SQLITE_BUSY', operation: 'recordDelivery' });
        expect(res.error.cause).toBeInstanceOf(Error);
      }
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const after = await store.recordDelivery({ source: 's', deliveryId: 'busy', now: 1 });
    expect(after.ok && after.value.firstSeen).toBe(true);
    await store.close();
  });

  it('hands out ids that sort in creation order past 9, 99, 999', async () => {
    const store = open(freshPath());
    const ids: string[] = [];
    for (let i = 0; i < 120; i += 1) {
      const res = await store.enqueueJob({
        taskId: 't',
        stage: 's',
        agent: 'a',
        kind: 'decision',
        stepKey: `k${i}`,
        attempt: 1,
        input: { description: '' },
        availableAt: 0,
        now: 0,
      });
      if (res.ok) ids.push(res.value.job.id);
    }
    expect(ids).toHaveLength(120);
    expect([...ids].sort()).toEqual(ids);
    const listed = await store.listJobs({});
    expect(listed.ok && listed.value.map((j) => j.id)).toEqual(ids);
    await store.close();
  });
});
