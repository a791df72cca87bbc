// Store benchmarks: the job lifecycle (enqueue → claim → finish, one
// transaction each) through the SQLite store next to a minimal queue written
// directly on better-sqlite3 (its own small table: enqueue idempotent by step,
// claim under a concurrency limit, finish only from running), both at the same
// durability, interleaved in the same run, at synchronous = FULL (the store's
// default) and at NORMAL; then claim latency with 100,000 queued jobs and the
// reads behind a daemon tick.
//
//   npm run bench -- store        (BENCH_LIFECYCLES=3000 per round by default)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NewJob } from '@conveyor/core';
import { createSqliteStore, type SqliteStore, type SqliteSynchronous } from '@conveyor/store-sqlite';
import Database from 'better-sqlite3';

const LIFECYCLES = Number(process.env.BENCH_LIFECYCLES ?? 3_000);
const ROUNDS = 3;
const QUEUED = 100_000;
const CLAIMS = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'conveyor-store-bench-'));
let files = 0;

function freshStore(synchronous: SqliteSynchronous = 'FULL'): SqliteStore {
  files += 1;
  const opened = createSqliteStore({ path: join(dir, `bench-${files}.db`), synchronous });
  if (!opened.ok) throw opened.error;
  return opened.value;
}

const JOB_COLUMNS =
  'seq, task_id, stage, agent, kind, status, attempt, step_key, edge, input, pid, exit_code, has_exit_code, available_at, created_at, started_at, finished_at, reason';
// The store's own INSERT, used only to fill a database quickly for the latency cases.
const ENQUEUE_SQL = `INSERT INTO jobs (task_id, stage, agent, kind, status, attempt, step_key, edge, input, available_at, created_at)
  VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
  ON CONFLICT (step_key) DO NOTHING
  RETURNING ${JOB_COLUMNS}`;

function newJob(i: number, now: number): NewJob {
  return {
    taskId: 'task_000000000001',
    stage: 'development',
    agent: 'developer',
    kind: 'agent',
    stepKey: `task_000000000001:${i}`,
    attempt: 1,
    input: { description: 'benchmark job' },
    availableAt: 0,
    now,
  };
}

async function storeLifecycles(count: number, synchronous: SqliteSynchronous): Promise<number> {
  const store = freshStore(synchronous);
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    const enq = await store.enqueueJob(newJob(i, i));
    if (!enq.ok) throw enq.error;
    const claimed = await store.claimJobs({ maxConcurrency: 1, now: i });
    if (!claimed.ok || claimed.value.length !== 1) throw new Error('claim failed');
    const job = claimed.value[0];
    if (!job) throw new Error('claim returned nothing');
    const fin = await store.finishJob({ jobId: job.id, status: 'succeeded', exitCode: 0, now: i });
    if (!fin.ok || !fin.value.won) throw new Error('finish failed');
  }
  const elapsed = performance.now() - start;
  await store.close();
  return (count / elapsed) * 1000;
}

/**
 * The smallest queue that keeps the store's promises: a job is enqueued once
 * per step key, a claim never lets more than `max` run and takes the oldest
 * available first, a finish wins only from running. Synchronous calls, no
 * Result objects, a payload column instead of the store's job fields.
 */
