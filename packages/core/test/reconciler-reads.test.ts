import { createMemoryStore } from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';
import { createReconciler } from '../src/daemons/index.js';
import type { DecisionStore } from '../src/ports/decisions.js';
import type { Store } from '../src/ports/store.js';
import { harness } from './helpers/harness.js';

/** A real memory store that counts the calls made to it, by method. */
function countingStore(): { store: Store & DecisionStore; calls: Map<string, number> } {
  const inner = createMemoryStore();
  const calls = new Map<string, number>();
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe('reconciler store reads', () => {
  it('settles a gating task whose outcome is applied from the row it listed: no second read of the task', async () => {
    const { store, calls } = countingStore();
    const h = harness({ store });
    const created = await store.createTaskIfAbsent({
      project: 'web',
      issueId: '1',
      repo: 'acme/web',
      branch: 'task/1',
      title: 't',
      description: '',
      snapshot: { stage: 'development', status: 'gating', step: 2, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
      now: h.clock.now(),
    });
    if (!created.ok) throw created.error;
    const taskId = created.value.task.id;
    const started = await store.startDecision({
      taskId,
      edge: 'development->deploy-staging',
      step: 2,
      headSha: 'h',
      baseSha: 'b',
      baseBranch: 'main',
      fence: 1,
      now: h.clock.now(),
    });
    if (!started.ok) throw started.error;
    const outcome = { status: 'fail' as const, summary: 'still red', findingsText: '' };
    await store.finishDecision({ decisionId: started.value.decision.id, fence: 1, outcome, now: h.clock.now() });
    await store.markDecisionApplied(started.value.decision.id, h.clock.now());

    const reconciler = createReconciler({ store, pipeline: h.pipeline, clock: h.clock, logger: h.logger });
    h.clock.advance(60 * 60_000);
    calls.clear();
    const counts = await reconciler.tick();
    expect(counts).toMatchObject({ examined: 1, stuck: 1, silent: 1, unblocked: 0 });
    expect(calls.get('getTask') ?? 0).toBe(0);
    expect(calls.get('getDecision')).toBe(1);
    expect((await store.getTask(taskId)).unwrapOr(undefined)?.snapshot.status).toBe('gating');
    expect(h.gateRuns).toEqual([]);
  });
});
