// Store benchmarks: the job lifecycle (enqueue → claim → finish, one
// transaction each) through the SQLite store next to the same three SQL
// statements on bare better-sqlite3 with the same pragmas, and claim latency
// with 100,000 queued jobs.
//
//   node --import tsx bench/store.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NewJob } from '@conveyor/core';
import { createSqliteStore, type SqliteStore } from '@conveyor/store-sqlite';
import Database from 'better-sqlite3';

const LIFECYCLES = Number(process.env.BENCH_LIFECYCLES ?? 3_000);
const ROUNDS = 3;
const QUEUED = 100_000;
const CLAIMS = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'conveyor-store-bench-'));
let files = 0;

function freshStore(): SqliteStore {
  files += 1;
  const opened = createSqliteStore({ path: join(dir, `bench-${files}.db`), synchronous: 'NORMAL' });
  if (!opened.ok) throw opened.error;
  return opened.value;
}

/** A file with the store's schema, opened bare with the store's pragmas. */
async function freshBare(): Promise<Database.Database> {
  const store = freshStore();
  await store.close();
  const db = new Database(store.path);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

const JOB_COLUMNS =
  'seq, task_id, stage, agent, kind, status, attempt, step_key, edge, input, pid, exit_code, has_exit_code, available_at, created_at, started_at, finished_at, reason';
// The same statements the store runs for enqueueJob, claimJobs and finishJob.
const ENQUEUE_SQL = `INSERT INTO jobs (task_id, stage, agent, kind, status, attempt, step_key, edge, input, available_at, created_at)
  VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
  ON CONFLICT (step_key) DO NOTHING
  RETURNING ${JOB_COLUMNS}`;
const CLAIM_SQL = `UPDATE jobs SET status = 'running', started_at = @now
  WHERE seq IN (
    SELECT seq FROM jobs WHERE status = 'queued' AND available_at <= @now
    ORDER BY available_at, seq
    LIMIT max(0, @max - (SELECT count(*) FROM jobs WHERE status = 'running'))
  )
  RETURNING ${JOB_COLUMNS}`;
const FINISH_SQL = `UPDATE jobs SET status = ?, exit_code = ?, has_exit_code = ?, reason = ?, finished_at = ?
  WHERE seq = ? AND status = 'running'
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

async function storeLifecycles(count: number): Promise<number> {
  const store = freshStore();
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

async function bareLifecycles(count: number): Promise<number> {
  const db = await freshBare();
  const enqueue = db.prepare(ENQUEUE_SQL);
  const claim = db.prepare(CLAIM_SQL);
  const finish = db.prepare(FINISH_SQL);
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    // the same work per call the store does: serialise the input, bind, step
    const j = newJob(i, i);
    const row = enqueue.get(
      j.taskId,
      j.stage,
      j.agent,
      j.kind,
      j.attempt,
      j.stepKey,
      null,
      JSON.stringify(j.input),
      j.availableAt,
      j.now,
    );
    if (!row) throw new Error('bare enqueue failed');
    const claimed = claim.all({ now: i, max: 1 }) as { seq: number }[];
    const first = claimed[0];
    if (!first) throw new Error('bare claim failed');
    const done = finish.get('succeeded', 0, 1, null, i, first.seq);
    if (!done) throw new Error('bare finish failed');
  }
  const elapsed = performance.now() - start;
  db.close();
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
    await storeLifecycles(500);
    await bareLifecycles(500);

    const storeRates: number[] = [];
    const bareRates: number[] = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      // alternate so drift on a shared machine hits both sides alike
      bareRates.push(await bareLifecycles(LIFECYCLES));
      storeRates.push(await storeLifecycles(LIFECYCLES));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const storeRate = median(storeRates);
    const bareRate = median(bareRates);
    const ratio = storeRate / bareRate;
    console.log(
      `job lifecycle (enqueue → claim → finish, one transaction each), ${fmt(LIFECYCLES)} per round, median of ${ROUNDS}:`,
    );
    console.log(
      `  SQLite store        ${fmt(storeRate).padStart(8)} lifecycles/s   (rounds: ${storeRates.map(fmt).join(', ')})`,
    );
    console.log(
      `  bare better-sqlite3 ${fmt(bareRate).padStart(8)} lifecycles/s   (rounds: ${bareRates.map(fmt).join(', ')})`,
    );
    console.log(
      `  ratio store/bare    ${(ratio * 100).toFixed(1)}%   (target ≥ 80%)  ${ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`,
    );

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
