import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createProcessProbe, TERMINAL_TASK_STATUSES, taskOfLeaseHolder } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
import { buildWorld, crashIssue, createMain } from './fixtures/two-host-world.js';
import { bundleScript } from './support/bundle.js';
import { lineReader } from './support/child.js';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/database.js';

/**
 * Two hosts, one PostgreSQL: host B runs the whole time; host A is SIGKILLed at
 * a random point of each of its lives (while it opens the store, while agents run,
 * between a saved transition and its effects, while it holds the merge lease) and
 * started again. Life k of A brings issue k and replays the webhooks of the few
 * before it; B's reaper fails A's dead jobs, its reconciler re-runs what A lost,
 * its worker runs the retries. Merge gates sometimes stall past their lease (a
 * frozen host); the fenced stand-in for main refuses such late writes.
 */
const LIVES = 30;
const REPLAYED = 3;
const STALL_CHANCE = 0.15;
const EARLY_KILL_SHARE = 0.15;
const MAX_DELAY_AFTER_READY_MS = 400;

const server = serverUrl();
const db: TestDatabase | undefined = server === undefined ? undefined : await createTestDatabase(server);
const url = db?.url ?? '';
const schema = 'twohost';
const work = mkdtempSync(join(tmpdir(), 'conveyor-two-host-'));
const probe = createProcessProbe();
let hostScript: string | undefined;
let observer: PostgresStore | undefined;

beforeAll(async () => {
  if (db === undefined) return;
  hostScript = await bundleScript(
    fileURLToPath(new URL('./fixtures/two-host-host.ts', import.meta.url)),
    join(work, 'two-host-host.mjs'),
  );
  const opened = await createPostgresStore({ connectionString: url, schema });
  if (!opened.ok) throw opened.error;
  observer = opened.value;
  await createMain(url, schema);
}, 60_000);

