import { completeStore, type Store } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConformanceContext, failure, value, withoutExtras } from './conformance-kit.js';

/**
 * The `LeaseStore` cases: one live holder, strictly growing fencing tokens across holders, expiry and reclaim, holder-only release and renewal; and the `completeStore` fallback of `getLease`.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function leaseStoreConformance(ctx: ConformanceContext): void {
  describe('LeaseStore', () => {
    let store: Store;
    beforeEach(() => {
      store = ctx.store();
    });

    describe('leases', () => {
      it('grants a free lease and refuses it to others while it is live', async () => {
        const a = value(await store.acquireLease({ name: 'merge:web', holder: 'A', ttlMs: 1_000, now: 10_000 }));
        if (!a.acquired) throw new Error('A should have acquired');
        expect(a.lease).toMatchObject({ name: 'merge:web', holder: 'A', acquiredAt: 10_000, expiresAt: 11_000 });
        expect(a.lease.token).toBeGreaterThan(0);

        const b = value(await store.acquireLease({ name: 'merge:web', holder: 'B', ttlMs: 1_000, now: 10_999 }));
        expect(b).toEqual({ acquired: false, current: a.lease });
        const again = value(await store.acquireLease({ name: 'merge:web', holder: 'A', ttlMs: 1_000, now: 10_500 }));
        expect(again.acquired).toBe(false);
        expect(value(await store.getLease('merge:web'))).toEqual(a.lease);

        const other = value(await store.acquireLease({ name: 'merge:api', holder: 'B', ttlMs: 1_000, now: 10_999 }));
        expect(other.acquired).toBe(true);
        expect(value(await store.listLeases()).map((l) => l.name)).toEqual(['merge:api', 'merge:web']);
        expect(value(await store.getLease('nothing'))).toBeUndefined();
      });

      it('reads the same leases through the completeStore fallback of getLease', async () => {
        const fallback = completeStore(withoutExtras(store));
        expect(fallback.getLease).not.toBe(store.getLease);
        value(await store.acquireLease({ name: 'merge:a', holder: 'A', ttlMs: 1_000, now: 0 }));
        value(await store.acquireLease({ name: 'merge:b', holder: 'B', ttlMs: 1_000, now: 0 }));
        for (const name of ['merge:a', 'merge:b', 'merge:none']) {
          expect(value(await fallback.getLease(name))).toEqual(value(await store.getLease(name)));
        }
      });

      it('lets exactly one of many concurrent acquirers win', async () => {
        const results = (
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.acquireLease({ name: 'l', holder: `h${i}`, ttlMs: 5_000, now: 1_000 }),
            ),
          )
        ).map(value);
        const winners = results.filter((r) => r.acquired);
        expect(winners).toHaveLength(1);
        const held = value(await store.getLease('l'));
        const winner = winners[0];
        expect(winner?.acquired && winner.lease).toEqual(held);
      });

      it('hands out strictly increasing fencing tokens across holders, expiry and reclaim', async () => {
        const tokens: number[] = [];
        const grab = async (holder: string, now: number): Promise<number> => {
          const r = value(await store.acquireLease({ name: 'deploy', holder, ttlMs: 100, now }));
          if (!r.acquired) throw new Error(`${holder} should have acquired at ${now}`);
          tokens.push(r.lease.token);
          return r.lease.token;
        };
        const tA = await grab('A', 1_000);
        expect(value(await store.releaseLease({ name: 'deploy', holder: 'A', token: tA })).released).toBe(true);
        await grab('B', 1_010);
        // B never releases: the lease expires and C takes it over.
        await grab('C', 1_110);
        // C expires too and the reaper frees it.
        const freed = value(await store.reclaimExpiredLeases(1_300));
        expect(freed.map((l) => l.holder)).toEqual(['C']);
        expect(value(await store.getLease('deploy'))).toBeUndefined();
        await grab('A', 1_400);
        // a holder taking the lease again still gets a new, larger token
        expect(value(await store.releaseLease({ name: 'deploy', holder: 'A' })).released).toBe(true);
        await grab('A', 1_500);
        for (let i = 1; i < tokens.length; i += 1) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] ?? 0);
        expect(tokens).toHaveLength(5);
      });

      it('releases only for the holder that owns it (and the exact token when given)', async () => {
        const r = value(await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 1_000, now: 0 }));
        if (!r.acquired) throw new Error('should have acquired');
        expect(value(await store.releaseLease({ name: 'l', holder: 'B' })).released).toBe(false);
        expect(value(await store.releaseLease({ name: 'l', holder: 'A', token: r.lease.token + 1 })).released).toBe(
          false,
        );
        expect(value(await store.getLease('l'))).toEqual(r.lease);
        expect(value(await store.releaseLease({ name: 'l', holder: 'A', token: r.lease.token })).released).toBe(true);
        expect(value(await store.getLease('l'))).toBeUndefined();
        expect(value(await store.releaseLease({ name: 'l', holder: 'A' })).released).toBe(false);
        expect(value(await store.releaseLease({ name: 'never', holder: 'A' })).released).toBe(false);
      });

      it('does not let a stale holder release the lease a newer holder took over', async () => {
        const a = value(await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 100, now: 0 }));
        const b = value(await store.acquireLease({ name: 'l', holder: 'B', ttlMs: 100, now: 200 }));
        if (!a.acquired || !b.acquired) throw new Error('both should have acquired');
        expect(value(await store.releaseLease({ name: 'l', holder: 'A', token: a.lease.token })).released).toBe(false);
        expect(value(await store.getLease('l'))).toEqual(b.lease);
      });

      it('renews only for the current holder and token', async () => {
        const r = value(await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 1_000, now: 0 }));
        if (!r.acquired) throw new Error('should have acquired');
        const renewed = value(
          await store.renewLease({ name: 'l', holder: 'A', token: r.lease.token, ttlMs: 1_000, now: 500 }),
        );
        expect(renewed).toEqual({ ...r.lease, expiresAt: 1_500 });
        expect(value(await store.getLease('l'))).toEqual(renewed);
        expect(
          failure(await store.renewLease({ name: 'l', holder: 'B', token: r.lease.token, ttlMs: 1_000, now: 600 }))
            .code,
        ).toBe('lease_lost');
        expect(
          failure(await store.renewLease({ name: 'l', holder: 'A', token: r.lease.token + 1, ttlMs: 1_000, now: 600 }))
            .code,
        ).toBe('lease_lost');
        expect(
          failure(await store.renewLease({ name: 'none', holder: 'A', token: 1, ttlMs: 1_000, now: 600 })).code,
        ).toBe('lease_lost');
        // expired and taken over: the old holder has lost it
        value(await store.acquireLease({ name: 'l', holder: 'B', ttlMs: 1_000, now: 2_000 }));
        expect(
          failure(await store.renewLease({ name: 'l', holder: 'A', token: r.lease.token, ttlMs: 1_000, now: 2_001 }))
            .code,
        ).toBe('lease_lost');
        expect(value(await store.getLease('l'))?.holder).toBe('B');
      });

      it('reclaims only expired leases', async () => {
        value(await store.acquireLease({ name: 'a', holder: 'H', ttlMs: 100, now: 0 }));
        value(await store.acquireLease({ name: 'b', holder: 'H', ttlMs: 1_000, now: 0 }));
        value(await store.acquireLease({ name: 'c', holder: 'H', ttlMs: 50, now: 0 }));
        const freed = value(await store.reclaimExpiredLeases(100));
        expect(freed.map((l) => l.name).sort()).toEqual(['a', 'c']);
        expect(value(await store.listLeases()).map((l) => l.name)).toEqual(['b']);
        expect(value(await store.reclaimExpiredLeases(100))).toEqual([]);
      });
    });
  });
}
