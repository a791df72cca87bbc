import type { Job, Store } from '@conveyor/core';
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, queueProjectJobs as queue, value } from './conformance-kit.js';

function countByProject(jobs: readonly Job[], projectOf: ReadonlyMap<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    const project = projectOf.get(job.id) ?? '?';
    counts.set(project, (counts.get(project) ?? 0) + 1);
  }
  return counts;
}

/**
 * The fair-claim cases, for stores that declare them
 * ({@link StoreConformanceOptions.fairClaims},
 * {@link StoreConformanceOptions.openWithProjectLimits}): a busy project never
 * delays another project's first job by more than one claim round, rounds take
 * the first job of every project before the second of any, and a per-project
 * limit holds under concurrent claimers.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function fairClaimConformance(ctx: ConformanceContext): void {
  const { fairClaims, openWithProjectLimits } = ctx.options;
  // Stores without the capability claim in global (availableAt, id) order only.
  describe.skipIf(fairClaims !== true)('fair claims', () => {
    it("one project's 100 queued jobs do not delay another project's one job past the first round", async () => {
      const store = ctx.store();
      const busy = await queue(store, 'busy', 100, 100);
      // the quiet project's job is the newest of all
      const [lonely] = await queue(store, 'quiet', 1, 5_000);
      const round = value(await store.claimJobs({ maxConcurrency: 4, now: 10_000 }));
      expect(round).toHaveLength(4);
      expect(round.map((j) => j.id)).toContain(lonely?.id);
      // the busy project's oldest, in order
      expect(round.filter((j) => j.id !== lonely?.id).map((j) => j.id)).toEqual(busy.slice(0, 3).map((j) => j.id));
    });

    it('takes the first job of every project before the second of any, in claim order', async () => {
      const store = ctx.store();
      const a = await queue(store, 'a', 3, 100);
      const b = await queue(store, 'b', 3, 50);
      const c = await queue(store, 'c', 1, 900);
      const ids = (jobs: Job[], i: number) => jobs[i]?.id;
      const round = value(await store.claimJobs({ maxConcurrency: 5, now: 10_000 }));
      // round 1 by availableAt: b0 (50), a0 (100), c0 (900); round 2: b1 (51), a1 (101)
      expect(round.map((j) => j.id)).toEqual([ids(b, 0), ids(a, 0), ids(c, 0), ids(b, 1), ids(a, 1)]);
      // a job not yet available waits, whatever its project's rank
      const later = await queue(store, 'd', 1, 20_000);
      value(await store.finishJob({ jobId: round[0]?.id ?? '', status: 'succeeded', exitCode: 0, now: 10_001 }));
      const next = value(await store.claimJobs({ maxConcurrency: 5, now: 10_002 }));
      expect(next.map((j) => j.id)).not.toContain(later[0]?.id);
      expect(next).toHaveLength(1);
    });
  });

  describe.skipIf(openWithProjectLimits === undefined)('per-project limits', () => {
    const withLimits = async <T>(
      limits: { projectLimits?: Record<string, number>; defaultProjectLimit?: number },
      body: (stores: Store[]) => Promise<T>,
      count = 1,
    ): Promise<T> => {
      const stores: Store[] = [];
      try {
        for (let i = 0; i < count; i += 1) {
          const open = openWithProjectLimits;
          if (open === undefined) throw new Error('openWithProjectLimits is not set');
          stores.push(await open(limits, stores[0]));
        }
        return await body(stores);
      } finally {
        for (const s of new Set(stores)) await s.close();
        const [first] = stores;
        if (first !== undefined) await ctx.options.cleanup?.(first);
      }
    };

    it('never runs more jobs of a project than its limit, and fills the other slots with other projects', async () => {
      await withLimits({ projectLimits: { a: 2 }, defaultProjectLimit: 1 }, async ([store]) => {
        if (!store) throw new Error('no store');
        const projectOf = new Map<string, string>();
        for (const p of ['a', 'b', 'c']) for (const j of await queue(store, p, 5)) projectOf.set(j.id, p);
        const first = value(await store.claimJobs({ maxConcurrency: 10, now: 10_000 }));
        expect(Object.fromEntries(countByProject(first, projectOf))).toEqual({ a: 2, b: 1, c: 1 });
        expect(value(await store.claimJobs({ maxConcurrency: 10, now: 10_000 }))).toEqual([]);
        const [aJob] = first;
        value(await store.finishJob({ jobId: aJob?.id ?? '', status: 'succeeded', exitCode: 0, now: 10_001 }));
        const refill = value(await store.claimJobs({ maxConcurrency: 10, now: 10_002 }));
        expect(refill.map((j) => projectOf.get(j.id))).toEqual(['a']);
      });
    });

    it('a project with limit 0 is never claimed', async () => {
      await withLimits({ projectLimits: { paused: 0 } }, async ([store]) => {
        if (!store) throw new Error('no store');
        const paused = await queue(store, 'paused', 2);
        const open = await queue(store, 'open', 2);
        const claimed = value(await store.claimJobs({ maxConcurrency: 10, now: 10_000 }));
        expect(claimed.map((j) => j.id).sort()).toEqual(open.map((j) => j.id).sort());
        for (const j of paused) expect(value(await store.getJob(j.id))?.status).toBe('queued');
      });
    });

    it('keeps the limits under concurrent claimers on two connections', async () => {
      await withLimits(
        { projectLimits: { a: 2, b: 3 }, defaultProjectLimit: 1 },
        async (stores) => {
          const [first] = stores;
          if (!first) throw new Error('no store');
          const projectOf = new Map<string, string>();
          for (const p of ['a', 'b', 'c', 'd']) for (const j of await queue(first, p, 8)) projectOf.set(j.id, p);
          const claims = await Promise.all(
            stores.flatMap((s) => Array.from({ length: 6 }, () => s.claimJobs({ maxConcurrency: 6, now: 10_000 }))),
          );
          const claimed = claims.flatMap(value);
          expect(new Set(claimed.map((j) => j.id)).size).toBe(claimed.length);
          const running = value(await first.listJobs({ statuses: ['running'] }));
          expect(running.map((j) => j.id).sort()).toEqual(claimed.map((j) => j.id).sort());
          // a: 2, b: 3, c: 1, d: 1 = 7 allowed by the projects, 6 by the global limit
          expect(running).toHaveLength(6);
          const counts = countByProject(running, projectOf);
          expect(counts.get('a') ?? 0).toBeLessThanOrEqual(2);
          expect(counts.get('b') ?? 0).toBeLessThanOrEqual(3);
          expect(counts.get('c') ?? 0).toBeLessThanOrEqual(1);
          expect(counts.get('d') ?? 0).toBeLessThanOrEqual(1);
          expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
        },
        2,
      );
    });
  });
}
