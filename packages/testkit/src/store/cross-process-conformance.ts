import type { NewTask, Store, Task } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConformanceContext, createTaskIn, newJob, newTask, value } from './conformance-kit.js';

/**
 * The cross-process cases (when `options.spawnRacers` is given): one task, one finisher and the concurrency limit hold when real processes race on the same backing state.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function crossProcessConformance(ctx: ConformanceContext): void {
  describe('racing processes', () => {
    let store: Store;
    beforeEach(() => {
      store = ctx.store();
    });
    const createTask = (overrides: Partial<NewTask> = {}): Promise<Task> => createTaskIn(store, overrides);
    const { options } = ctx;
    const racers = options.racers ?? 4;
    const racerTimeout = { timeout: options.racerTimeoutMs ?? 120_000 };

    describe('racing processes', () => {
      it('creates exactly one task when several processes race on one issue', racerTimeout, async ({ skip }) => {
        // Only stores shared between processes can race across them; their test file provides the racers.
        if (!options.spawnRacers) return skip();
        const input = newTask({ issueId: 'XPROC-1' });
        const outcomes = await options.spawnRacers(store, { kind: 'createTaskIfAbsent', input }, racers);
        expect(outcomes).toHaveLength(racers);
        for (const o of outcomes) expect(o.error).toBeUndefined();
        expect(outcomes.filter((o) => o.created)).toHaveLength(1);
        const listed = value(await store.listTasks({}));
        expect(listed).toHaveLength(1);
        expect(new Set(outcomes.map((o) => o.taskId))).toEqual(new Set([listed[0]?.id]));
      });

      it('lets exactly one of several processes win the terminal flip', racerTimeout, async ({ skip }) => {
        // Only stores shared between processes can race across them; their test file provides the racers.
        if (!options.spawnRacers) return skip();
        const task = await createTask();
        const job = value(await store.enqueueJob(newJob(task.id))).job;
        value(await store.claimJobs({ maxConcurrency: 1, now: 1_000 }));
        const outcomes = await options.spawnRacers(store, { kind: 'finishJob', jobId: job.id, now: 2_000 }, racers);
        expect(outcomes).toHaveLength(racers);
        for (const o of outcomes) expect(o.error).toBeUndefined();
        const winners = outcomes.filter((o) => o.won);
        expect(winners).toHaveLength(1);
        const stored = value(await store.getJob(job.id));
        expect(stored).toMatchObject({
          status: 'succeeded',
          reason: `racer ${winners[0]?.index}`,
          exitCode: winners[0]?.index,
        });
      });
      it('never exceeds maxConcurrency when several processes claim at once', racerTimeout, async ({ skip }) => {
        // Only stores shared between processes can race across them; their test file provides the racers.
        if (!options.spawnRacers) return skip();
        const task = await createTask();
        for (let i = 0; i < racers * 3; i += 1) value(await store.enqueueJob(newJob(task.id, { stepKey: `x${i}` })));
        const max = racers + 1;
        const outcomes = await options.spawnRacers(
          store,
          { kind: 'claimJobs', maxConcurrency: max, now: 2_000 },
          racers,
        );
        expect(outcomes).toHaveLength(racers);
        for (const o of outcomes) expect(o.error).toBeUndefined();
        const claimed = outcomes.flatMap((o) => o.claimedJobIds ?? []);
        expect(claimed).toHaveLength(max);
        expect(new Set(claimed).size).toBe(max);
        const running = value(await store.listJobs({ statuses: ['running'] })).map((j) => j.id);
        expect([...claimed].sort()).toEqual(running);
      });
    });
  });
}
