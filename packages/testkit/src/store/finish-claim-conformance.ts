import { completeStore, type Job, type Store, type StoreBackend } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConformanceContext, createTaskIn, failure, newJob, value } from './conformance-kit.js';

/** The store as a backend without `finishAndClaim`, so `completeStore` falls back for it. */
function withoutFinishAndClaim(store: Store): StoreBackend {
  const backend: Record<string, unknown> = {};
  for (const key of Object.keys(store) as (keyof Store)[]) {
    const member = store[key];
    if (typeof member !== 'function' || key === 'finishAndClaim') continue;
    backend[key] = (member as (...args: unknown[]) => unknown).bind(store);
  }
  return backend as unknown as StoreBackend;
}

/**
 * The `finishAndClaim` cases (the optional fast path of `JobStore`): the flip
 * frees a slot the claim fills, the limit holds, of racing finishers exactly
 * one wins, a finished job stays finished. Run against the store's own method
 * when it has one, and always against `completeStore`'s fallback over the
 * store. Run by {@link storeConformance}.
 */
export function finishAndClaimConformance(ctx: ConformanceContext): void {
  describe('JobStore.finishAndClaim', () => {
    const variants = [
      // a store without the fast path has only the fallback to prove
      {
        name: "the store's own",
        make: (store: Store): Store | undefined => (store.finishAndClaim ? store : undefined),
      },
      { name: "completeStore's fallback", make: (store: Store): Store => completeStore(withoutFinishAndClaim(store)) },
    ];
    for (const variant of variants) {
      describe(variant.name, () => {
        let base: Store;
        let store: Store | undefined;
        beforeEach(() => {
          base = ctx.store();
          store = variant.make(base);
        });

        async function queued(count: number, now = 1_000): Promise<Job[]> {
          const task = await createTaskIn(base, { issueId: `FC-${Math.random().toString(36).slice(2)}` });
          const jobs: Job[] = [];
          for (let i = 1; i <= count; i += 1) {
            jobs.push(
              value(await base.enqueueJob(newJob(task.id, { stepKey: `${task.id}:${i}`, availableAt: now + i, now })))
                .job,
            );
          }
          return jobs;
        }
        const finishOf = (jobId: string, reason = 'done') =>
          ({ jobId, status: 'succeeded', exitCode: 0, reason, now: 5_000 }) as const;

        it('flips the job and claims into the slot it frees', async (t) => {
          if (!store?.finishAndClaim) return t.skip();
          const [a, b, c] = await queued(3);
          expect(value(await base.claimJobs({ maxConcurrency: 1, now: 2_000 })).map((j) => j.id)).toEqual([a?.id]);
          const next = value(
            await store.finishAndClaim({ finish: finishOf(a?.id ?? ''), claim: { maxConcurrency: 1, now: 5_000 } }),
          );
          expect(next.finished.won).toBe(true);
          expect(next.finished.job).toMatchObject({ id: a?.id, status: 'succeeded', exitCode: 0, reason: 'done' });
          expect(next.claimed.map((j) => [j.id, j.status])).toEqual([[b?.id, 'running']]);
          expect(value(await base.getJob(c?.id ?? ''))?.status).toBe('queued');
        });

        it('never claims over maxConcurrency: the other running jobs count', async (t) => {
          if (!store?.finishAndClaim) return t.skip();
          const [a, b, c] = await queued(4);
          value(await base.claimJobs({ maxConcurrency: 2, now: 2_000 }));
          const next = value(
            await store.finishAndClaim({ finish: finishOf(a?.id ?? ''), claim: { maxConcurrency: 2, now: 5_000 } }),
          );
          expect(next.claimed.map((j) => j.id)).toEqual([c?.id]);
          // b and c run: a limit of 1 leaves no slot after b's flip either
          const full = value(
            await store.finishAndClaim({ finish: finishOf(b?.id ?? ''), claim: { maxConcurrency: 1, now: 5_000 } }),
          );
          expect(full.finished.won).toBe(true);
          expect(full.claimed).toEqual([]);
          expect(value(await base.listJobs({ statuses: ['running'] })).map((j) => j.id)).toEqual([c?.id]);
          expect(
            failure(
              await store.finishAndClaim({ finish: finishOf(c?.id ?? ''), claim: { maxConcurrency: -1, now: 1 } }),
            ).code,
          ).toBe('invalid_input');
          expect(value(await base.getJob(c?.id ?? ''))?.status).toBe('running');
        });

        it('of racing finishers exactly one wins, and the claims together stay within the limit', async (t) => {
          if (!store?.finishAndClaim) return t.skip();
          const jobs = await queued(6);
          const [a] = value(await base.claimJobs({ maxConcurrency: 1, now: 2_000 }));
          const racers = await Promise.all([
            store.finishAndClaim({
              finish: finishOf(a?.id ?? '', 'racer 0'),
              claim: { maxConcurrency: 1, now: 5_000 },
            }),
            store.finishAndClaim({
              finish: finishOf(a?.id ?? '', 'racer 1'),
              claim: { maxConcurrency: 1, now: 5_000 },
            }),
            base.finishJob({ ...finishOf(a?.id ?? '', 'racer 2'), status: 'failed' }),
            store.finishAndClaim({
              finish: finishOf(a?.id ?? '', 'racer 3'),
              claim: { maxConcurrency: 1, now: 5_000 },
            }),
          ]);
          const flips = racers.map((r, i) => {
            const v = value(r as never) as { won?: boolean; finished?: { won: boolean }; claimed?: Job[] };
            return { i, won: v.finished?.won ?? v.won ?? false, claimed: v.claimed ?? [] };
          });
          expect(flips.filter((f) => f.won)).toHaveLength(1);
          const claimed = flips.flatMap((f) => f.claimed);
          expect(claimed).toHaveLength(1);
          expect(claimed[0]?.id).toBe(jobs[1]?.id);
          const stored = value(await base.getJob(a?.id ?? ''));
          const winner = flips.find((f) => f.won)?.i;
          expect(stored?.reason).toBe(`racer ${winner}`);
          expect(value(await base.listJobs({ statuses: ['running'] }))).toHaveLength(1);
        });

        it('leaves a finished job finished and a queued one queued; an unknown job is not_found', async (t) => {
          if (!store?.finishAndClaim) return t.skip();
          const [a, b] = await queued(3);
          value(await base.claimJobs({ maxConcurrency: 1, now: 2_000 }));
          value(
            await base.finishJob({ jobId: a?.id ?? '', status: 'failed', exitCode: 3, reason: 'first', now: 3_000 }),
          );
          const late = value(
            await store.finishAndClaim({
              finish: finishOf(a?.id ?? '', 'late'),
              claim: { maxConcurrency: 1, now: 5_000 },
            }),
          );
          expect(late.finished.won).toBe(false);
          expect(late.finished.job).toMatchObject({ id: a?.id, status: 'failed', exitCode: 3, reason: 'first' });
          // the slot a's first finish freed is claimed all the same, by the claim order
          expect(late.claimed.map((j) => j.id)).toEqual([b?.id]);
          const onQueued = value(
            await store.finishAndClaim({
              finish: finishOf(late.claimed[0]?.id ?? ''),
              claim: { maxConcurrency: 0, now: 5_000 },
            }),
          );
          expect(onQueued.finished.won).toBe(true);
          const [, , c] = await queued(3);
          const queuedFlip = value(
            await store.finishAndClaim({ finish: finishOf(c?.id ?? ''), claim: { maxConcurrency: 0, now: 5_000 } }),
          );
          expect(queuedFlip.finished.won).toBe(false);
          expect(queuedFlip.finished.job.status).toBe('queued');
          expect(queuedFlip.claimed).toEqual([]);
          const missing = failure(
            await store.finishAndClaim({
              finish: finishOf('job_000099999999'),
              claim: { maxConcurrency: 1, now: 5_000 },
            }),
          );
          expect(missing.code).toBe('not_found');
        });
      });
    }
  });
}
