// Daemon ticks on the SQLite store: a reconciler tick over 100,000 tasks of
// which 1,000 are stuck (target < 50 ms), and a reaper tick over 10,000
// running jobs (all carrying this process's pid, as in-host runners do: the
// reaper probes a pid once per tick however many jobs carry it).
// It also prints the store calls of one reconciler tick (a figure the machine's load does not move).
// Run: npm run bench -- daemons
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createGateRegistry,
  createPipeline,
  createProcessProbe,
  createReaper,
  createReconciler,
  DEFAULT_STAGES,
  type Logger,
  type StageSnapshot,
} from '@conveyor/core';
import { createSqliteStore } from '@conveyor/store-sqlite';

const TASKS = Number(process.env.BENCH_TASKS ?? 100_000);
const STUCK = 1_000;
const RUNNING = 10_000;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-bench-daemons-'));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function snapshot(status: StageSnapshot['status'], stage: string, step: number): StageSnapshot {
  return { stage, status, step, developerRetries: 0, deferrals: 0, jobAttempts: 0 };
}

try {
  const opened = createSqliteStore({ path: path.join(dir, 'bench.sqlite') });
  if (!opened.ok) throw opened.error;
  const store = opened.value;
  const clock = { now: () => Date.now() };
  const old = Date.now() - 3_600_000;

  let t0 = performance.now();
  for (let i = 0; i < TASKS; i += 1) {
    const stuck = i % (TASKS / STUCK) === 0;
    const created = await store.createTaskIfAbsent({
      project: 'web',
      issueId: `I${i}`,
      repo: 'acme/web',
      branch: `task/${i}`,
      title: `t${i}`,
      description: '',
      snapshot: stuck ? snapshot('gating', 'development', 2) : snapshot('done', 'done', 5),
      now: old,
    });
    if (!created.ok) throw created.error;
    if (stuck) {
      // decided red and applied: the reconciler reads the record and stays silent
      const started = await store.startDecision({
        taskId: created.value.task.id,
        edge: 'development->deploy-staging',
        step: 2,
        headSha: 'h',
        baseSha: 'b',
        baseBranch: 'main',
        fence: 1,
        now: old,
      });
      if (!started.ok) throw started.error;
      const outcome = { status: 'fail' as const, summary: 'still red', findingsText: '' };
      await store.finishDecision({ decisionId: started.value.decision.id, fence: 1, outcome, now: old });
      await store.markDecisionApplied(started.value.decision.id, old);
    }
  }
  process.stdout.write(
    `seeded ${TASKS} tasks (${STUCK} stuck in gating) in ${Math.round(performance.now() - t0)} ms\n`,
  );

  const gates = createGateRegistry({ clock });
  gates.register('development->deploy-staging', {
    id: 'ci',
    run: async () => ({ status: 'fail', summary: 'still red' }),
  });
  const pipeline = createPipeline({ store, stages: DEFAULT_STAGES, gates, clock, logger: silent, repo: 'acme/web' });
  const reconciler = createReconciler({ store, pipeline, clock, logger: silent });
  const ticks: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    t0 = performance.now();
    const counts = await reconciler.tick();
    ticks.push(performance.now() - t0);
    if (counts.silent !== STUCK) throw new Error(`expected ${STUCK} silent tasks, got ${JSON.stringify(counts)}`);
  }
  process.stdout.write(
    `reconciler tick over ${TASKS} tasks, ${STUCK} stuck (decided red in the record, silent): median ${median(ticks).toFixed(1)} ms, min ${Math.min(...ticks).toFixed(1)} ms (target < 50 ms)\n`,
  );
  // the figure that does not depend on the machine's load: store calls in one tick
  const calls = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  const countedPipeline = createPipeline({
    store: counted,
    stages: DEFAULT_STAGES,
    gates,
    clock,
    logger: silent,
    repo: 'acme/web',
  });
  await createReconciler({ store: counted, pipeline: countedPipeline, clock, logger: silent }).tick();
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  const byMethod = [...calls].map(([name, n]) => `${name} ${n}`).join(', ');
  process.stdout.write(`reconciler store calls per tick: ${total} (${byMethod})\n`);

  t0 = performance.now();
  const tasks = (await store.listTasks({ statuses: ['gating'], limit: STUCK })).unwrapOr([]);
  for (let i = 0; i < RUNNING; i += 1) {
    const task = tasks[i % tasks.length];
    if (!task) throw new Error('no task');
    const enq = await store.enqueueJob({
      taskId: task.id,
      stage: 'development',
      agent: 'developer',
      kind: 'agent',
      stepKey: `bench:${i}`,
      attempt: 1,
      input: { description: '' },
      availableAt: 0,
      now: Date.now(),
    });
    if (!enq.ok) throw enq.error;
  }
  const claimed = await store.claimJobs({ maxConcurrency: RUNNING, now: Date.now() });
  if (!claimed.ok) throw claimed.error;
  for (const job of claimed.value) await store.setJobPid(job.id, process.pid);
  process.stdout.write(`seeded ${claimed.value.length} running jobs in ${Math.round(performance.now() - t0)} ms\n`);

  const reaper = createReaper({ store, pipeline, probe: createProcessProbe(), clock, logger: silent });
  const reaps: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    t0 = performance.now();
    const counts = await reaper.tick();
    reaps.push(performance.now() - t0);
    if (counts.running !== RUNNING) throw new Error(`expected ${RUNNING} running, got ${JSON.stringify(counts)}`);
  }
  process.stdout.write(
    `reaper tick over ${RUNNING} running jobs sharing one live pid (probed once per tick): median ${median(reaps).toFixed(1)} ms, min ${Math.min(...reaps).toFixed(1)} ms\n`,
  );
  await store.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
