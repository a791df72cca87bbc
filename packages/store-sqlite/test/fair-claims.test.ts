import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRacerPool, createStubWorker, queueProjectJobs, value } from '@conveyor/testkit';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore, MIGRATIONS, type SqliteStore, type SqliteStoreOptions } from '../src/index.js';
import { migrate } from '../src/open-database.js';

const dir = mkdtempSync(join(tmpdir(), 'conveyor-sqlite-fair-'));
const racers = createRacerPool({
  script: fileURLToPath(new URL('./support/racer.ts', import.meta.url)),
  tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)),
});
let files = 0;

afterAll(() => {
  racers.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options: Partial<SqliteStoreOptions> = {}, path?: string): SqliteStore {
  files += 1;
  const opened = createSqliteStore({ path: path ?? join(dir, `fair-${files}.db`), synchronous: 'OFF', ...options });
  if (!opened.ok) throw opened.error;
  return opened.value;
}

describe('SQLite fair claims', () => {
  it("a worker's first claim round starts the quiet project's one job beside the busy project's hundred", async () => {
    const store = open();
    try {
      await queueProjectJobs(store, 'busy', 100, 100);
      const [lonely] = await queueProjectJobs(store, 'quiet', 1, 5_000);
      // the processes keep running: this test looks at one claim round only
      const worker = createStubWorker({
        store,
        clock: { now: () => 10_000 },
        maxConcurrency: 2,
        exitOf: () => new Promise(() => {}),
      });
      expect(await worker.tick()).toMatchObject({ claimed: 2 });
      expect(value(await store.listJobs({ statuses: ['running'] })).map((j) => j.id)).toContain(lonely?.id);
    } finally {
      await store.close();
    }
  });

  it('refuses a negative or fractional limit, naming the field', () => {
    const bad = createSqliteStore({ path: join(dir, 'bad.db'), projectLimits: { web: -1 } });
    expect(!bad.ok && bad.error.code).toBe('invalid_config');
    expect(!bad.ok && bad.error.message).toMatch(/projectLimits\.web/);
    const fraction = createSqliteStore({ path: join(dir, 'bad.db'), defaultProjectLimit: 1.5 });
    expect(!fraction.ok && fraction.error.message).toMatch(/defaultProjectLimit/);
  });

  it('migrating a version 3 database gives its queued jobs their task project', async () => {
    const path = join(dir, 'v3.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    expect(migrate(db, path, MIGRATIONS.slice(0, 3), 1_000)).toBeUndefined();
    db.exec(`INSERT INTO tasks (seq, project, issue_id, repo, branch, title, description, stage, status, snapshot, version, created_at, updated_at)
      VALUES (1, 'busy', 'B-1', 'acme/busy', 'task/B-1', 't', '', 'development', 'active', '{}', 1, 0, 0),
             (2, 'quiet', 'Q-1', 'acme/quiet', 'task/Q-1', 't', '', 'development', 'active', '{}', 1, 0, 0)`);
    const insert = db.prepare(
      `INSERT INTO jobs (task_id, stage, agent, kind, status, attempt, step_key, input, available_at, created_at)
       VALUES (?, 'development', 'developer', 'agent', 'queued', 1, ?, '{}', ?, 0)`,
    );
    for (let i = 0; i < 5; i += 1) insert.run('task_000000000001', `busy:${i}`, 100 + i);
    insert.run('task_000000000002', 'quiet:0', 900);
    insert.run('task_000000000099', 'orphan:0', 50);
    db.close();

    const store = open({ defaultProjectLimit: 1 }, path);
    try {
      const claimed = value(await store.claimJobs({ maxConcurrency: 5, now: 10_000 }));
      // one per project (the orphan's task is gone: its project is '')
      expect(claimed.map((j) => j.stepKey)).toEqual(['orphan:0', 'busy:0', 'quiet:0']);
    } finally {
      await store.close();
    }
  });

  it('two and more processes claiming at once never exceed a per-project limit', { timeout: 120_000 }, async () => {
    const limits = { projectLimits: { a: 2, b: 3 }, defaultProjectLimit: 1 };
    const path = join(dir, 'racing-limits.db');
    const store = open(limits, path);
    try {
      const projectOf = new Map<string, string>();
      for (const p of ['a', 'b', 'c', 'd'])
        for (const j of await queueProjectJobs(store, p, 16)) projectOf.set(j.id, p);
      const allowed: Record<string, number> = { a: 2, b: 3, c: 1, d: 1 };
      const finished = new Set<string>();
      for (let round = 0; round < 10; round += 1) {
        const outcomes = await racers.race(
          { path, ...limits },
          { kind: 'claimJobs', maxConcurrency: 100, now: 10_000 + round },
          4,
        );
        for (const o of outcomes) expect(o.error).toBeUndefined();
        const claimed = outcomes.flatMap((o) => o.claimedJobIds ?? []);
        expect(new Set(claimed).size).toBe(claimed.length);
        const running = value(await store.listJobs({ statuses: ['running'] }));
        const counts: Record<string, number> = {};
        for (const j of running) {
          const p = projectOf.get(j.id) ?? '?';
          counts[p] = (counts[p] ?? 0) + 1;
        }
        for (const [p, n] of Object.entries(counts)) expect(n).toBeLessThanOrEqual(allowed[p] ?? 0);
        // every project with work left is at its limit after the round
        for (const p of Object.keys(allowed)) {
          const left = [...projectOf].filter(([id, q]) => q === p && !finished.has(id)).length;
          expect(counts[p] ?? 0).toBe(Math.min(allowed[p] ?? 0, left));
        }
        // finish one running job of each project, so the next round has slots to fight over
        const seen = new Set<string>();
        for (const j of running) {
          const p = projectOf.get(j.id) ?? '?';
          if (seen.has(p)) continue;
          seen.add(p);
          value(await store.finishJob({ jobId: j.id, status: 'succeeded', exitCode: 0, now: 20_000 }));
          finished.add(j.id);
        }
      }
    } finally {
      await store.close();
    }
  });
});
