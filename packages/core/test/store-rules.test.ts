import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byClaimOrder,
  claimSlots,
  formatStoreId,
  grantLease,
  historySeq,
  INITIAL_TASK_VERSION,
  isDeliveryClaimable,
  isLeaseLive,
  JOB_ID_PREFIX,
  mayRelease,
  mayRenew,
  parseStoreId,
  STORE_ID_WIDTH,
  TASK_ID_PREFIX,
  TASK_STATUSES,
  TERMINAL_TASK_STATUSES,
} from '../src/index.js';

describe('store ids', () => {
  it('round-trip and sort in creation order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** STORE_ID_WIDTH - 1 }), fc.nat(1000), (seq, delta) => {
        const id = formatStoreId(TASK_ID_PREFIX, seq);
        expect(parseStoreId(TASK_ID_PREFIX, id)).toBe(seq);
        if (seq + delta < 10 ** STORE_ID_WIDTH) expect(id <= formatStoreId(TASK_ID_PREFIX, seq + delta)).toBe(true);
      }),
    );
  });

  it('refuses every id this format did not make (no query for a hostile id)', () => {
    for (const id of [
      '',
      'task_',
      'task_1',
      'task_00000000000x',
      'task_-00000000001',
      'task_ 00000000001',
      'job_000000000001',
      `task_${'0'.repeat(13)}`,
      "task_000000000001' OR 1=1",
    ]) {
      expect(parseStoreId(TASK_ID_PREFIX, id)).toBeUndefined();
    }
    expect(parseStoreId(JOB_ID_PREFIX, 'job_000000000042')).toBe(42);
  });
});

describe('claim, lease, history and delivery rules', () => {
  it('never hands out a negative number of slots and orders by availableAt then id', () => {
    expect(claimSlots(3, 5)).toBe(0);
    expect(claimSlots(4, 1)).toBe(3);
    const jobs = [
      { id: 'job_2', availableAt: 5 },
      { id: 'job_1', availableAt: 5 },
      { id: 'job_3', availableAt: 1 },
    ];
    expect([...jobs].sort(byClaimOrder).map((j) => j.id)).toEqual(['job_3', 'job_1', 'job_2']);
  });

  it('keeps a lease live until expiresAt, renewable and releasable only by its holder and token', () => {
    const lease = grantLease({ name: 'merge:a/b', holder: 'A', ttlMs: 100, now: 1_000 }, 7);
    expect(lease).toEqual({ name: 'merge:a/b', holder: 'A', token: 7, acquiredAt: 1_000, expiresAt: 1_100 });
    expect(isLeaseLive(lease, 1_099)).toBe(true);
    expect(isLeaseLive(lease, 1_100)).toBe(false);
    const renew = { name: 'merge:a/b', holder: 'A', token: 7, ttlMs: 100, now: 1_050 };
    expect(mayRenew(lease, renew)).toBe(true);
    expect(mayRenew(lease, { ...renew, token: 6 })).toBe(false);
    expect(mayRenew(lease, { ...renew, holder: 'B' })).toBe(false);
    expect(mayRenew(lease, { ...renew, now: 1_100 })).toBe(false);
    expect(mayRelease(lease, { name: 'merge:a/b', holder: 'A' })).toBe(true);
    expect(mayRelease(lease, { name: 'merge:a/b', holder: 'A', token: 8 })).toBe(false);
    expect(mayRelease(lease, { name: 'merge:a/b', holder: 'B', token: 7 })).toBe(false);
  });

  it('numbers history entries by the version they left', () => {
    expect(historySeq(INITIAL_TASK_VERSION)).toBe(1);
    expect(historySeq(INITIAL_TASK_VERSION + 4)).toBe(5);
  });

  it('never re-opens a handled delivery; a released one at once; a pending one after its window', () => {
    expect(isDeliveryClaimable({ handledAt: 5, claimedAt: undefined }, 10 ** 12, 1)).toBe(false);
    expect(isDeliveryClaimable({ handledAt: undefined, claimedAt: undefined }, 0, 30_000)).toBe(true);
    expect(isDeliveryClaimable({ handledAt: undefined, claimedAt: 1_000 }, 30_999, 30_000)).toBe(false);
    expect(isDeliveryClaimable({ handledAt: undefined, claimedAt: 1_000 }, 31_000, 30_000)).toBe(true);
  });

  it('lists every status once, terminal ones among them', () => {
    expect(new Set(TASK_STATUSES).size).toBe(TASK_STATUSES.length);
    for (const s of TERMINAL_TASK_STATUSES) expect(TASK_STATUSES).toContain(s);
    expect(TASK_STATUSES).toContain('blocked');
  });
});
