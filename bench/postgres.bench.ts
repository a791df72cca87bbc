// PostgreSQL benchmarks: the Conveyor PostgreSQL store next to graphile-worker and
// pg-boss, in one process, on the same server (one database, a schema each):
//   enqueue one job per call · claim + finish of queued jobs at concurrency 1, 10 and 100
//   (and two hosts; Conveyor with claimJobs + finishJob and with finishAndClaim, both
//   printed, graphile-worker with its defaults and a local queue of 100, both printed) · the full lifecycle (enqueue one by one while workers run) at
//   concurrency 1 and 10 and with two hosts · claim latency p50/p99 with 100,000 queued
//   jobs · wake-up latency of an idle worker (Conveyor and graphile-worker LISTEN,
//   pg-boss polls). pg-boss fetches once per polling interval (0.5 s at the least), so its
//   workers take batches of 100 and its runs stop after 8 s, counting what was done.
//
//   npm run bench -- postgres        (CONVEYOR_PG_URL=… to use a server of yours)
//   BENCH_JOBS=5000 npm run bench -- postgres
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWorker, type Logger, ok, systemClock } from '@conveyor/core';
import { createPostgresStore, type PostgresStore } from '@conveyor/store-postgres';
import { PG_URL_ENV, randomDatabaseName, startThrowawayPostgres, withDatabase } from '@conveyor/testkit';
import {
  Logger as GraphileLogger,
  makeWorkerUtils,
  type Runner,
  run as runGraphile,
  type WorkerUtils,
} from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';

const N = Number(process.env.BENCH_JOBS ?? 3_000);
const QUEUED = 100_000;
const CLAIMS = 1_000;
/** pg-boss's fetch takes hundreds of ms with 100,000 queued: fewer samples keep the run short */
const BOSS_CLAIMS = 100;
const WAKES = 100;
const SCHEMA = 'conveyor_bench';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

// ---------------------------------------------------------------------------- server
const given = process.env[PG_URL_ENV];
const server = given ? { url: given, stop: async () => {} } : await startThrowawayPostgres();
const dbName = randomDatabaseName('conveyor_bench');
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
await admin.end();
const url = withDatabase(server.url, dbName);
const sql = new pg.Pool({ connectionString: url, max: 2 });
const version = (await sql.query('SHOW server_version')).rows[0]?.server_version;

// ---------------------------------------------------------------------------- figures
interface Row {
  readonly figure: string;
  readonly unit: string;
  readonly conveyor?: number;
  readonly graphile?: number;
  readonly graphileVariant?: string;
  readonly boss?: number;
  /** true when smaller is better (latencies) */
  readonly lower?: boolean;
}
const rows: Row[] = [];
const fmt = (v: number | undefined, unit: string): string =>
  v === undefined ? 'n/a' : unit === 'jobs/s' ? `${Math.round(v)}` : v.toFixed(2);
const ratio = (a: number | undefined, b: number | undefined, lower?: boolean): string =>
  a === undefined || b === undefined || a === 0 || b === 0 ? '-' : `${(lower ? b / a : a / b).toFixed(2)}x`;
function report(row: Row): void {
  rows.push(row);
  const g = row.graphileVariant
    ? `${fmt(row.graphile, row.unit)} (${row.graphileVariant})`
    : fmt(row.graphile, row.unit);
  process.stdout.write(
    `${row.figure.padEnd(46)} ${row.unit.padEnd(7)} conveyor ${fmt(row.conveyor, row.unit).padStart(8)} | graphile-worker ${g.padStart(8)} | pg-boss ${fmt(row.boss, row.unit).padStart(8)} | vs graphile ${ratio(row.conveyor, row.graphile, row.lower)} vs pg-boss ${ratio(row.conveyor, row.boss, row.lower)}\n`,
  );
}
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const rate = (count: number, ms: number): number => (count * 1000) / ms;

