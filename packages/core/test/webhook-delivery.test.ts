import { createMemoryStore } from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';
import {
  ConveyorError,
  type DeliveryLog,
  deliveryOutcomeStatus,
  err,
  handleDelivery,
  ok,
  type Result,
} from '../src/index.js';

const boom = new ConveyorError('@conveyor/test', 'internal', 'the pipeline failed');

/** A clock the test moves by hand. */
function clock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('handleDelivery', () => {
  it('processes a retry after the handler failed (500), then answers duplicates without handling', async () => {
    const store = createMemoryStore();
    const c = clock();
    const calls: string[] = [];
    let fail = true;
    const deliver = () =>
      handleDelivery({
        deliveries: store,
        source: 'gitea',
        keys: ['d-1'],
        now: c.now,
        handle: async (): Promise<Result<string, ConveyorError>> => {
          calls.push('handle');
          return fail ? err(boom) : ok('moved');
        },
      });

    const first = await deliver();
    expect(!first.ok && first.error).toBe(boom);
    // the sender retries a moment later, well inside the claim window
    c.advance(10);
    fail = false;
    const retry = await deliver();
    expect(retry).toMatchObject({ ok: true, value: { kind: 'handled', value: 'moved' } });
    c.advance(10);
    const duplicate = await deliver();
    expect(duplicate).toMatchObject({ ok: true, value: { kind: 'duplicate' } });
    c.advance(10_000_000);
    expect(await deliver()).toMatchObject({ ok: true, value: { kind: 'duplicate' } });
    expect(calls).toEqual(['handle', 'handle']);
  });

  it('treats a handler that throws as failed: the retry is processed', async () => {
    const store = createMemoryStore();
    const c = clock();
    let calls = 0;
    const deliver = (handle: () => Promise<Result<number, ConveyorError>>) =>
      handleDelivery({ deliveries: store, source: 'plane', keys: ['d-2'], now: c.now, handle });
    const thrown = await deliver(async () => {
      calls += 1;
      throw new Error('kaboom');
    });
    expect(!thrown.ok && thrown.error.message).toContain('kaboom');
    const retried = await deliver(async () => {
      calls += 1;
      return ok(calls);
    });
    expect(retried).toMatchObject({ ok: true, value: { kind: 'handled', value: 2 } });
  });

  it('runs the handler once for concurrent duplicates; the others are told to deliver again later', async () => {
    const store = createMemoryStore();
    const c = clock();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const deliver = () =>
      handleDelivery({
        deliveries: store,
        source: 'gitea',
        keys: ['d-3'],
        now: c.now,
        handle: async (): Promise<Result<string, ConveyorError>> => {
          calls += 1;
          await gate;
          return ok('done');
        },
      });
    const racing = Array.from({ length: 8 }, deliver);
    // let every receiver reach the log before the one handler finishes
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    const outcomes = await Promise.all(racing);
    const kinds = outcomes.map((o) => (o.ok ? o.value.kind : 'error'));
    expect(kinds.filter((k) => k === 'handled')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'in_progress')).toHaveLength(7);
    expect(calls).toBe(1);
    for (const o of outcomes)
      if (o.ok && o.value.kind === 'in_progress') expect(deliveryOutcomeStatus(o.value)).toBe(503);
    // the in-progress answers released nothing: the handled delivery stays handled
    expect(await deliver()).toMatchObject({ ok: true, value: { kind: 'duplicate' } });
    expect(calls).toBe(1);
  });

  it('processes a delivery whose handler died (never settled) once the claim window passed', async () => {
    const store = createMemoryStore();
    const c = clock();
    // a host recorded the delivery and died before handling it
    const recorded = await store.recordDelivery({ source: 'gitea', deliveryId: 'd-4', now: c.now() });
    expect(recorded.ok && recorded.value.firstSeen).toBe(true);
    let calls = 0;
    const deliver = () =>
      handleDelivery({
        deliveries: store,
        source: 'gitea',
        keys: ['d-4'],
        now: c.now,
        claimMs: 5_000,
        handle: async (): Promise<Result<null, ConveyorError>> => {
          calls += 1;
          return ok(null);
        },
      });
    c.advance(4_999);
    expect(await deliver()).toMatchObject({ ok: true, value: { kind: 'in_progress' } });
    c.advance(1);
    expect(await deliver()).toMatchObject({ ok: true, value: { kind: 'handled' } });
    expect(await deliver()).toMatchObject({ ok: true, value: { kind: 'duplicate' } });
    expect(calls).toBe(1);
  });

  it('counts a delivery as a duplicate when any of its keys was handled (a retry with a fresh id and the same body)', async () => {
    const store = createMemoryStore();
    const c = clock();
    let calls = 0;
    const deliver = (keys: string[]) =>
      handleDelivery({
        deliveries: store,
        source: 'plane',
        keys,
        now: c.now,
        handle: async (): Promise<Result<null, ConveyorError>> => {
          calls += 1;
          return ok(null);
        },
      });
    expect(await deliver(['id-1', 'body:abc'])).toMatchObject({ ok: true, value: { kind: 'handled' } });
    expect(await deliver(['id-2', 'body:abc'])).toMatchObject({ ok: true, value: { kind: 'duplicate' } });
    // the fresh id was recorded as handled too
    expect(await deliver(['id-2'])).toMatchObject({ ok: true, value: { kind: 'duplicate' } });
    expect(calls).toBe(1);
  });

  it('releases the keys it claimed when another key is in progress, and handles nothing when the log fails', async () => {
    const store = createMemoryStore();
    const c = clock();
    await store.recordDelivery({ source: 'plane', deliveryId: 'body:busy', now: c.now() });
    let calls = 0;
    const handle = async (): Promise<Result<null, ConveyorError>> => {
      calls += 1;
      return ok(null);
    };
    const busy = await handleDelivery({
      deliveries: store,
      source: 'plane',
      keys: ['id-9', 'body:busy'],
      now: c.now,
      handle,
    });
    expect(busy).toMatchObject({ ok: true, value: { kind: 'in_progress' } });
    // id-9 was released: on its own it is first-seen again
    expect(
      await handleDelivery({ deliveries: store, source: 'plane', keys: ['id-9'], now: c.now, handle }),
    ).toMatchObject({
      ok: true,
      value: { kind: 'handled' },
    });

    const broken: DeliveryLog = {
      recordDelivery: async () => err(new ConveyorError('@conveyor/test', 'timeout', 'database busy')),
      markDeliveryHandled: async () => ok(),
      markDeliveryFailed: async () => ok(),
    };
    const failed = await handleDelivery({ deliveries: broken, source: 'plane', keys: ['x'], now: c.now, handle });
    expect(!failed.ok && failed.error.code).toBe('timeout');
    const throwing: DeliveryLog = { ...broken, recordDelivery: () => Promise.reject(new Error('driver crashed')) };
    const threw = await handleDelivery({ deliveries: throwing, source: 'plane', keys: ['x'], now: c.now, handle });
    expect(!threw.ok && threw.error.message).toContain('delivery log');
    expect(calls).toBe(1);
  });
});