function minimalQueue(path: string, synchronous: SqliteSynchronous) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(`CREATE TABLE q (
    id INTEGER PRIMARY KEY,
    step_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    available_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX q_claim ON q (status, available_at, id);`);
  const enqueue = db.prepare(
    `INSERT INTO q (step_key, status, payload, available_at) VALUES (?, 'queued', ?, ?)
     ON CONFLICT (step_key) DO NOTHING RETURNING id`,
  );
  const claim = db.prepare(
    `UPDATE q SET status = 'running', started_at = @now
     WHERE id IN (
       SELECT id FROM q WHERE status = 'queued' AND available_at <= @now
       ORDER BY available_at, id
       LIMIT max(0, @max - (SELECT count(*) FROM q WHERE status = 'running'))
     )
     RETURNING id, payload`,
  );
  const finish = db.prepare(
    `UPDATE q SET status = ?, finished_at = ? WHERE id = ? AND status = 'running' RETURNING id`,
  );
  return {
    enqueue: (stepKey: string, payload: unknown, availableAt: number) =>
      enqueue.get(stepKey, JSON.stringify(payload), availableAt) as { id: number } | undefined,
    claim: (max: number, now: number) =>
      (claim.all({ now, max }) as { id: number; payload: string }[]).map((r) => ({
        id: r.id,
        payload: JSON.parse(r.payload) as unknown,
      })),
    finish: (id: number, status: string, now: number) => finish.get(status, now, id) !== undefined,
    close: () => db.close(),
  };
}

async function minimalLifecycles(count: number, synchronous: SqliteSynchronous): Promise<number> {
  files += 1;
  const queue = minimalQueue(join(dir, `minimal-${files}.db`), synchronous);
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    const j = newJob(i, i);
    if (!queue.enqueue(j.stepKey, j.input, j.availableAt)) throw new Error('minimal enqueue failed');
    const [first] = queue.claim(1, i);
    if (!first) throw new Error('minimal claim failed');
    if (!queue.finish(first.id, 'succeeded', i)) throw new Error('minimal finish failed');
  }
  const elapsed = performance.now() - start;
  queue.close();
  return (count / elapsed) * 1000;
}

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

async function claimLatency(): Promise<{ p50: number; p99: number; max: number; fillMs: number }> {
  const store = freshStore();
  // Fill through the store's own INSERT, batched in one transaction to keep the set-up short.
  const fillStart = performance.now();
  const db = new Database(store.path);
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare(ENQUEUE_SQL);
  db.transaction(() => {
    for (let i = 0; i < QUEUED; i += 1) {
      const j = newJob(i, i);
      // spread availableAt so the claim index ordering matters
      insert.get(j.taskId, j.stage, j.agent, j.kind, j.attempt, j.stepKey, null, JSON.stringify(j.input), i % 1000, 0);
    }
  })();
  db.close();
  const fillMs = performance.now() - fillStart;

  const samples: number[] = [];
  for (let i = 0; i < CLAIMS; i += 1) {
    const t0 = performance.now();
    const claimed = await store.claimJobs({ maxConcurrency: 1, now: 1_000_000 });
    samples.push(performance.now() - t0);
    if (!claimed.ok) throw claimed.error;
    const job = claimed.value[0];
    if (!job) throw new Error('nothing to claim');
    const fin = await store.finishJob({ jobId: job.id, status: 'succeeded', exitCode: 0, now: 1_000_000 });
    if (!fin.ok) throw fin.error;
  }
  await store.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) ?? 0, fillMs };
}

