import { describe, expect, it } from 'vitest';
import { createReconciler, createWorker } from '../src/daemons/index.js';
import type { Launcher } from '../src/ports/runtime.js';
import type { Store } from '../src/ports/store.js';
import type { Tracker } from '../src/ports/tracker.js';
import { ok } from '../src/result/result.js';
import { fakeTracker, harness, issue } from './helpers/harness.js';

/** A store whose `method` throws (not an err result: a dependency that breaks its contract). */
function throwingOn(store: Store, method: keyof Store, message = `${String(method)} exploded`): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === method) {
        return () => {
          throw new Error(message);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

const neverLaunch: Launcher = {
  launch: async () => {
    throw new Error('the launcher itself threw');
  },
};

describe('every daemon survives a throwing dependency (invariant 5)', () => {
  it('worker: a throwing store fails the tick, is recorded, and the next tick works', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    let broken = true;
    const store = new Proxy(h.store, {
      get(target, prop, receiver) {
        if (prop === 'claimJobs' && broken) {
          return () => {
            throw new Error('claim exploded');
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const launched: string[] = [];
    const worker = createWorker({
      store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      launcher: {
        launch: async (spec) => {
          launched.push(spec.jobId);
          return ok({
            pid: 4242,
            exited: Promise.resolve({ exitCode: 0, signal: null, timedOut: false }),
            kill: () => {},
          });
        },
      },
      commandFor: () => ({ command: 'true', args: [] }),
    });
    await expect(worker.tick()).resolves.toBeDefined();
    expect(worker.status().lastError).toContain('claim exploded');
    expect(launched).toEqual([]);

    broken = false;
    await worker.tick();
    await worker.idle();
    expect(launched).toHaveLength(1);
    const jobs = (await h.store.listJobs({})).unwrapOr([]);
    expect(jobs[0]?.status).toBe('succeeded');
  });

  it('worker: a launcher that throws fails that job (retried by the stage machine), never the loop', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const worker = createWorker({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      launcher: neverLaunch,
      commandFor: () => ({ command: 'true', args: [] }),
    });
    await expect(worker.tick()).resolves.toBeDefined();
    await worker.idle();
    const jobs = (await h.store.listJobs({})).unwrapOr([]);
    expect(jobs[0]?.status).toBe('failed');
    expect(jobs[0]?.reason ?? '').toMatch(/launch|threw/i);
    // the failed attempt was retried: a second job for the next step is queued
    expect(jobs.map((j) => j.status)).toEqual(['failed', 'queued']);
  });

  it('reconciler: a throwing store or tracker is recorded, and one bad task never stops the others', async () => {
    const h = harness();
    for (const id of ['1', '2'])
      await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue(id) });
    // Lose both tasks' jobs, as a crash between transition and enqueue would.
    const jobs = (await h.store.listJobs({})).unwrapOr([]);
    for (const job of jobs) await h.store.cancelQueuedJobs(job.taskId, 'lost in a crash', h.clock.now());
    h.clock.advance(3_600_000);

    const broken = createReconciler({
      store: throwingOn(h.store, 'listTasks'),
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
    });
    // Each part of the tick (poll, tasks, leases) is contained: the failure is counted and logged.
    const counts = await broken.tick();
    expect(counts.failed).toBeGreaterThanOrEqual(1);
    expect(h.logger.lines.some((l) => l.level === 'error' && JSON.stringify(l).includes('listTasks exploded'))).toBe(
      true,
    );

    const tracker: Tracker = {
      ...fakeTracker([]),
      listIssuesByState: async () => {
        throw new Error('tracker exploded');
      },
    };
    const tasks = (await h.store.listTasks({})).unwrapOr([]);
    const firstId = tasks[0]?.id ?? '';
    // The pipeline breaks for the first task only, whatever the reconciler asks of it.
    const pipeline = Object.fromEntries(
      Object.entries(h.pipeline).map(([name, value]) => [
        name,
        typeof value !== 'function'
          ? value
          : (...args: unknown[]) => {
              if (args[0] === firstId) throw new Error('this task is cursed');
              return (value as (...a: unknown[]) => unknown)(...args);
            },
      ]),
    ) as typeof h.pipeline;
    const reconciler = createReconciler({
      store: h.store,
      pipeline,
      clock: h.clock,
      logger: h.logger,
      tracker,
      pollStates: ['Todo'],
    });
    await expect(reconciler.tick()).resolves.toBeDefined();
    const queued = (await h.store.listJobs({ statuses: ['queued'] })).unwrapOr([]);
    expect(queued.map((j) => j.taskId)).toEqual([tasks[1]?.id]);
    expect(h.logger.lines.some((l) => l.level !== 'debug' && JSON.stringify(l).includes('cursed'))).toBe(true);
    expect(h.logger.lines.some((l) => JSON.stringify(l).includes('tracker exploded'))).toBe(true);
  });
});
