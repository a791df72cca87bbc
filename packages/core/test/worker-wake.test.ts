import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createWorker } from '../src/daemons/index.js';
import type { ProcessExit } from '../src/ports/runtime.js';
import type { StoreBackend } from '../src/ports/store.js';
import { ok } from '../src/result/result.js';
import { completeStore } from '../src/store/complete-store.js';
import { harness, issue } from './helpers/harness.js';

describe('worker wake-ups', () => {
  it('claims at once when woken instead of at its next poll, coalesces wake-ups, and unsubscribes on stop', async () => {
    const h = harness();
    let wakeUp: (() => void) | undefined;
    let unsubscribed = 0;
    const launched: string[] = [];
    const worker = createWorker({
      store: h.store,
      pipeline: h.pipeline,
      launcher: {
        async launch(spec) {
          launched.push(spec.jobId);
          let end: (exit: ProcessExit) => void = () => {};
          const exited = new Promise<ProcessExit>((resolve) => {
            end = resolve;
          });
          return ok({ pid: 4242, exited, kill: () => end({ exitCode: null, signal: 'SIGTERM', timedOut: false }) });
        },
      },
      clock: h.clock,
      logger: h.logger,
      maxConcurrency: 4,
      killOnStop: true,
      // the poll would not come again for a minute
      intervalMs: 60_000,
      commandFor: () => ({ command: 'agent', args: [] }),
      wake: (fn) => {
        wakeUp = fn;
        return () => {
          unsubscribed += 1;
        };
      },
    });
    worker.start();
    await sleep(20);
    expect(worker.status().ticks).toBe(1);
    expect(launched).toEqual([]);
    // the job is enqueued after the only poll so far
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    for (let i = 0; i < 5; i += 1) wakeUp?.();
    for (let i = 0; i < 100 && launched.length === 0; i += 1) await sleep(5);
    expect(launched).toHaveLength(1);
    // five wake-ups while one claim ran: at most one more claim, not five
    await sleep(20);
    expect(worker.status().ticks).toBeLessThanOrEqual(3);
    await worker.stop();
    expect(unsubscribed).toBe(1);
    const ticks = worker.status().ticks;
    wakeUp?.();
    await sleep(20);
    expect(worker.status().ticks).toBe(ticks);
  });

  it('with finishAndClaim, a finished job claims the next at once; a wake-up while every slot is taken does not spin', async () => {
    const h = harness();
    const complete = completeStore(h.store as StoreBackend);
    let fused = 0;
    const store = {
      ...complete,
      finishAndClaim: (input: Parameters<NonNullable<typeof complete.finishAndClaim>>[0]) => {
        fused += 1;
        return complete.finishAndClaim?.(input) ?? Promise.reject(new Error('no fallback'));
      },
    };
    let wakeUp: (() => void) | undefined;
    const launched: string[] = [];
    const ends: ((exit: ProcessExit) => void)[] = [];
    const worker = createWorker({
      store,
      pipeline: h.pipeline,
      launcher: {
        async launch(spec) {
          launched.push(spec.jobId);
          const exited = new Promise<ProcessExit>((resolve) => {
            ends.push(resolve);
          });
          return ok({ pid: 4242, exited, kill: () => {} });
        },
      },
      clock: h.clock,
      logger: h.logger,
      maxConcurrency: 1,
      // the poll would not come again for a minute
      intervalMs: 60_000,
      commandFor: () => ({ command: 'agent', args: [] }),
      wake: (fn) => {
        wakeUp = fn;
        return () => {};
      },
    });
    for (const n of ['1', '2', '3']) {
      await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue(n) });
    }
    worker.start();
    for (let i = 0; i < 100 && launched.length === 0; i += 1) await sleep(5);
    expect(launched).toHaveLength(1);
    // the only slot is taken: wake-ups are answered without a claim and without looping
    const ticks = worker.status().ticks;
    for (let i = 0; i < 5; i += 1) wakeUp?.();
    await sleep(20);
    expect(worker.status().ticks - ticks).toBeLessThanOrEqual(5);
    expect(launched).toHaveLength(1);
    // each end claims the next job in the same call
    for (let k = 1; k < 3; k += 1) {
      ends[k - 1]?.({ exitCode: 0, signal: null, timedOut: false });
      for (let i = 0; i < 100 && launched.length === k; i += 1) await sleep(5);
      expect(launched).toHaveLength(k + 1);
    }
    expect(fused).toBeGreaterThanOrEqual(2);
    expect(new Set(launched).size).toBe(3);
    for (const end of ends) end({ exitCode: 0, signal: null, timedOut: false });
    await worker.stop();
  });
});