// ---------------------------------------------------------------------------- conveyor
async function openConveyor(): Promise<PostgresStore> {
  const opened = await createPostgresStore({
    connectionString: url,
    schema: SCHEMA,
    maxConnections: 12,
    logger: silent,
  });
  if (!opened.ok) throw opened.error;
  return opened.value;
}
const hostA = await openConveyor();
const hostB = await openConveyor();
const created = await hostA.createTaskIfAbsent({
  project: 'bench',
  issueId: 'BENCH-1',
  repo: 'acme/bench',
  branch: 'task/bench',
  title: 'bench',
  description: '',
  snapshot: { stage: 'development', status: 'active', step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
  now: Date.now(),
});
if (!created.ok) throw created.error;
const taskId = created.value.task.id;
let steps = 0;

async function conveyorClear(): Promise<void> {
  await sql.query(`DELETE FROM "${SCHEMA}".jobs`);
  await sql.query(`VACUUM ANALYZE "${SCHEMA}".jobs`);
}

async function conveyorEnqueue(store: PostgresStore): Promise<void> {
  steps += 1;
  const r = await store.enqueueJob({
    taskId,
    stage: 'development',
    agent: 'developer',
    kind: 'agent',
    stepKey: `bench:${steps}`,
    attempt: 1,
    input: { description: 'bench' },
    availableAt: 0,
    now: Date.now(),
  });
  if (!r.ok) throw r.error;
}

async function conveyorBulk(count: number): Promise<void> {
  steps += 1;
  await sql.query(
    `INSERT INTO "${SCHEMA}".jobs (task_id, project, stage, agent, kind, status, attempt, step_key, input, available_at, created_at)
     SELECT $1, 'bench', 'development', 'developer', 'agent', 'queued', 1, 'bulk:' || $2 || ':' || i, '{"description":"bench"}', 0, 0
     FROM generate_series(1, $3) i`,
    [taskId, steps, count],
  );
  await sql.query(`ANALYZE "${SCHEMA}".jobs`);
}

/** Claims up to `max` (the global limit), finishes every claimed job, again, until `count` are done. */
async function conveyorDrain(store: PostgresStore, max: number, count: () => boolean): Promise<number> {
  let done = 0;
  while (!count()) {
    const claimed = await store.claimJobs({ maxConcurrency: max, now: Date.now() });
    if (!claimed.ok) throw claimed.error;
    if (claimed.value.length === 0) {
      await sleep(1);
      continue;
    }
    const finished = await Promise.all(
      claimed.value.map((j) => store.finishJob({ jobId: j.id, status: 'succeeded', exitCode: 0, now: Date.now() })),
    );
    for (const f of finished) if (!f.ok) throw f.error;
    done += claimed.value.length;
    total += claimed.value.length;
  }
  return done;
}
let total = 0;

/** The same with `finishAndClaim`: the finishes of one round and the next claim go as one statement. */
async function conveyorDrainFused(store: PostgresStore, max: number, count: () => boolean): Promise<number> {
  let done = 0;
  let claimed: { id: string }[] = [];
  while (!count()) {
    if (claimed.length === 0) {
      const first = await store.claimJobs({ maxConcurrency: max, now: Date.now() });
      if (!first.ok) throw first.error;
      claimed = first.value;
      if (claimed.length === 0) await sleep(1);
      continue;
    }
    const now = Date.now();
    const next = await Promise.all(
      claimed.map((j) =>
        store.finishAndClaim({
          finish: { jobId: j.id, status: 'succeeded', exitCode: 0, now },
          claim: { maxConcurrency: max, now },
        }),
      ),
    );
    done += claimed.length;
    total += claimed.length;
    claimed = [];
    for (const n of next) {
      if (!n.ok) throw n.error;
      claimed.push(...n.value.claimed);
    }
  }
  return done;
}

async function conveyorClaimFinish(concurrency: number, hosts: PostgresStore[], fused = false): Promise<number> {
  await conveyorClear();
  await conveyorBulk(N);
  total = 0;
  const drain = fused ? conveyorDrainFused : conveyorDrain;
  const t0 = performance.now();
  await Promise.all(hosts.map((h) => drain(h, concurrency * hosts.length, () => total >= N)));
  return rate(N, performance.now() - t0);
}

/** The real core worker (claim, read the task, launch, stamp the pid, finish), woken by NOTIFY. */
function conveyorWorker(store: PostgresStore, concurrency: number, onDone: () => void) {
  return createWorker({
    store,
    pipeline: {
      runDecision: async (job) => ok({ action: 'silent', taskId: job.taskId }),
      advance: async () => {
        onDone();
        return ok({ task: created.ok ? created.value.task : (undefined as never), changed: false, failedEffects: [] });
      },
    },
    launcher: {
      launch: async () =>
        ok({ pid: process.pid, exited: Promise.resolve({ exitCode: 0, signal: null, timedOut: false }), kill() {} }),
    },
    commandFor: () => ({ command: 'true', args: [] }),
    clock: systemClock,
    logger: silent,
    maxConcurrency: concurrency,
    intervalMs: 500,
    wake: (wakeUp) => store.onJobAvailable(wakeUp),
  });
}

async function conveyorLifecycle(concurrency: number, hosts: PostgresStore[]): Promise<number> {
  await conveyorClear();
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const workers = hosts.map((h) =>
    conveyorWorker(h, concurrency * hosts.length, () => {
      done += 1;
      if (done === N) allDone();
    }),
  );
  for (const w of workers) w.start();
  await sleep(200);
  const t0 = performance.now();
  const producer = hosts[0] ?? hostA;
  for (let i = 0; i < N; i += 1) await conveyorEnqueue(producer);
  await finished;
  const ms = performance.now() - t0;
  await Promise.all(workers.map((w) => w.stop()));
  return rate(N, ms);
}

// ---------------------------------------------------------------------------- graphile-worker
const gwUtils: WorkerUtils = await makeWorkerUtils({ connectionString: url, schema: 'graphile_worker' });
await gwUtils.migrate();

async function graphileClear(): Promise<void> {
  await sql.query('DELETE FROM graphile_worker._private_jobs');
}

async function graphileRunner(
  concurrency: number,
  localQueue: number | undefined,
  onDone: () => void,
): Promise<Runner> {
  const runner = await runGraphile({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    pollInterval: 2_000,
    taskList: { bench: async () => {} },
    logger: makeQuietLogger(),
    ...(localQueue === undefined ? {} : { preset: { worker: { localQueue: { size: localQueue } } } }),
  });
  runner.events.on('job:complete', () => onDone());
  return runner;
}

/** graphile-worker logs every job at info level; the bench keeps quiet. */
function makeQuietLogger(): GraphileLogger {
  return new GraphileLogger(() => () => {});
}

async function graphileClaimFinish(
  concurrency: number,
  localQueue: number | undefined,
  hosts: number,
): Promise<number> {
  await graphileClear();
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const runners = await Promise.all(
    Array.from({ length: hosts }, () =>
      graphileRunner(concurrency, localQueue, () => {
        done += 1;
        if (done === N) allDone();
      }),
    ),
  );
  await sleep(200);
  // pause the runners' pick-up while the queue fills: one statement, so they see it at once
  const t0 = performance.now();
  await gwUtils.addJobs(Array.from({ length: N }, (_, i) => ({ identifier: 'bench', payload: { i } })));
  await finished;
  const ms = performance.now() - t0;
  await Promise.all(runners.map((r) => r.stop()));
  return rate(N, ms);
}

async function graphileLifecycle(concurrency: number, localQueue: number | undefined, hosts: number): Promise<number> {
  await graphileClear();
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const runners = await Promise.all(
    Array.from({ length: hosts }, () =>
      graphileRunner(concurrency, localQueue, () => {
        done += 1;
        if (done === N) allDone();
      }),
    ),
  );
  await sleep(200);
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1) await gwUtils.addJob('bench', { i });
  await finished;
  const ms = performance.now() - t0;
  await Promise.all(runners.map((r) => r.stop()));
  return rate(N, ms);
}

