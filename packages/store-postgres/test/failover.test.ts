import { setTimeout as sleep } from 'node:timers/promises';
import {
  createReaper,
  createReconciler,
  DEFAULT_STAGES,
  type Logger,
  ok,
  type ReconcilerOptions,
  systemClock,
} from '@conveyor/core';
import {
  createStubWorker,
  findPostgresBinDir,
  newJob,
  newTask,
  POSTGRES_MISSING_MESSAGE,
  startThrowawayPostgres,
  value,
} from '@conveyor/testkit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
import { controlServer } from './support/server-control.js';

/**
 * A server restart (the failover of a single primary: every backend dies, the
 * port refuses connections, then the same server is back) while a worker, a
 * reaper and a reconciler run jobs against the store. This file starts a server
 * of its own, since restarting the one every other file shares would fail them.
 */
const bin = findPostgresBinDir();
// A server given by CONVEYOR_PG_URL cannot be restarted from here: this case needs the binaries.
if (bin === undefined) console.warn(`the restart test needs PostgreSQL binaries: ${POSTGRES_MISSING_MESSAGE}`);
const server = bin === undefined ? undefined : await startThrowawayPostgres();
const url = server?.url ?? '';

afterAll(async () => {
  await server?.stop();
});

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields === undefined ? {} : { fields }) });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

/** A job of `taskId` at step `stepKey`, available (and enqueued) at `at`. */
const jobAt = (taskId: string, stepKey: string, at: number) =>
  newJob(taskId, { stepKey, availableAt: at, now: at, input: { description: stepKey } });

