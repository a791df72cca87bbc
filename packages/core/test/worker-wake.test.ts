import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createWorker } from '../src/daemons/index.js';
import type { ProcessExit } from '../src/ports/runtime.js';
import { ok } from '../src/result/result.js';
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
});