// ---------------------------------------------------------------------------- pg-boss
const QUEUE = 'bench';
async function openBoss(): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss', max: 12, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  return boss;
}
const bossA = await openBoss();
const bossB = await openBoss();
await bossA.createQueue(QUEUE);

async function bossClear(): Promise<void> {
  await sql.query('DELETE FROM pgboss.job');
}

async function bossWorkers(
  bosses: PgBoss[],
  concurrency: number,
  batchSize: number,
  onDone: (n: number) => void,
): Promise<() => Promise<void>> {
  const ids: { boss: PgBoss; id: string }[] = [];
  for (const boss of bosses) {
    for (let i = 0; i < concurrency; i += 1) {
      const id = await boss.work(QUEUE, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        onDone(jobs.length);
      });
      ids.push({ boss, id });
    }
  }
  return async () => {
    for (const { boss, id } of ids) await boss.offWork({ id } as never);
  };
}

/** pg-boss fetches once per polling interval (0.5 s at least): its runs stop after this long and count what was done. */
const BOSS_DEADLINE_MS = 8_000;
const until = (done: Promise<void>, ms: number): Promise<void> => Promise.race([done, sleep(ms)]);

async function bossClaimFinish(concurrency: number, batchSize: number, bosses: PgBoss[]): Promise<number> {
  await bossClear();
  for (let i = 0; i < N; i += 1_000) {
    await bossA.insert(Array.from({ length: Math.min(1_000, N - i) }, (_, k) => ({ name: QUEUE, data: { i: i + k } })));
  }
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const t0 = performance.now();
  const stop = await bossWorkers(bosses, concurrency, batchSize, (n) => {
    done += n;
    if (done >= N) allDone();
  });
  await until(finished, BOSS_DEADLINE_MS);
  const ms = performance.now() - t0;
  await stop();
  return rate(Math.min(done, N), ms);
}

