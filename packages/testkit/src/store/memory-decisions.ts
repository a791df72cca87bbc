import {
  type ConveyorError,
  conveyorError,
  type Decision,
  type DecisionStore,
  err,
  ok,
  type Result,
} from '@conveyor/core';

const PKG = '@conveyor/testkit';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** How the memory store runs a method: its closed check and fault injection. */
export type MemoryGuard = <T>(
  method: keyof DecisionStore,
  body: () => Result<T, ConveyorError>,
) => Promise<Result<T, ConveyorError>>;

/**
 * The decision record of the in-memory store: one decision per (task, step),
 * fenced writes, outcome and application recorded once. Values handed out are
 * copies.
 *
 * @example
 * ```ts
 * const decisions = createMemoryDecisions((_, body) => Promise.resolve(body()));
 * await decisions.startDecision({ taskId: 't1', edge: 'a->b', step: 2, headSha: 'h', baseSha: 'b', baseBranch: 'main', fence: 1, now: 0 });
 * ```
 */
export function createMemoryDecisions(guard: MemoryGuard): DecisionStore {
  const byId = new Map<string, Mutable<Decision>>();
  const byStep = new Map<string, string>();
  let seq = 0;
  const key = (taskId: string, step: number): string => `${taskId}\u0000${step}`;
  const copy = (d: Decision): Decision => structuredClone(d);

  function writable(decisionId: string, fence: number): Result<Mutable<Decision>, ConveyorError> {
    const found = byId.get(decisionId);
    if (found === undefined) return err(conveyorError(PKG, 'not_found', `decision ${decisionId} does not exist`));
    if (found.fence !== fence) {
      return err(
        conveyorError(PKG, 'lease_lost', `decision ${decisionId} is held by fence ${found.fence}, not ${fence}`),
      );
    }
    if (found.outcome !== undefined) return err(conveyorError(PKG, 'conflict', `decision ${decisionId} is decided`));
    return ok(found);
  }

  return {
    startDecision(input) {
      return guard<{ decision: Decision; created: boolean }>('startDecision', () => {
        const existingId = byStep.get(key(input.taskId, input.step));
        const existing = existingId === undefined ? undefined : byId.get(existingId);
        if (existing !== undefined) {
          if (existing.outcome === undefined && input.fence > existing.fence) existing.fence = input.fence;
          return ok({ decision: copy(existing), created: false });
        }
        seq += 1;
        const decision: Mutable<Decision> = {
          id: `dec_${String(seq).padStart(12, '0')}`,
          taskId: input.taskId,
          edge: input.edge,
          step: input.step,
          headSha: input.headSha,
          baseSha: input.baseSha,
          baseBranch: input.baseBranch,
          fence: input.fence,
          verdicts: [],
          startedAt: input.now,
        };
        byId.set(decision.id, decision);
        byStep.set(key(input.taskId, input.step), decision.id);
        return ok({ decision: copy(decision), created: true });
      });
    },
    recordGateVerdict(input) {
      return guard('recordGateVerdict', () => {
        const found = writable(input.decisionId, input.fence);
        if (!found.ok) return err(found.error);
        found.value.verdicts = [...found.value.verdicts, structuredClone(input.verdict)];
        return ok(copy(found.value));
      });
    },
    finishDecision(input) {
      return guard('finishDecision', () => {
        const found = writable(input.decisionId, input.fence);
        if (!found.ok) return err(found.error);
        found.value.outcome = structuredClone(input.outcome);
        found.value.decidedAt = input.now;
        return ok(copy(found.value));
      });
    },
    markDecisionApplied(decisionId, now) {
      return guard('markDecisionApplied', () => {
        const found = byId.get(decisionId);
        if (found === undefined) return err(conveyorError(PKG, 'not_found', `decision ${decisionId} does not exist`));
        if (found.outcome === undefined) {
          return err(conveyorError(PKG, 'conflict', `decision ${decisionId} has no outcome to apply`));
        }
        if (found.appliedAt !== undefined) return ok({ applied: false });
        found.appliedAt = now;
        return ok({ applied: true });
      });
    },
    getDecision(taskId, step) {
      return guard('getDecision', () => {
        const id = byStep.get(key(taskId, step));
        const found = id === undefined ? undefined : byId.get(id);
        return ok(found === undefined ? undefined : copy(found));
      });
    },
    listDecisions(taskId) {
      return guard('listDecisions', () =>
        ok(
          [...byId.values()]
            .filter((d) => d.taskId === taskId)
            .sort((a, b) => a.step - b.step)
            .map(copy),
        ),
      );
    },
  };
}
