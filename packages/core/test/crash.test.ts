import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSqliteStore, type SqliteStore } from '@conveyor/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReaper } from '../src/daemons/index.js';
import { createProcessProbe } from '../src/launcher/index.js';
import { taskOfLeaseHolder } from '../src/pipeline/index.js';
import { TERMINAL_TASK_STATUSES } from '../src/ports/domain.js';
import { conveyorError } from '../src/result/errors.js';
import { err, ok } from '../src/result/result.js';
import { buildWorld, crashIssue, MERGE_LEASE_TTL_MS, silent } from './fixtures/crash-world.js';
import { bundleScript } from './helpers/bundle.js';
import { collectLines, exitOf, fixture, type LineCollector, runJs, runTs } from './helpers/node.js';
import { tempDirs } from './helpers/tmp.js';

const dirs = tempDirs('crash');
const probe = createProcessProbe();
afterAll(() => dirs.cleanup());

/**
 * Independent lanes (each its own SQLite file and host lives, one host alive
 * per lane at a time, the next one loading meanwhile) run side by side, so
 * ≥ 200 real SIGKILLs fit in about a minute on 2 cores. Life k of a lane brings
 * issue k and replays the webhooks of the few before it; a task's life spans
 * several host lives, so kills land all over it: in a transaction, between a
 * saved transition and its effects, while agents run, while the merge lease
 * is held.
 */
const LANES = 4;
const LIVES_PER_LANE = 51;
/** with tsx instead of a bundle a life costs seconds: far fewer lives, and the count is not asserted */
const LIVES_PER_LANE_WITHOUT_BUNDLE = 2;
const MIN_KILLS = 200;
/** share of kills that do not wait for `ready` (opening, on a first life creating and migrating, the database) */
const EARLY_KILL_SHARE = 0.15;
/** how many of the latest issues a life replays */
const REPLAYED = 4;
const MAX_DELAY_AFTER_READY_MS = 200;

let hostScript: string | undefined;

beforeAll(async () => {
  const out = path.join(dirs.make(), 'crash-host.mjs');
  hostScript = await bundleScript(fixture('crash-host.ts'), out);
  if (hostScript === undefined)
    console.warn('crash test: esbuild is not installed; hosts start through tsx, few lives');
}, 60_000);

interface Lane {
  readonly name: string;
  readonly dir: string;
  readonly db: string;
  /** issues some host acknowledged (handled, so their task is committed) */
  readonly acked: Set<number>;
  store?: SqliteStore;
  /** per lease name, the highest fencing token seen */
  readonly tokens: Map<string, number>;
  /** the pids of the lane's killed hosts */
  readonly killedPids: Set<number>;
  /** per task, the version whose history was checked (a task's history only changes with its version) */
  readonly checkedVersions: Map<string, number>;
}

interface KillStats {
  kills: number;
  early: number;
  leasesHeldAtKill: number;
  leasesReclaimedByReaper: number;
  interruptedTaskLives: number;
  /** kills that found at least one task mid-life */
  killsMidTask: number;
}

function newLane(name: string): Lane {
  const dir = dirs.make();
  return {
    name,
    dir,
    db: path.join(dir, 'conveyor.sqlite'),
    acked: new Set(),
    tokens: new Map(),
    killedPids: new Set(),
    checkedVersions: new Map(),
  };
}

function laneStore(lane: Lane): SqliteStore {
  if (lane.store === undefined) {
    const opened = createSqliteStore({ path: lane.db, synchronous: 'NORMAL' });
    if (!opened.ok) throw opened.error;
    lane.store = opened.value;
  }
  return lane.store;
}

/**
 * The invariants after a kill, read through the `Store` port while no host of
 * the lane is alive. Returns how many tasks were mid-life.
 */