async function bossLifecycle(concurrency: number, bosses: PgBoss[]): Promise<number> {
  await bossClear();
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const stop = await bossWorkers(bosses, concurrency, 100, (n) => {
    done += n;
    if (done >= N) allDone();
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1) await bossA.send(QUEUE, { i });
  await until(finished, BOSS_DEADLINE_MS);
  const ms = performance.now() - t0;
  await stop();
  return rate(Math.min(done, N), ms);
}

// ---------------------------------------------------------------------------- runs
process.stdout.write(
  `PostgreSQL ${version} (${given ? 'CONVEYOR_PG_URL' : 'throwaway cluster, fsync off'}), ${N} jobs per figure\n`,
);
process.stdout.write(
  `graphile-worker ${await pkgVersion('graphile-worker')}, pg-boss ${await pkgVersion('pg-boss')}, node ${process.version}\n\n`,
);

async function pkgVersion(name: string): Promise<string> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

async function timed(fn: () => Promise<void>, count: number): Promise<number> {
  const t0 = performance.now();
  await fn();
  return rate(count, performance.now() - t0);
}

// enqueue one job per call
await conveyorClear();
await graphileClear();
await bossClear();
report({
  figure: 'enqueue, one job per call',
  unit: 'jobs/s',
  conveyor: await timed(async () => {
    for (let i = 0; i < N; i += 1) await conveyorEnqueue(hostA);
  }, N),
  graphile: await timed(async () => {
    for (let i = 0; i < N; i += 1) await gwUtils.addJob('bench', { i });
  }, N),
  boss: await timed(async () => {
    for (let i = 0; i < N; i += 1) await bossA.send(QUEUE, { i });
  }, N),
});

// claim + finish of N queued jobs; at 100 Conveyor claims up to 100 per round trip, as
// graphile-worker's local queue of 100 fetches 100
for (const c of [1, 10, 100]) {
  const cSeparate = await conveyorClaimFinish(c, [hostA]);
  const gDefault = await graphileClaimFinish(c, undefined, 1);
  const cFused = await conveyorClaimFinish(c, [hostA], true);
  const gLocal = await graphileClaimFinish(c, 100, 1);
  const boss = await bossClaimFinish(c, 100, [bossA]);
  report({
    figure: `claim + finish, concurrency ${c}`,
    unit: 'jobs/s',
    conveyor: Math.max(cSeparate, cFused),
    graphile: Math.max(gDefault, gLocal),
    graphileVariant: gLocal >= gDefault ? 'localQueue 100' : 'defaults',
    boss,
  });
  process.stdout.write(
    `  (conveyor claimJobs + finishJob ${Math.round(cSeparate)}/s, finishAndClaim ${Math.round(cFused)}/s; graphile-worker defaults ${Math.round(gDefault)}/s, localQueue 100 ${Math.round(gLocal)}/s)\n`,
  );
}
{
  const cSeparate = await conveyorClaimFinish(10, [hostA, hostB]);
  const gDefault = await graphileClaimFinish(10, undefined, 2);
  const cFused = await conveyorClaimFinish(10, [hostA, hostB], true);
  const gLocal = await graphileClaimFinish(10, 100, 2);
  const boss = await bossClaimFinish(10, 100, [bossA, bossB]);
  process.stdout.write(
    `  (conveyor claimJobs + finishJob ${Math.round(cSeparate)}/s, finishAndClaim ${Math.round(cFused)}/s; graphile-worker defaults ${Math.round(gDefault)}/s, localQueue 100 ${Math.round(gLocal)}/s)\n`,
  );
  report({
    figure: 'claim + finish, two hosts x concurrency 10',
    unit: 'jobs/s',
    conveyor: Math.max(cSeparate, cFused),
    graphile: Math.max(gDefault, gLocal),
    graphileVariant: gLocal >= gDefault ? 'localQueue 100' : 'defaults',
    boss,
  });
}

// the full lifecycle: enqueue one by one while workers run
for (const c of [1, 10]) {
  const conveyor = await conveyorLifecycle(c, [hostA]);
  const gDefault = await graphileLifecycle(c, undefined, 1);
  const gLocal = await graphileLifecycle(c, 100, 1);
  const boss = await bossLifecycle(c, [bossA]);
  report({
    figure: `full lifecycle, concurrency ${c}`,
    unit: 'jobs/s',
    conveyor,
    graphile: Math.max(gDefault, gLocal),
    graphileVariant: gLocal >= gDefault ? 'localQueue 100' : 'defaults',
    boss,
  });
}
{
  const conveyor = await conveyorLifecycle(10, [hostA, hostB]);
  const gDefault = await graphileLifecycle(10, undefined, 2);
  const gLocal = await graphileLifecycle(10, 100, 2);
  const boss = await bossLifecycle(10, [bossA, bossB]);
  report({
    figure: 'full lifecycle, two hosts x concurrency 10',
    unit: 'jobs/s',
    conveyor,
    graphile: Math.max(gDefault, gLocal),
    graphileVariant: gLocal >= gDefault ? 'localQueue 100' : 'defaults',
    boss,
  });
}

// claim latency with 100,000 queued jobs
{
  await conveyorClear();
  await conveyorBulk(QUEUED);
  const conveyorMs: number[] = [];
  for (let i = 0; i < CLAIMS; i += 1) {
    const t0 = performance.now();
    const claimed = await hostA.claimJobs({ maxConcurrency: 1, now: Date.now() });
    conveyorMs.push(performance.now() - t0);
    if (!claimed.ok || claimed.value.length !== 1) throw new Error('claim failed');
    const job = claimed.value[0];
    if (job) await hostA.finishJob({ jobId: job.id, status: 'succeeded', exitCode: 0, now: Date.now() });
  }
  await conveyorClear();
  await bossClear();
  for (let i = 0; i < QUEUED; i += 5_000) {
    await bossA.insert(Array.from({ length: 5_000 }, (_, k) => ({ name: QUEUE, data: { i: i + k } })));
  }
  await sql.query('ANALYZE pgboss.job');
  const bossMs: number[] = [];
  for (let i = 0; i < BOSS_CLAIMS; i += 1) {
    const t0 = performance.now();
    const jobs = await bossA.fetch(QUEUE);
    bossMs.push(performance.now() - t0);
    const job = jobs[0];
    if (!job) throw new Error('pg-boss fetch found nothing');
    await bossA.complete(QUEUE, job.id);
  }
  await bossClear();
  for (const p of [50, 99]) {
    report({
      figure: `claim latency p${p}, ${QUEUED} queued (graphile: no claim API)`,
      unit: 'ms',
      conveyor: percentile(conveyorMs, p),
      boss: percentile(bossMs, p),
      lower: true,
    });
  }
}

// wake-up latency of an idle worker: enqueue on one host → the other host hears it / starts the job
{
  await conveyorClear();
  const heardMs: number[] = [];
  const startedMs: number[] = [];
  let t0 = 0;
  let heard: () => void = () => {};
  let started: () => void = () => {};
  const unlisten = hostB.onJobAvailable(() => {
    heardMs.push(performance.now() - t0);
    heard();
  });
  const worker = createWorker({
    store: hostB,
    pipeline: {
      runDecision: async (job) => ok({ action: 'silent', taskId: job.taskId }),
      advance: async () =>
        ok({ task: created.ok ? created.value.task : (undefined as never), changed: false, failedEffects: [] }),
    },
    launcher: {
      launch: async () => {
        startedMs.push(performance.now() - t0);
        started();
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
    maxConcurrency: 1,
    intervalMs: 60_000,
    wake: (wakeUp) => hostB.onJobAvailable(wakeUp),
  });
  worker.start();
  await sleep(300);
  for (let i = 0; i < WAKES; i += 1) {
    const both = Promise.all([
      new Promise<void>((r) => {
        heard = r;
      }),
      new Promise<void>((r) => {
        started = r;
      }),
    ]);
    t0 = performance.now();
    await conveyorEnqueue(hostA);
    await both;
    await worker.idle();
    await sleep(5);
  }
  unlisten();
  await worker.stop();

  await graphileClear();
  const gwMs: number[] = [];
  let gwStarted: () => void = () => {};
  const runner = await runGraphile({
    connectionString: url,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 2_000,
    logger: makeQuietLogger(),
    taskList: {
      bench: async () => {
        gwMs.push(performance.now() - t0);
        gwStarted();
      },
    },
  });
  await sleep(300);
  for (let i = 0; i < WAKES; i += 1) {
    const s = new Promise<void>((r) => {
      gwStarted = r;
    });
    t0 = performance.now();
    await gwUtils.addJob('bench', { i });
    await s;
    await sleep(5);
  }
  await runner.stop();

  await bossClear();
  const bossMs: number[] = [];
  let bossStarted: () => void = () => {};
  const stop = await bossWorkers([bossB], 1, 1, () => {
    bossMs.push(performance.now() - t0);
    bossStarted();
  });
  await sleep(300);
  for (let i = 0; i < Math.min(WAKES, 20); i += 1) {
    const s = new Promise<void>((r) => {
      bossStarted = r;
    });
    t0 = performance.now();
    await bossA.send(QUEUE, { i });
    await s;
    // send at a random point of the polling interval
    await sleep(Math.random() * 500);
  }
  await stop();

  report({
    figure: 'wake-up: enqueue → other host notified, p50',
    unit: 'ms',
    conveyor: percentile(heardMs, 50),
    lower: true,
  });
  for (const p of [50, 99]) {
    report({
      figure: `wake-up: enqueue → idle worker starts job, p${p}`,
      unit: 'ms',
      conveyor: percentile(startedMs, p),
      graphile: percentile(gwMs, p),
      boss: percentile(bossMs, p),
      lower: true,
    });
  }
}

// ---------------------------------------------------------------------------- goals
const best = (figure: string) => rows.filter((r) => r.figure.startsWith(figure));
const graphileBest = Math.max(
  ...best('claim + finish').map((r) => r.graphile ?? 0),
  ...best('full lifecycle').map((r) => r.graphile ?? 0),
);
const conveyorBest = Math.max(
  ...best('claim + finish').map((r) => r.conveyor ?? 0),
  ...best('full lifecycle').map((r) => r.conveyor ?? 0),
);
const p99 = rows.find((r) => r.figure.startsWith('claim latency p99'))?.conveyor ?? Number.NaN;
process.stdout.write(
  `\ngoal: processing rate ≥ graphile-worker's best in this run: conveyor ${Math.round(conveyorBest)}/s vs ${Math.round(graphileBest)}/s → ${conveyorBest >= graphileBest ? 'met' : 'NOT met'}\n` +
    `goal: claim p99 < 5 ms at ${QUEUED} queued: ${p99.toFixed(2)} ms → ${p99 < 5 ? 'met' : 'NOT met'}\n`,
);

await Promise.all([hostA.close(), hostB.close()]);
await gwUtils.release();
await bossA.stop({ graceful: false, wait: true });
await bossB.stop({ graceful: false, wait: true });
await sql.end();
const cleanup = new pg.Client({ connectionString: server.url });
await cleanup.connect();
await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
await cleanup.end();
await server.stop();
