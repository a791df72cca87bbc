import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TERMINAL_TASK_STATUSES } from '../src/ports/domain.js';
import { buildWorld, crashIssue, type World } from './fixtures/crash-world.js';
import { exitOf, firstLine, fixture, runTs } from './helpers/node.js';
import { tempDirs } from './helpers/tmp.js';

const dirs = tempDirs('crash');
afterAll(() => dirs.cleanup());

/** Host lives; each adds `PER_LIFE` issues, so every kill lands in the middle of many task lives. */
const LIVES = 5;
const PER_LIFE = 30;
const MIN_INTERRUPTED_TASK_LIVES = 200;

async function checkInvariants(world: World, issues: number): Promise<{ open: number }> {
  const tasks = (await world.store.listTasks({})).unwrapOr([]);
  // no task lost: every issue whose webhook was handled has exactly one task
  expect(new Set(tasks.map((t) => t.issueId)).size).toBe(tasks.length);
  expect(tasks.length).toBeLessThanOrEqual(issues);
  const jobs = (await world.store.listJobs({})).unwrapOr([]);
  const keys = new Map<string, number>();
  for (const job of jobs) keys.set(job.stepKey, (keys.get(job.stepKey) ?? 0) + 1);
  // no second job for one step
  expect([...keys.values()].filter((n) => n > 1)).toEqual([]);
  for (const task of tasks) {
    // no job beyond the task's current step
    for (const job of jobs.filter((j) => j.taskId === task.id)) {
      expect(Number(job.stepKey.split(':')[1])).toBeLessThanOrEqual(task.snapshot.step);
    }
    const history = (await world.store.listHistory(task.id)).unwrapOr([]);
    expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
  }
  return { open: tasks.filter((t) => !TERMINAL_TASK_STATUSES.includes(t.snapshot.status)).length };
}

describe('crash test', () => {
  it('a host SIGKILLed at random points of many task lives loses nothing; restarted daemons finish every task', async () => {
    const dir = dirs.make();
    const db = `${dir}/conveyor.sqlite`;
    const started = Date.now();
    let interrupted = 0;
    let issues = 0;
    for (let life = 1; life <= LIVES; life += 1) {
      issues = life * PER_LIFE;
      const host = runTs(fixture('crash-host.ts'), [db, dir, String(issues)]);
      await firstLine(host);
      await sleep(50 + Math.floor(Math.random() * 700));
      host.kill('SIGKILL');
      const exit = await exitOf(host);
      expect(exit.signal).toBe('SIGKILL');
      const world = buildWorld(db, dir, { graceSeconds: 0 });
      const { open } = await checkInvariants(world, issues);
      interrupted += open;
      await world.store.close();
    }
    expect(interrupted).toBeGreaterThanOrEqual(MIN_INTERRUPTED_TASK_LIVES);
    const livesMs = Date.now() - started;

    // restart: a fresh pipeline + worker + reaper + reconciler in this process
    const world = buildWorld(db, dir, { graceSeconds: 0 });
    // the webhooks of the last life may not all have been delivered: replay them (a tracker poll would)
    for (let n = 1; n <= issues; n += 1) {
      await world.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: crashIssue(n) });
    }
    world.worker.start();
    world.reaper.start();
    world.reconciler.start();
    const deadline = Date.now() + 40_000;
    let open = Number.POSITIVE_INFINITY;
    while (open > 0 && Date.now() < deadline) {
      await sleep(100);
      open = (await checkInvariants(world, issues)).open;
    }
    await world.worker.stop();
    await world.reaper.stop();
    await world.reconciler.stop();

    console.info(
      `crash test: ${LIVES} host lives killed, ${interrupted} task lives interrupted in ${livesMs} ms; recovery ${Date.now() - started - livesMs} ms`,
    );
    const tasks = (await world.store.listTasks({})).unwrapOr([]);
    expect(tasks).toHaveLength(issues);
    expect(tasks.filter((t) => t.snapshot.status !== 'done').map((t) => [t.issueId, t.snapshot])).toEqual([]);
    const jobs = (await world.store.listJobs({ statuses: ['queued', 'running'] })).unwrapOr([]);
    expect(jobs).toEqual([]);
    // no lease held by a dead holder (or by anyone)
    expect((await world.store.listLeases()).unwrapOr([])).toEqual([]);
    // every third task's developer failed once and every task was rolled back once by review: both repaired
    const sample = tasks[2];
    const sampleJobs = (await world.store.listJobs({ taskId: sample?.id ?? '' })).unwrapOr([]);
    expect(sampleJobs.filter((j) => j.stage === 'development').length).toBeGreaterThanOrEqual(2);
    await world.store.close();
  }, 90_000);
});
