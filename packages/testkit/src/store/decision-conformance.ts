import type { ConveyorError, DecisionStore, GateVerdict, NewDecision, Result } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** Makes a fresh, empty decision store for one test (often the whole store). */
export type DecisionStoreFactory = () => DecisionStore | Promise<DecisionStore>;

/** Options of {@link decisionStoreConformance}. */
export interface DecisionConformanceOptions {
  /** Runs after each test (close the store, delete its file). */
  readonly cleanup?: (store: DecisionStore) => void | Promise<void>;
  /** Opens a second handle on the same backing state (another connection), for the cross-handle case. */
  readonly reopen?: (store: DecisionStore) => DecisionStore | Promise<DecisionStore>;
}

function newDecision(overrides: Partial<NewDecision> = {}): NewDecision {
  return {
    taskId: 'task_1',
    edge: 'deploy-staging->deploy',
    step: 7,
    headSha: 'a'.repeat(40),
    baseSha: 'b'.repeat(40),
    baseBranch: 'main',
    fence: 1,
    now: 1_000,
    ...overrides,
  };
}

function verdict(gateId: string, status: GateVerdict['status'] = 'pass'): GateVerdict {
  return { gateId, status, summary: `${gateId} ${status}`, findings: [], warnings: [], durationMs: 3 };
}

function must<T>(result: Result<T, ConveyorError>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

const outcome = { status: 'pass' as const, summary: '2 of 2 gates passed', findingsText: '' };

/**
 * The contract every `DecisionStore` keeps (invariant 8): one decision per
 * (task, step) whose pin never changes, fenced writes, the outcome and its
 * application recorded once.
 *
 * @example
 * ```ts
 * decisionStoreConformance('memory', () => createMemoryStore());
 * ```
 */
export function decisionStoreConformance(
  name: string,
  factory: DecisionStoreFactory,
  options: DecisionConformanceOptions = {},
): void {
  describe(`DecisionStore conformance: ${name}`, () => {
    let store: DecisionStore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await options.cleanup?.(store);
    });

    it('records one decision per (task, step); a second start returns the first, pin unchanged', async () => {
      const first = must(await store.startDecision(newDecision()));
      expect(first.created).toBe(true);
      expect(first.decision).toMatchObject({
        taskId: 'task_1',
        step: 7,
        edge: 'deploy-staging->deploy',
        headSha: 'a'.repeat(40),
        baseSha: 'b'.repeat(40),
        baseBranch: 'main',
        fence: 1,
        verdicts: [],
        startedAt: 1_000,
      });
      expect(first.decision.outcome).toBeUndefined();
      const again = must(await store.startDecision(newDecision({ headSha: 'c'.repeat(40), now: 2_000 })));
      expect(again.created).toBe(false);
      expect(again.decision.id).toBe(first.decision.id);
      expect(again.decision.headSha).toBe('a'.repeat(40));
      const other = must(await store.startDecision(newDecision({ step: 8 })));
      expect(other.created).toBe(true);
      expect(other.decision.id).not.toBe(first.decision.id);
      expect(must(await store.getDecision('task_1', 7))?.id).toBe(first.decision.id);
      expect(must(await store.getDecision('task_1', 9))).toBeUndefined();
      expect(must(await store.listDecisions('task_1')).map((d) => d.step)).toEqual([7, 8]);
      expect(must(await store.listDecisions('task_2'))).toEqual([]);
    });

    it('appends verdicts in order and records the outcome once', async () => {
      const { decision } = must(await store.startDecision(newDecision()));
      must(await store.recordGateVerdict({ decisionId: decision.id, fence: 1, verdict: verdict('security') }));
      const two = must(await store.recordGateVerdict({ decisionId: decision.id, fence: 1, verdict: verdict('merge') }));
      expect(two.verdicts.map((v) => v.gateId)).toEqual(['security', 'merge']);
      const done = must(await store.finishDecision({ decisionId: decision.id, fence: 1, outcome, now: 5_000 }));
      expect(done).toMatchObject({ outcome, decidedAt: 5_000 });
      const twice = await store.finishDecision({
        decisionId: decision.id,
        fence: 1,
        outcome: { ...outcome, status: 'fail' },
        now: 6_000,
      });
      expect(!twice.ok && twice.error.code).toBe('conflict');
      const late = await store.recordGateVerdict({ decisionId: decision.id, fence: 1, verdict: verdict('x') });
      expect(!late.ok && late.error.code).toBe('conflict');
      expect(must(await store.getDecision('task_1', 7))?.outcome?.status).toBe('pass');
    });

    it('fences writes: a newer runner takes an undecided decision over, the older one can no longer write', async () => {
      const { decision } = must(await store.startDecision(newDecision({ fence: 3 })));
      // an older token never takes over
      const older = must(await store.startDecision(newDecision({ fence: 2 })));
      expect(older.decision.fence).toBe(3);
      const newer = must(await store.startDecision(newDecision({ fence: 4 })));
      expect(newer.decision.fence).toBe(4);
      const stale = await store.recordGateVerdict({ decisionId: decision.id, fence: 3, verdict: verdict('merge') });
      expect(!stale.ok && stale.error.code).toBe('lease_lost');
      const staleOutcome = await store.finishDecision({ decisionId: decision.id, fence: 3, outcome, now: 2 });
      expect(!staleOutcome.ok && staleOutcome.error.code).toBe('lease_lost');
      must(await store.finishDecision({ decisionId: decision.id, fence: 4, outcome, now: 3 }));
      // a decided decision is never taken over
      expect(must(await store.startDecision(newDecision({ fence: 9 }))).decision.fence).toBe(4);
      const missing = await store.recordGateVerdict({ decisionId: 'dec_999999', fence: 1, verdict: verdict('a') });
      expect(!missing.ok && missing.error.code).toBe('not_found');
    });

    it('marks the outcome applied once, and only once it exists', async () => {
      const { decision } = must(await store.startDecision(newDecision()));
      const early = await store.markDecisionApplied(decision.id, 10);
      expect(!early.ok && early.error.code).toBe('conflict');
      must(await store.finishDecision({ decisionId: decision.id, fence: 1, outcome, now: 11 }));
      const marks = await Promise.all([
        store.markDecisionApplied(decision.id, 12),
        store.markDecisionApplied(decision.id, 13),
      ]);
      expect(marks.map((m) => must(m).applied).sort()).toEqual([false, true]);
      expect(must(await store.getDecision('task_1', 7))?.appliedAt).toBe(12);
    });

    it('hands out copies: changing a returned decision changes nothing stored', async () => {
      const { decision } = must(await store.startDecision(newDecision()));
      (decision.verdicts as GateVerdict[]).push(verdict('forged'));
      expect(must(await store.getDecision('task_1', 7))?.verdicts).toEqual([]);
    });

    const reopen = options.reopen;
    it.skipIf(reopen === undefined)(
      'two handles on one backing state record one decision per step (skipped for a store without a second handle)',
      async () => {
        if (reopen === undefined) return;
        const other = await reopen(store);
        const [a, b] = await Promise.all([
          store.startDecision(newDecision({ fence: 1 })),
          other.startDecision(newDecision({ fence: 2, headSha: 'd'.repeat(40) })),
        ]);
        const created = [must(a), must(b)].filter((r) => r.created);
        expect(created).toHaveLength(1);
        expect(must(a).decision.id).toBe(must(b).decision.id);
        expect(must(await other.getDecision('task_1', 7))?.headSha).toBe(created[0]?.decision.headSha);
      },
    );
  });
}