async function checkInvariants(lane: Lane, stats: KillStats, reclaim: boolean): Promise<number> {
  const store = laneStore(lane);
  const tasks = (await store.listTasks({})).unwrapOr([]);
  // no lost task: every acknowledged issue has exactly one task, and no issue has two
  const perIssue = new Map<string, number>();
  for (const task of tasks) perIssue.set(task.issueId, (perIssue.get(task.issueId) ?? 0) + 1);
  expect([...perIssue].filter(([, n]) => n > 1)).toEqual([]);
  expect([...lane.acked].filter((n) => !perIssue.has(crashIssue(n).id))).toEqual([]);

  const jobs = (await store.listJobs({})).unwrapOr([]);
  const taskById = new Map(tasks.map((t) => [t.id, t]));
  // no second job for one step
  const perStep = new Map<string, number>();
  for (const job of jobs) perStep.set(job.stepKey, (perStep.get(job.stepKey) ?? 0) + 1);
  expect([...perStep].filter(([, n]) => n > 1)).toEqual([]);
  const activePerTask = new Map<string, number>();
  for (const job of jobs) {
    const task = taskById.get(job.taskId);
    // every job belongs to a task, and none is beyond the task's current step
    expect(task, `job ${job.id} of unknown task ${job.taskId}`).toBeDefined();
    if (task === undefined) continue;
    expect(Number(job.stepKey.split(':')[1])).toBeLessThanOrEqual(task.snapshot.step);
    if (job.status === 'queued' || job.status === 'running') {
      activePerTask.set(job.taskId, (activePerTask.get(job.taskId) ?? 0) + 1);
    }
  }
  // at most one queued or running job per task
  expect([...activePerTask].filter(([, n]) => n > 1)).toEqual([]);

  for (const task of tasks) {
    if (lane.checkedVersions.get(task.id) === task.version) continue;
    lane.checkedVersions.set(task.id, task.version);
    // the history is contiguous and ends where the snapshot is (snapshot and entry are one transaction)
    const history = (await store.listHistory(task.id)).unwrapOr([]);
    expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
    const last = history[history.length - 1];
    if (last !== undefined) {
      expect([last.toStage, last.toStatus]).toEqual([task.snapshot.stage, task.snapshot.status]);
    }
  }

  // leases: every one is held by a task of this lane, for at most the TTL, with a fencing token that
  // only grew; a reaper (its clock past the TTL, as on a host that outlives the dead one) frees them all
  const leases = (await store.listLeases()).unwrapOr([]);
  const killedAt = Date.now();
  for (const lease of leases) {
    // held by a task of this lane, through the killed host (`<hostname>:<pid>/task:<id>`): a dead holder
    expect(taskById.has(taskOfLeaseHolder(lease.holder) ?? '')).toBe(true);
    const holderPid = Number(/:(\d+)\/task:/.exec(lease.holder)?.[1]);
    expect(lane.killedPids.has(holderPid), `${lease.holder} is not a killed host of ${lane.name}`).toBe(true);
    expect((await probe.isAlive(holderPid)).unwrapOr(true)).toBe(false);
    expect(lease.expiresAt).toBeLessThanOrEqual(killedAt + MERGE_LEASE_TTL_MS);
    expect(lease.token).toBeGreaterThanOrEqual(lane.tokens.get(lease.name) ?? 0);
    lane.tokens.set(lease.name, lease.token);
  }
  stats.leasesHeldAtKill += leases.length;
  if (reclaim && leases.length > 0) {
    const reaper = createReaper({
      store,
      // the jobs are left to the next host's reaper (every pid looks alive): only the lease reclaim runs here
      pipeline: { advance: async () => err(conveyorError('@conveyor/core', 'internal', 'no job is reaped here')) },
      probe: { isAlive: async () => ok(true) },
      clock: { now: () => Date.now() + MERGE_LEASE_TTL_MS },
      logger: silent,
    });
    const counts = await reaper.tick();
    expect(counts.leasesReclaimed).toBe(leases.length);
    expect((await store.listLeases()).unwrapOr([])).toEqual([]);
    stats.leasesReclaimedByReaper += leases.length;
  }
  return tasks.filter((t) => !TERMINAL_TASK_STATUSES.includes(t.snapshot.status)).length;
}

/** A host process, loaded and waiting for SIGUSR2 to begin its life. */
interface Host {
  readonly child: ChildProcess;
  readonly out: LineCollector;
  readonly count: number;
}

function prestart(lane: Lane, count: number): Host {
  // life k replays the webhooks of the last few issues (a lost one is acked later or replayed at recovery)
  const args = [lane.db, lane.dir, String(Math.max(1, count - REPLAYED + 1)), String(count)];
  const child = hostScript === undefined ? runTs(fixture('crash-host.ts'), args) : runJs(hostScript, args);
  return { child, out: collectLines(child), count };
}

/** One host life: begin, SIGKILL at a random point, collect the acks, check the invariants. */
async function life(lane: Lane, host: Host, stats: KillStats): Promise<void> {
  const { child, out, count } = host;
  const what = `${lane.name} life ${count}`;
  expect(await out.waitFor('loaded'), `${what}: the host exited while loading`).toBe(true);
  child.kill('SIGUSR2');
  if (Math.random() < EARLY_KILL_SHARE) {
    // while it opens (and on a first life creates and migrates) the database and starts its daemons
    stats.early += 1;
    await sleep(Math.floor(Math.random() * 15));
  } else {
    expect(await out.waitFor('ready'), `${what}: the host exited before ready`).toBe(true);
    await sleep(Math.floor(Math.random() * MAX_DELAY_AFTER_READY_MS));
  }
  expect(child.exitCode, `${what}: the host exited by itself`).toBeNull();
  child.kill('SIGKILL');
  const exit = await exitOf(child);
  await out.closed;
  expect(exit.signal).toBe('SIGKILL');
  stats.kills += 1;
  for (const line of out.lines) if (line.startsWith('ack ')) lane.acked.add(Number(line.slice(4)));
  lane.killedPids.add(child.pid ?? 0);
  const open = await checkInvariants(lane, stats, count % 2 === 1);
  stats.interruptedTaskLives += open;
  if (open > 0) stats.killsMidTask += 1;
}