afterAll(async () => {
  await observer?.close();
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

function startHost(from: number, to: number): ChildProcess {
  const args = [url, schema, String(from), String(to), String(STALL_CHANCE)];
  const child =
    hostScript === undefined
      ? spawn(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(new URL('./fixtures/two-host-host.ts', import.meta.url)), ...args],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        )
      : spawn(process.execPath, [hostScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child;
}

interface MainRow {
  id: number;
  task_id: string;
  token: number;
  holder: string;
}

async function mainRows(): Promise<MainRow[]> {
  const rows = (await db?.sql(`SELECT id, task_id, token, holder FROM "${schema}".main ORDER BY id`))?.rows ?? [];
  return rows.map((r) => ({
    id: Number(r.id),
    task_id: String(r.task_id),
    token: Number(r.token),
    holder: String(r.holder),
  }));
}

/** The invariants, read while host B keeps working. */
async function checkInvariants(acked: Set<number>, killedPids: Set<number>): Promise<number> {
  const store = observer;
  if (!store) throw new Error('no observer');
  const tasks = (await store.listTasks({})).unwrapOr([]);
  const perIssue = new Map<string, number>();
  for (const t of tasks) perIssue.set(t.issueId, (perIssue.get(t.issueId) ?? 0) + 1);
  // no task lost, none doubled
  expect([...perIssue].filter(([, n]) => n > 1)).toEqual([]);
  expect([...acked].filter((n) => !perIssue.has(crashIssue(n).id))).toEqual([]);
  const jobs = (await store.listJobs({})).unwrapOr([]);
  // no two jobs for one step, at most one live job per task
  const perStep = new Map<string, number>();
  const livePerTask = new Map<string, number>();
  for (const j of jobs) {
    perStep.set(j.stepKey, (perStep.get(j.stepKey) ?? 0) + 1);
    if (j.status === 'queued' || j.status === 'running')
      livePerTask.set(j.taskId, (livePerTask.get(j.taskId) ?? 0) + 1);
  }
  expect([...perStep].filter(([, n]) => n > 1)).toEqual([]);
  expect([...livePerTask].filter(([, n]) => n > 1)).toEqual([]);
  // no two merges of one task, and main only ever saw growing tokens
  const merges = await mainRows();
  expect(new Set(merges.map((m) => m.task_id)).size).toBe(merges.length);
  for (let i = 1; i < merges.length; i += 1) expect(merges[i]?.token).toBeGreaterThan(merges[i - 1]?.token ?? 0);
  // a lease held by a killed host is held by a dead process, for one of its tasks
  for (const lease of (await store.listLeases()).unwrapOr([])) {
    const pid = Number(/:(\d+)\/task:/.exec(lease.holder)?.[1]);
    expect(tasks.some((t) => t.id === taskOfLeaseHolder(lease.holder))).toBe(true);
    if (killedPids.has(pid)) expect((await probe.isAlive(pid)).unwrapOr(true)).toBe(false);
  }
  return tasks.filter((t) => !TERMINAL_TASK_STATUSES.includes(t.snapshot.status)).length;
}

describe.skipIf(db === undefined)('two hosts, one PostgreSQL', () => {
  it('host A SIGKILLed at random points many times; host B takes over its work; nothing is lost or doubled', async () => {
    const started = Date.now();
    const survivor = startHost(1, 0);
    const survivorLines = lineReader(survivor);
    expect(await survivorLines.next()).toBe('ready');
    const acked = new Set<number>();
    const killedPids = new Set<number>();
    let kills = 0;
    let midTask = 0;
    let leasesHeldAtKill = 0;
    try {
      for (let life = 1; life <= LIVES; life += 1) {
        const host = startHost(Math.max(1, life - REPLAYED + 1), life);
        const lines: string[] = [];
        let buffer = '';
        host.stdout?.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          const parts = buffer.split('\n');
          buffer = parts.pop() ?? '';
          lines.push(...parts);
        });
        if (Math.random() < EARLY_KILL_SHARE) {
          // while it connects, migrates (checks) the schema and starts its daemons
          await sleep(50 + Math.floor(Math.random() * 300));
        } else {
          for (let i = 0; i < 600 && !lines.includes('ready') && host.exitCode === null; i += 1) await sleep(10);
          expect(lines, `life ${life}: host A never got ready`).toContain('ready');
          await sleep(Math.floor(Math.random() * MAX_DELAY_AFTER_READY_MS));
        }
        expect(host.exitCode, `life ${life}: host A exited by itself`).toBeNull();
        host.kill('SIGKILL');
        await new Promise<void>((resolve) => {
          if (host.exitCode !== null || host.signalCode !== null) resolve();
          else host.once('exit', () => resolve());
        });
        kills += 1;
        killedPids.add(host.pid ?? 0);
        for (const line of [...lines, buffer]) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
        leasesHeldAtKill += ((await observer?.listLeases())?.unwrapOr([]) ?? []).length;
        if ((await checkInvariants(acked, killedPids)) > 0) midTask += 1;
      }
      // the tracker poll replays every issue (some webhooks were never acknowledged); host B finishes all
      const replay = await buildWorld(url, schema, { graceSeconds: 0.3, stallChance: 0 });
      for (let n = 1; n <= LIVES; n += 1) {
        const handled = await replay.pipeline.handle({
          kind: 'tracker.issue',
          action: 'created',
          issue: crashIssue(n),
        });
        expect(handled.ok).toBe(true);
      }
      await replay.close();
      const deadline = Date.now() + 90_000;
      for (;;) {
        const tasks = (await observer?.listTasks({}))?.unwrapOr([]) ?? [];
        const live = (await observer?.listJobs({ statuses: ['queued', 'running'] }))?.unwrapOr([]) ?? [];
        if (
          (tasks.length === LIVES && tasks.every((t) => t.snapshot.status === 'done') && live.length === 0) ||
          Date.now() > deadline
        )
          break;
        await sleep(100);
      }
      expect(survivor.exitCode, 'host B died').toBeNull();
    } finally {
      survivor.kill('SIGKILL');
    }

    const tasks = (await observer?.listTasks({}))?.unwrapOr([]) ?? [];
    expect(tasks).toHaveLength(LIVES);
    expect(tasks.filter((t) => t.snapshot.status !== 'done').map((t) => [t.issueId, t.snapshot])).toEqual([]);
    expect((await observer?.listJobs({ statuses: ['queued', 'running'] }))?.unwrapOr([])).toEqual([]);
    await checkInvariants(acked, killedPids);
    // every task merged exactly once, in token order
    const merges = await mainRows();
    expect(merges.map((m) => m.task_id).sort()).toEqual(tasks.map((t) => t.id).sort());
    const fenced = Number((await db?.sql(`SELECT count(*) AS n FROM "${schema}".fenced`))?.rows[0]?.n ?? 0);
    // both hosts did work: B took over jobs of the killed A
    const byB = merges.filter((m) => m.holder.includes(`:${survivor.pid}/`)).length;
    expect(kills).toBe(LIVES);
    expect(midTask).toBeGreaterThan(LIVES / 3);
    console.info(
      `two-host crash test: ${kills} SIGKILLs of host A (${midTask} with tasks mid-life, ${leasesHeldAtKill} merge leases held at a kill), ` +
        `${merges.length} merges (${byB} by host B), ${fenced} late merges fenced out; ${Date.now() - started} ms`,
    );
  }, 240_000);
});