/** What the reconciler and reaper read per tick: 100,000 tasks with 1,000 not terminal, 10,000 running jobs. */
async function tickReads(): Promise<{ tasksMs: number[]; found: number; jobsMs: number[]; running: number }> {
  const store = freshStore();
  const db = new Database(store.path);
  db.pragma('busy_timeout = 5000');
  const insertTask = db.prepare(
    `INSERT INTO tasks (project, issue_id, repo, branch, title, description, stage, status, snapshot, version, created_at, updated_at)
     VALUES ('web', ?, 'acme/web', ?, 'title', '', ?, ?, ?, 1, 0, ?)`,
  );
  const insertJob = db.prepare(ENQUEUE_SQL);
  db.transaction(() => {
    for (let i = 0; i < 100_000; i += 1) {
      const stuck = i % 100 === 0;
      const status = stuck ? 'active' : 'done';
      const snapshot = { stage: 'review', status, step: 1, developerRetries: 0, deferrals: 0, jobAttempts: 0 };
      insertTask.run(`I-${i}`, `task/I-${i}`, 'review', status, JSON.stringify(snapshot), stuck ? 0 : 5_000);
    }
    for (let i = 0; i < 10_000; i += 1) {
      const j = newJob(i, 0);
      insertJob.get(j.taskId, j.stage, j.agent, j.kind, j.attempt, j.stepKey, null, '{"description":""}', 0, 0);
    }
  })();
  db.close();
  const claimed = await store.claimJobs({ maxConcurrency: 10_000, now: 1 });
  if (!claimed.ok) throw claimed.error;

  const tasksMs: number[] = [];
  const jobsMs: number[] = [];
  let found = 0;
  let running = 0;
  for (let i = 0; i < 20; i += 1) {
    const t0 = performance.now();
    const tasks = await store.listTasks({ excludeStatuses: ['done', 'failed', 'rejected'], updatedBefore: 1_000 });
    tasksMs.push(performance.now() - t0);
    if (!tasks.ok) throw tasks.error;
    found = tasks.value.length;
    const t1 = performance.now();
    const jobs = await store.listJobs({ statuses: ['running'] });
    jobsMs.push(performance.now() - t1);
    if (!jobs.ok) throw jobs.error;
    running = jobs.value.length;
  }
  await store.close();
  return { tasksMs: tasksMs.sort((a, b) => a - b), found, jobsMs: jobsMs.sort((a, b) => a - b), running };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  try {
    // warm-up: JIT and page cache
    await storeLifecycles(300, 'NORMAL');
    await minimalLifecycles(300, 'NORMAL');

    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    console.log(
      `job lifecycle (enqueue → claim → finish, one transaction each), ${fmt(LIFECYCLES)} per round, median of ${ROUNDS}, interleaved:`,
    );
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      const storeRates: number[] = [];
      const minimalRates: number[] = [];
      for (let r = 0; r < ROUNDS; r += 1) {
        // alternate who goes first so drift on a shared machine hits both sides alike
        if (r % 2 === 0) {
          minimalRates.push(await minimalLifecycles(LIFECYCLES, synchronous));
          storeRates.push(await storeLifecycles(LIFECYCLES, synchronous));
        } else {
          storeRates.push(await storeLifecycles(LIFECYCLES, synchronous));
          minimalRates.push(await minimalLifecycles(LIFECYCLES, synchronous));
        }
      }
      const storeRate = median(storeRates);
      const minimalRate = median(minimalRates);
      const ratio = storeRate / minimalRate;
      console.log(`  synchronous = ${synchronous}`);
      console.log(
        `    SQLite store   ${fmt(storeRate).padStart(8)} lifecycles/s   (rounds: ${storeRates.map(fmt).join(', ')})`,
      );
      console.log(
        `    minimal queue  ${fmt(minimalRate).padStart(8)} lifecycles/s   (rounds: ${minimalRates.map(fmt).join(', ')})`,
      );
      console.log(
        `    store/minimal  ${(ratio * 100).toFixed(1)}%   (goal ≥ 80%)  ${ratio >= 0.8 ? 'OK' : 'BELOW GOAL'}`,
      );
    }

    const lat = await claimLatency();
    console.log(
      `claimJobs latency with ${fmt(QUEUED)} queued jobs (${fmt(CLAIMS)} claims of 1, fill took ${fmt(lat.fillMs)} ms):`,
    );
    console.log(`  p50 ${lat.p50.toFixed(3)} ms   p99 ${lat.p99.toFixed(3)} ms   max ${lat.max.toFixed(3)} ms`);

    const reads = await tickReads();
    console.log('store reads behind a daemon tick (median of 20):');
    console.log(
      `  listTasks(not terminal, stale) over 100,000 tasks → ${fmt(reads.found)} rows: ${percentile(reads.tasksMs, 50).toFixed(2)} ms`,
    );
    console.log(
      `  listJobs(running) with 10,000 running jobs → ${fmt(reads.running)} rows: ${percentile(reads.jobsMs, 50).toFixed(2)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
