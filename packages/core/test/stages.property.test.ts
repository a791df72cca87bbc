import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STAGES,
  defineStages,
  type EdgeVerdict,
  edgeId,
  initialSnapshot,
  outgoingEdge,
  type StageEvent,
  type StageSnapshot,
  type StagesSpec,
  transition,
} from '../src/index.js';

/**
 * A move is interpreted against the current snapshot, so that most generated
 * events apply (finish the current job, decide the current edge) while some are
 * noise (a stale stage, another edge, a duplicate creation).
 */
type Move =
  | { readonly kind: 'finish'; readonly exitCode: number | null }
  | {
      readonly kind: 'decide';
      readonly status: EdgeVerdict['status'];
      readonly text: string;
      readonly deferMs?: number;
    }
  | { readonly kind: 'approve' }
  | { readonly kind: 'tracker'; readonly state: string }
  | { readonly kind: 'reject' }
  | { readonly kind: 'noise'; readonly event: StageEvent };

const stageIds = DEFAULT_STAGES.stages.map((s) => s.id);
const edgeIds = [...DEFAULT_STAGES.edges.map((e) => edgeId(e.from, e.to)), 'nowhere->else'];

function verdictOf(edge: string, status: EdgeVerdict['status'], text: string, deferMs?: number): EdgeVerdict {
  return {
    edge,
    status,
    verdicts: [],
    summary: `${status}: ${text.slice(0, 20)}`,
    findingsText: text,
    durationMs: 0,
    ...(deferMs === undefined ? {} : { deferMs }),
  };
}

const findingsTextArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '  leading\n\ttabs\r\n', 'rule file:1 msg fp'),
);

const noiseArb: fc.Arbitrary<StageEvent> = fc.oneof(
  fc.constant<StageEvent>({ type: 'task.created' }),
  fc.record({
    type: fc.constant('job.finished' as const),
    stage: fc.constantFrom(...stageIds, 'ghost'),
    exitCode: fc.constantFrom(0, 1, null),
  }),
  fc
    .record({
      edge: fc.constantFrom(...edgeIds),
      status: fc.constantFrom('pass', 'fail', 'defer') as fc.Arbitrary<EdgeVerdict['status']>,
      text: findingsTextArb,
    })
    .map(
      ({ edge, status, text }): StageEvent => ({ type: 'gates.decided', edge, verdict: verdictOf(edge, status, text) }),
    ),
);

const statusArb: fc.Arbitrary<EdgeVerdict['status']> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('pass' as const) },
  { weight: 2, arbitrary: fc.constant('fail' as const) },
  { weight: 1, arbitrary: fc.constant('defer' as const) },
);

// Weights keep rejections and dead jobs rare so that sequences get deep (rollbacks, caps, done).
const moveArb: fc.Arbitrary<Move> = fc.oneof(
  {
    weight: 70,
    arbitrary: fc.record({
      kind: fc.constant('finish' as const),
      exitCode: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.constantFrom(1, 2, null)),
    }),
  },
  {
    weight: 70,
    arbitrary: fc.record(
      {
        kind: fc.constant('decide' as const),
        status: statusArb,
        text: findingsTextArb,
        deferMs: fc.integer({ min: 0, max: 10_000 }),
      },
      { requiredKeys: ['kind', 'status', 'text'] },
    ),
  },
  { weight: 25, arbitrary: fc.constant<Move>({ kind: 'approve' }) },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('tracker' as const),
      state: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('Approved', 'Todo', 'In Progress') },
        fc.constant('Rejected'),
      ),
    }),
  },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('noise' as const), event: noiseArb }) },
  { weight: 1, arbitrary: fc.constant<Move>({ kind: 'reject' }) },
);