/** The lives of one lane, each next host loading while the current one lives. */
async function runLane(lane: Lane, lives: number, stats: KillStats, abort: { failed: boolean }): Promise<void> {
  let next: Host | undefined = prestart(lane, 1);
  for (let n = 1; next !== undefined; n += 1) {
    const host: Host = next;
    next = n < lives && !abort.failed ? prestart(lane, n + 1) : undefined;
    try {
      await life(lane, host, stats);
    } catch (failure) {
      abort.failed = true;
      host.child.kill('SIGKILL');
      next?.child.kill('SIGKILL');
      throw failure;
    }
  }
}

/** After the last kill: a fresh pipeline, worker, reaper and reconciler finish every task of the lane. */
async function recover(lane: Lane, issues: number): Promise<void> {
  await lane.store?.close();
  const world = buildWorld(lane.db, lane.dir, { graceSeconds: 0 });
  // a tracker poll would replay the issues the last life never acknowledged
  for (let n = 1; n <= issues; n += 1) {
    const handled = await world.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: crashIssue(n) });
    expect(handled.ok).toBe(true);
  }
  world.worker.start();
  world.reaper.start();
  world.reconciler.start();
  const deadline = Date.now() + 45_000;
  for (;;) {
    const tasks = (await world.store.listTasks({})).unwrapOr([]);
    const jobs = (await world.store.listJobs({ statuses: ['queued', 'running'] })).unwrapOr([]);
    const settled = tasks.every((t) => TERMINAL_TASK_STATUSES.includes(t.snapshot.status)) && jobs.length === 0;
    if (settled || Date.now() > deadline) break;
    await sleep(100);
  }
  await world.worker.stop();
  await world.reaper.stop();
  await world.reconciler.stop();
  // one last reconciler pass frees what a task that is over still held
  await world.reconciler.tick();

  const tasks = (await world.store.listTasks({})).unwrapOr([]);
  expect(tasks).toHaveLength(issues);
  expect(tasks.filter((t) => t.snapshot.status !== 'done').map((t) => [t.issueId, t.snapshot])).toEqual([]);
  expect((await world.store.listJobs({ statuses: ['queued', 'running'] })).unwrapOr([])).toEqual([]);
  // no lease held by a dead holder (or by anyone)
  expect((await world.store.listLeases()).unwrapOr([])).toEqual([]);
  // every third task's developer failed once and every task was sent back once by review: both repaired
  const sample = tasks.find((t) => t.issueId === 'I3');
  const sampleJobs = (await world.store.listJobs({ taskId: sample?.id ?? '' })).unwrapOr([]);
  expect(sampleJobs.filter((j) => j.stage === 'development').length).toBeGreaterThanOrEqual(3);
  await world.store.close();
}

describe('crash test', () => {
  it('hosts SIGKILLed at random points of many task lives lose nothing; restarted daemons finish every task', async () => {
    const started = Date.now();
    const lives = hostScript === undefined ? LIVES_PER_LANE_WITHOUT_BUNDLE : LIVES_PER_LANE;
    const stats: KillStats = {
      kills: 0,
      early: 0,
      leasesHeldAtKill: 0,
      leasesReclaimedByReaper: 0,
      interruptedTaskLives: 0,
      killsMidTask: 0,
    };
    const lanes = Array.from({ length: LANES }, (_, i) => newLane(`lane ${i + 1}`));
    // one failing lane stops the others, and the test reports it once they all stopped
    const abort = { failed: false };
    const ran = await Promise.allSettled(lanes.map((lane) => runLane(lane, lives, stats, abort)));
    for (const outcome of ran) if (outcome.status === 'rejected') throw outcome.reason;
    const killsMs = Date.now() - started;
    if (hostScript !== undefined) expect(stats.kills).toBeGreaterThanOrEqual(MIN_KILLS);
    // the kills really landed while tasks were mid-life and while merge leases were held
    expect(stats.killsMidTask).toBeGreaterThan(stats.kills / 2);
    if (hostScript !== undefined) expect(stats.leasesHeldAtKill).toBeGreaterThan(0);

    await Promise.all(lanes.map((lane) => recover(lane, lives)));
    console.info(
      `crash test: ${stats.kills} host SIGKILLs (${stats.early} before ready) over ${LANES} lanes in ${killsMs} ms; ` +
        `${stats.killsMidTask} kills hit tasks mid-life (${stats.interruptedTaskLives} task lives interrupted), ${stats.leasesHeldAtKill} merge leases held by a killed host ` +
        `(${stats.leasesReclaimedByReaper} reclaimed by a reaper at once, the rest by the next hosts); ` +
        `recovery ${Date.now() - started - killsMs} ms`,
    );
  }, 120_000);
});
