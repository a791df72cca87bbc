import type { Store } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConformanceContext, value } from './conformance-kit.js';

/**
 * The `DeliveryLog` cases: a delivery is first-seen once while pending or handled, again after a failed handling or once its claim ran out, never after it was handled; one winner among racing receivers.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function deliveryLogConformance(ctx: ConformanceContext): void {
  describe('DeliveryLog', () => {
    let store: Store;
    beforeEach(() => {
      store = ctx.store();
    });

    const d = (deliveryId: string, now: number, claimMs?: number) => ({
      source: 'gitea',
      deliveryId,
      now,
      ...(claimMs === undefined ? {} : { claimMs }),
    });

    describe('deliveries', () => {
      it('is first-seen once per (source, deliveryId) while it is being handled', async () => {
        expect(value(await store.recordDelivery({ source: 'plane', deliveryId: 'd1', now: 1 }))).toEqual({
          firstSeen: true,
          attempt: 1,
        });
        expect(value(await store.recordDelivery({ source: 'plane', deliveryId: 'd1', now: 2 }))).toEqual({
          firstSeen: false,
          handled: false,
        });
        expect(value(await store.recordDelivery({ source: 'gitea', deliveryId: 'd1', now: 3 })).firstSeen).toBe(true);
      });

      it('lets exactly one of many concurrent receivers of one delivery handle it', async () => {
        const racing = (await Promise.all(Array.from({ length: 10 }, () => store.recordDelivery(d('d2', 4))))).map(
          value,
        );
        expect(racing.filter((r) => r.firstSeen)).toHaveLength(1);
        expect(racing.filter((r) => !r.firstSeen && !r.handled)).toHaveLength(9);
      });

      it('answers every later receipt of a handled delivery as a handled duplicate, however late', async () => {
        const claim = value(await store.recordDelivery(d('h1', 10)));
        if (!claim.firstSeen) throw new Error('the first receipt should be first-seen');
        value(await store.markDeliveryHandled({ source: 'gitea', deliveryId: 'h1', attempt: claim.attempt, now: 20 }));
        expect(value(await store.recordDelivery(d('h1', 30)))).toEqual({ firstSeen: false, handled: true });
        expect(value(await store.recordDelivery(d('h1', 10_000_000)))).toEqual({ firstSeen: false, handled: true });
        // a failure reported late (by a handler whose claim ran out) does not undo the success
        value(await store.markDeliveryFailed({ source: 'gitea', deliveryId: 'h1', attempt: claim.attempt, now: 40 }));
        expect(value(await store.recordDelivery(d('h1', 50)))).toEqual({ firstSeen: false, handled: true });
      });

      it('is first-seen again after its handling failed, and then handled once', async () => {
        const first = value(await store.recordDelivery(d('f1', 10)));
        if (!first.firstSeen) throw new Error('the first receipt should be first-seen');
        value(await store.markDeliveryFailed({ source: 'gitea', deliveryId: 'f1', attempt: first.attempt, now: 11 }));
        const retry = value(await store.recordDelivery(d('f1', 12)));
        expect(retry).toEqual({ firstSeen: true, attempt: first.attempt + 1 });
        expect(value(await store.recordDelivery(d('f1', 13)))).toEqual({ firstSeen: false, handled: false });
        if (!retry.firstSeen) return;
        value(await store.markDeliveryHandled({ source: 'gitea', deliveryId: 'f1', attempt: retry.attempt, now: 14 }));
        expect(value(await store.recordDelivery(d('f1', 15)))).toEqual({ firstSeen: false, handled: true });
      });

      it('is first-seen again once a claim ran out without being settled (the handler died)', async () => {
        const first = value(await store.recordDelivery(d('c1', 1_000, 500)));
        expect(first.firstSeen).toBe(true);
        expect(value(await store.recordDelivery(d('c1', 1_499, 500))).firstSeen).toBe(false);
        const taken = value(await store.recordDelivery(d('c1', 1_500, 500)));
        expect(taken).toEqual({ firstSeen: true, attempt: 2 });
        // the take-over is a fresh claim: the window starts again
        expect(value(await store.recordDelivery(d('c1', 1_999, 500))).firstSeen).toBe(false);
        // without claimMs the default window applies: 30 s
        const other = value(await store.recordDelivery(d('c2', 0)));
        expect(other.firstSeen).toBe(true);
        expect(value(await store.recordDelivery(d('c2', 29_999))).firstSeen).toBe(false);
        expect(value(await store.recordDelivery(d('c2', 30_000))).firstSeen).toBe(true);
      });

      it('lets a stale handler release only its own claim, never the claim that took over', async () => {
        const stale = value(await store.recordDelivery(d('s1', 0, 100)));
        const current = value(await store.recordDelivery(d('s1', 200, 100)));
        if (!stale.firstSeen || !current.firstSeen) throw new Error('both receipts should be first-seen');
        value(await store.markDeliveryFailed({ source: 'gitea', deliveryId: 's1', attempt: stale.attempt, now: 210 }));
        expect(value(await store.recordDelivery(d('s1', 220, 100))).firstSeen).toBe(false);
        value(
          await store.markDeliveryFailed({ source: 'gitea', deliveryId: 's1', attempt: current.attempt, now: 230 }),
        );
        expect(value(await store.recordDelivery(d('s1', 240, 100))).firstSeen).toBe(true);
      });

      it('lets exactly one of many concurrent retries of a failed delivery take it', async () => {
        const first = value(await store.recordDelivery(d('r1', 0)));
        if (!first.firstSeen) throw new Error('the first receipt should be first-seen');
        value(await store.markDeliveryFailed({ source: 'gitea', deliveryId: 'r1', attempt: first.attempt, now: 1 }));
        const racing = (await Promise.all(Array.from({ length: 8 }, () => store.recordDelivery(d('r1', 2))))).map(
          value,
        );
        expect(racing.filter((r) => r.firstSeen)).toHaveLength(1);
      });

      it('settling an unknown delivery is not an error', async () => {
        value(await store.markDeliveryHandled({ source: 'gitea', deliveryId: 'never', attempt: 1, now: 1 }));
        value(await store.markDeliveryFailed({ source: 'gitea', deliveryId: 'never', attempt: 1, now: 1 }));
        expect(value(await store.recordDelivery(d('never', 2))).firstSeen).toBe(true);
      });
    });
  });
}