/** Polls `check` until it holds; the bound is a test timeout, never an assertion on how fast. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function adminCount(text: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(text)).rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

const listening = (): Promise<number> =>
  adminCount(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'conveyor-listen' AND query LIKE 'LISTEN%'",
  );

describe.skipIf(server === undefined)('postgres store across a server restart', () => {
  it('daemons survive the outage, calls come back as Result errors, the pool and LISTEN reconnect, no job is lost or run twice', async () => {
    const control = await controlServer(url);
    let down = false;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const lines: LogLine[] = [];
    const logger = recordingLogger(lines);
    const opened = await createPostgresStore({
      connectionString: url,
      schema: 'failover',
      connectTimeoutMs: 1_000,
      logger,
    });
    if (!opened.ok) throw opened.error;
    const store: PostgresStore = opened.value;
    try {
      const now = Date.now();
      const task = value(await store.createTaskIfAbsent(newTask({ issueId: 'F-1', now }))).task;
      const JOBS = 9;
      for (let i = 0; i < JOBS; i += 1) value(await store.enqueueJob(jobAt(task.id, `f:${i}`, now + i)));

      // Fake processes: those started before the outage run until the test opens the gate.
      const pids = new Map<number, string>();
      const exited = new Set<string>();
      let gate: Promise<void> | undefined;
      let openGate = (): void => {};
      gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      let nextPid = 900_000;
      const pipeline = {
        advance: async (taskId: string) => ok({ task: { ...task, id: taskId }, changed: false, failedEffects: [] }),
      };
      const workerFor = (intervalMs: number, wake: boolean) =>
        createStubWorker({
          store,
          logger,
          maxConcurrency: 3,
          intervalMs,
          ...(wake ? { wake: (wakeUp: () => void) => store.onJobAvailable(wakeUp) } : {}),
          pidOf: (jobId) => {
            nextPid += 1;
            pids.set(nextPid, jobId);
            return nextPid;
          },
          exitOf: (jobId) =>
            (gate ?? Promise.resolve()).then(() => {
              exited.add(jobId);
              return { exitCode: 0, signal: null, timedOut: false };
            }),
        });
      // a host's ordinary worker, polling
      const polling = workerFor(100, false);
      // an idle worker: no poll after its first, so every later claim of it is a wake-up
      const idle = workerFor(3_600_000, true);
      const launched = (): string[] => [...polling.launched, ...idle.launched];
      const workers = [polling, idle];
      // a worker's end of a job may fail in the outage: the reaper then flips it from the exit record
      const reaper = createReaper({
        store,
        pipeline,
        probe: { isAlive: async (pid) => ok(!exited.has(pids.get(pid) ?? '')) },
        exitCodeOf: (job) => (exited.has(job.id) ? 0 : undefined),
        watched: (job) => workers.some((w) => w.owns(job.id)),
        clock: systemClock,
        logger,
        intervalMs: 100,
      });
      const reconcilerPipeline = {
        stages: DEFAULT_STAGES,
        advance: async () => ok({ task, changed: false, failedEffects: [] }),
        settleDecision: async () => ok({ action: 'silent' }),
        enqueueCurrentStep: async () => ok(undefined),
        handle: async () => ok(undefined),
      } as unknown as ReconcilerOptions['pipeline'];
      const reconciler = createReconciler({
        store,
        pipeline: reconcilerPipeline,
        clock: systemClock,
        logger,
        intervalMs: 100,
        defaultGraceSeconds: 86_400,
        graceSeconds: Object.fromEntries(DEFAULT_STAGES.stages.map((s) => [s.id, 86_400])),
      });
      const heard: (number | undefined)[] = [];
      const stopHearing = store.onJobAvailable((e) => heard.push(e.availableAt));
      for (const d of [...workers, reaper, reconciler]) d.start();

      // three jobs run (the global limit), then the server goes away under them
      await until('three jobs running', () => launched().length === 3);
      await until('the listener', async () => (await listening()) > 0);
      const firstRound = launched();
      await control.stop();
      down = true;

      // every call in the outage resolves to a retryable Result error
      const during = await Promise.all([
        store.getTask(task.id),
        store.claimJobs({ maxConcurrency: 3, now: Date.now() }),
        store.listJobs({ statuses: ['running'] }),
        store.enqueueJob(jobAt(task.id, 'during-outage', Date.now())),
        store.acquireLease({ name: 'merge:acme/web', holder: 'h', ttlMs: 1_000, now: Date.now() }),
      ]);
      for (const r of during) {
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(['network', 'timeout']).toContain(r.error.code);
          expect(r.error.retryable).toBe(true);
        }
      }
      // the jobs end in the outage: the workers cannot record it, and their claims fail
      openGate();
      gate = undefined;
      await until('the workers let go of their jobs', () => workers.every((w) => w.running() === 0));
      // the worker's and the reaper's ticks fail as a whole; the reconciler counts what it could not do
      await until(
        'daemon ticks failing',
        () =>
          polling.status().lastError !== undefined &&
          reaper.status().lastError !== undefined &&
          (reconciler.status().last.failed ?? 0) > 0,
      );
      expect(launched()).toHaveLength(3);

      await control.start();
      down = false;
      // the reaper records the ends the workers lost; the workers run the rest
      await until('every job done', async () => {
        const r = await store.listJobs({});
        return r.ok && r.value.length === JOBS && r.value.every((j) => j.status === 'succeeded');
      });
      // the reaper recorded the ends the workers could not
      for (const id of firstRound) expect(value(await store.getJob(id))?.reason).toMatch(/no worker recorded it/);
      await polling.stop();
      await until('the idle worker idle', () => idle.running() === 0);
      await until('the listener is back', async () => (await listening()) > 0);

      // an enqueue after the restart wakes the idle worker: its next poll is an hour away
      const ticksBefore = idle.status().ticks;
      const late = value(await store.enqueueJob(jobAt(task.id, 'after-restart', Date.now())));
      await until('the late job started', () => launched().includes(late.job.id));
      expect(idle.launched).toContain(late.job.id);
      expect(polling.launched).not.toContain(late.job.id);
      expect(heard).toContain(late.job.availableAt);
      expect(idle.status().ticks).toBeGreaterThan(ticksBefore);
      await until('the late job done', async () => value(await store.getJob(late.job.id))?.status === 'succeeded');

      await Promise.all([idle.stop(), reaper.stop(), reconciler.stop()]);
      stopHearing();

      // nothing lost, nothing run twice, nothing written by the calls that failed
      const jobs = value(await store.listJobs({}));
      expect(jobs).toHaveLength(JOBS + 1);
      expect(jobs.every((j) => j.status === 'succeeded' && j.exitCode === 0)).toBe(true);
      expect(launched()).toHaveLength(JOBS + 1);
      expect(new Set(launched()).size).toBe(JOBS + 1);
      expect(jobs.some((j) => j.stepKey === 'during-outage')).toBe(false);
      expect(value(await store.getLease('merge:acme/web'))).toBeUndefined();
      // the daemons carried on after failing ticks, and nothing escaped as a rejection
      for (const d of [...workers, reaper, reconciler]) {
        expect(d.status().running).toBe(false);
        expect(d.status().ticks).toBeGreaterThan(1);
      }
      expect(lines.some((l) => l.message.startsWith('the LISTEN connection was lost'))).toBe(true);
      expect(lines.some((l) => l.message === 'tick failed')).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      if (down) await control.start();
      process.off('unhandledRejection', onUnhandled);
      await store.close();
    }
  }, 120_000);
});
