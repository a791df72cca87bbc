import { ConveyorError } from '@conveyor/core';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, decisionStoreConformance, storeConformance } from '../src/index.js';

storeConformance('memory', () => createMemoryStore(), {
  fairClaims: true,
  // one process's memory: a second "connection" is the same store
  openWithProjectLimits: (limits, shareWith) => shareWith ?? createMemoryStore(limits),
});
decisionStoreConformance('memory', () => createMemoryStore());

describe('createMemoryStore', () => {
  it('hands out ids that sort in creation order', async () => {
    const store = createMemoryStore();
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const res = await store.createTaskIfAbsent({
        project: 'p',
        issueId: `I-${i}`,
        repo: 'o/r',
        branch: `b${i}`,
        title: 't',
        description: '',
        snapshot: { stage: 's', status: 'active', step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
        now: 0,
      });
      if (res.ok) ids.push(res.value.task.id);
    }
    expect(ids).toHaveLength(12);
    expect([...ids].sort()).toEqual(ids);
  });

  it('resolves to the injected fault and changes nothing', async () => {
    const boom = new ConveyorError('@conveyor/testkit', 'internal', 'disk on fire');
    let failing = true;
    const store = createMemoryStore({ fault: (method) => (failing && method === 'recordDelivery' ? boom : undefined) });
    const res = await store.recordDelivery({ source: 's', deliveryId: 'd', now: 0 });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toBe(boom);
    failing = false;
    const again = await store.recordDelivery({ source: 's', deliveryId: 'd', now: 0 });
    expect(again.ok && again.value.firstSeen).toBe(true);
  });

  it('keeps handing out larger tokens after release, for the same lease name only', async () => {
    const store = createMemoryStore();
    const a = await store.acquireLease({ name: 'x', holder: 'A', ttlMs: 10, now: 0 });
    await store.releaseLease({ name: 'x', holder: 'A' });
    const b = await store.acquireLease({ name: 'x', holder: 'B', ttlMs: 10, now: 0 });
    const y = await store.acquireLease({ name: 'y', holder: 'B', ttlMs: 10, now: 0 });
    const tokenOf = (r: typeof a): number => (r.ok && r.value.acquired ? r.value.lease.token : -1);
    expect(tokenOf(b)).toBe(tokenOf(a) + 1);
    expect(tokenOf(y)).toBe(1);
  });
});