function toEvent(spec: StagesSpec, snapshot: StageSnapshot, move: Move): StageEvent {
  switch (move.kind) {
    case 'finish':
      return { type: 'job.finished', stage: snapshot.stage, exitCode: move.exitCode };
    case 'decide': {
      const edge = outgoingEdge(spec, snapshot.stage);
      const id = edge === undefined ? 'none->none' : edgeId(edge.from, edge.to);
      return { type: 'gates.decided', edge: id, verdict: verdictOf(id, move.status, move.text, move.deferMs) };
    }
    case 'approve':
      return { type: 'approved' };
    case 'tracker':
      return { type: 'tracker.status_changed', state: move.state };
    case 'reject':
      return { type: 'rejected', reason: 'no' };
    case 'noise':
      return move.event;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function checkSequence(spec: StagesSpec, moves: readonly Move[]): void {
  const order = new Map(spec.stages.map((s, i) => [s.id, i]));
  const index = (stage: string): number => order.get(stage) ?? -1;
  let snapshot = transition(spec, initialSnapshot(spec), { type: 'task.created' }).snapshot;
  let expectedFindings: string | undefined;
  let rollbacks = 0;

  for (const move of moves) {
    const event = deepFreeze(toEvent(spec, snapshot, move));
    const before = deepFreeze(snapshot);
    const beforeCopy = cloneJson(before);
    const result = transition(spec, before, event);
    // determinism and purity: same input, same output; the input is untouched
    expect(transition(spec, before, event)).toEqual(result);
    expect(before).toEqual(beforeCopy);
    const after = result.snapshot;

    // 1. a later stage is only reached through a passing verdict of exactly that edge
    if (index(after.stage) > index(before.stage)) {
      expect(event.type).toBe('gates.decided');
      if (event.type === 'gates.decided') {
        expect(event.verdict.status).toBe('pass');
        expect(event.edge).toBe(edgeId(before.stage, after.stage));
      }
    }

    // 2. retries never exceed the cap; a fail at the cap stops the task
    expect(after.developerRetries).toBeLessThanOrEqual(spec.maxDeveloperRetries);
    // deferrals stop at the count once they waited deferWaitMs, and at ten times the count regardless
    expect(after.deferrals).toBeLessThanOrEqual(spec.maxDeferrals * 10);
    if (after.deferrals > spec.maxDeferrals) expect(before.deferredMs ?? 0).toBeLessThan(spec.deferWaitMs);
    expect(after.jobAttempts).toBeLessThanOrEqual(spec.maxJobAttempts);
    const edge = outgoingEdge(spec, before.stage);
    const appliesToEdge =
      event.type === 'gates.decided' &&
      before.status === 'gating' &&
      edge !== undefined &&
      event.edge === edgeId(edge.from, edge.to);
    if (appliesToEdge && event.type === 'gates.decided' && event.verdict.status === 'fail') {
      if (before.developerRetries === spec.maxDeveloperRetries || edge?.rollbackTo === undefined) {
        expect(after.status).toBe('failed');
      } else {
        expect(after.developerRetries).toBe(before.developerRetries + 1);
      }
    }

    // 3. the failing gate's findings reach the next developer job verbatim
    const rolledBack = after.developerRetries > before.developerRetries;
    if (rolledBack) {
      rollbacks += 1;
      expect(event.type).toBe('gates.decided');
      if (event.type === 'gates.decided') expectedFindings = event.verdict.findingsText;
      expect(after.stage).toBe(spec.rollbackStage);
    } else if (after.stage !== spec.rollbackStage) {
      expectedFindings = undefined;
    }
    for (const effect of result.effects) {
      if (effect.type === 'enqueue_job') {
        expect(effect.step).toBe(after.step);
        if (effect.kind === 'agent' && effect.stage === spec.rollbackStage && expectedFindings !== undefined) {
          expect(effect.findings).toBe(expectedFindings);
        }
      }
    }
    if (rolledBack) {
      expect(result.effects.filter((e) => e.type === 'enqueue_job' && e.findings === expectedFindings)).toHaveLength(1);
    }

    expect(after.step).toBeGreaterThanOrEqual(before.step);
    if (!result.changed) {
      expect(after).toBe(before);
      expect(result.effects).toEqual([]);
    }
    snapshot = after;
  }
  expect(rollbacks).toBeLessThanOrEqual(spec.maxDeveloperRetries);
}

const tight = defineStages({
  stages: DEFAULT_STAGES.stages,
  maxDeveloperRetries: 1,
  maxDeferrals: 1,
  maxJobAttempts: 2,
});

describe('transition properties', () => {
  it('hold for random event sequences on DEFAULT_STAGES', () => {
    fc.assert(
      fc.property(fc.array(moveArb, { maxLength: 80, size: 'max' }), (moves) => checkSequence(DEFAULT_STAGES, moves)),
      { numRuns: 500 },
    );
  });

  it('hold with tight caps, and tasks do reach done and the retry cap', () => {
    if (!tight.ok) throw tight.error;
    const spec = tight.value;
    fc.assert(
      fc.property(fc.array(moveArb, { maxLength: 60, size: 'max' }), (moves) => checkSequence(spec, moves)),
      { numRuns: 500 },
    );
    // the generator is able to reach the interesting outcomes
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(fc.array(moveArb, { minLength: 20, maxLength: 80, size: 'max' }), (moves) => {
        let snapshot = transition(spec, initialSnapshot(spec), { type: 'task.created' }).snapshot;
        for (const move of moves) snapshot = transition(spec, snapshot, toEvent(spec, snapshot, move)).snapshot;
        outcomes.add(
          snapshot.status === 'failed' && snapshot.reason?.startsWith('developer retries exhausted')
            ? 'exhausted'
            : snapshot.status,
        );
      }),
      { numRuns: 400, seed: 42 },
    );
    expect(outcomes).toContain('done');
    expect(outcomes).toContain('exhausted');
  });
});
