import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CheckResult, foldChecks } from '../src/index.js';

const tolerant = { waivable: ['docs'], strict: false };
const strict = { waivable: ['docs'], strict: true };

describe('foldChecks decision table: one check', () => {
  // state, id is waivable, strict policy -> status
  const table: [string, boolean, boolean, 'SUCCESS' | 'FAILED'][] = [
    ['success', false, false, 'SUCCESS'],
    ['success', false, true, 'SUCCESS'],
    ['success', true, false, 'SUCCESS'],
    ['success', true, true, 'SUCCESS'],
    ['failure', false, false, 'FAILED'],
    ['failure', false, true, 'FAILED'],
    ['failure', true, false, 'SUCCESS'],
    ['failure', true, true, 'FAILED'],
    ['error', false, false, 'FAILED'],
    ['error', false, true, 'FAILED'],
    ['error', true, false, 'FAILED'],
    ['error', true, true, 'FAILED'],
    ['pending', false, false, 'FAILED'],
    ['pending', true, false, 'FAILED'],
    ['pending', true, true, 'FAILED'],
    ['', true, false, 'FAILED'],
    ['skipped', true, false, 'FAILED'],
    ['warning', true, false, 'FAILED'],
    ['neutral', false, false, 'FAILED'],
    ['SUCCESS', false, false, 'SUCCESS'],
    [' Failure ', true, false, 'SUCCESS'],
  ];
  it.each(table)('state %j, waivable %s, strict %s -> %s', (state, waivable, isStrict, expected) => {
    const id = waivable ? 'docs' : 'test';
    const folded = foldChecks([{ id, state }], isStrict ? strict : tolerant);
    expect(folded.status).toBe(expected);
    if (expected === 'SUCCESS') {
      expect(folded.failed).toEqual([]);
      expect(folded.errors).toEqual([]);
      expect(folded.waived).toEqual(state.trim().toLowerCase() === 'failure' ? ['docs'] : []);
    } else {
      expect(folded.waived).toEqual([]);
      expect(folded.reason).not.toBe('');
    }
  });
});

describe('foldChecks: exact outcomes', () => {
  it('no checks is FAILED: nothing was verified', () => {
    for (const policy of [tolerant, strict]) {
      expect(foldChecks([], policy)).toEqual({
        status: 'FAILED',
        waived: [],
        failed: [],
        errors: [],
        reason: 'no checks reported: nothing was verified',
      });
    }
  });

  it('all green', () => {
    expect(
      foldChecks(
        [
          { id: 'test', state: 'success' },
          { id: 'lint', state: 'success' },
        ],
        strict,
      ),
    ).toEqual({
      status: 'SUCCESS',
      waived: [],
      failed: [],
      errors: [],
      reason: 'all 2 checks passed',
    });
  });

  it('only waivable failures, tolerant: SUCCESS with the waived list', () => {
    expect(
      foldChecks(
        [
          { id: 'test', state: 'success' },
          { id: 'docs', state: 'failure', detail: 'link rot' },
        ],
        tolerant,
      ),
    ).toEqual({
      status: 'SUCCESS',
      waived: ['docs'],
      failed: [],
      errors: [],
      reason: '1 passed, 1 waived: docs',
    });
  });

  it('only waivable failures, strict: FAILED listing them', () => {
    expect(
      foldChecks(
        [
          { id: 'test', state: 'success' },
          { id: 'docs', state: 'failure' },
        ],
        strict,
      ),
    ).toEqual({
      status: 'FAILED',
      waived: [],
      failed: ['docs'],
      errors: [],
      reason: 'failed (waivable, but the policy is strict): docs',
    });
  });

  it('a real failure next to a waivable one: FAILED, the waivable one named', () => {
    expect(
      foldChecks(
        [
          { id: 'test', state: 'failure' },
          { id: 'docs', state: 'failure' },
        ],
        tolerant,
      ),
    ).toEqual({
      status: 'FAILED',
      waived: [],
      failed: ['test'],
      errors: [],
      reason: 'failed: test; also failed (waivable): docs',
    });
  });

  it('an internal error or unknown state: FAILED, in errors', () => {
    expect(
      foldChecks(
        [
          { id: 'docs', state: 'error' },
          { id: 'build', state: 'pending' },
          { id: 'x', state: '' },
          { id: 'test', state: 'success' },
        ],
        tolerant,
      ),
    ).toEqual({
      status: 'FAILED',
      waived: [],
      failed: [],
      errors: ['docs', 'build', 'x'],
      reason: 'docs errored, build is "pending", not a verdict, x is without a state, not a verdict',
    });
  });

  it('a check reported twice counts with its worst state', () => {
    expect(
      foldChecks(
        [
          { id: 'test', state: 'success' },
          { id: 'test', state: 'failure' },
        ],
        tolerant,
      ).status,
    ).toBe('FAILED');
    expect(
      foldChecks(
        [
          { id: 'test', state: 'success' },
          { id: 'test', state: 'pending' },
        ],
        tolerant,
      ).status,
    ).toBe('FAILED');
  });

  it('a waivable id must match exactly', () => {
    expect(foldChecks([{ id: 'docs-extra', state: 'failure' }], tolerant).status).toBe('FAILED');
    expect(foldChecks([{ id: 'DOCS', state: 'failure' }], tolerant).status).toBe('FAILED');
  });
});

describe('foldChecks: never a false green (property)', () => {
  const stateArb = fc.oneof(
    fc.constantFrom('success', 'failure', 'error', 'pending', 'skipped', ''),
    fc.string({ maxLength: 8 }),
  );
  const checkArb: fc.Arbitrary<CheckResult> = fc.record({
    id: fc.constantFrom('a', 'b', 'c', 'docs'),
    state: stateArb,
  });
  it('SUCCESS only when every check is success or a waived failure under a tolerant policy', () => {
    fc.assert(
      fc.property(
        fc.array(checkArb, { maxLength: 8 }),
        fc.boolean(),
        fc.subarray(['a', 'b', 'c', 'docs']),
        (checks, isStrict, waivable) => {
          const folded = foldChecks(checks, { waivable, strict: isStrict });
          const norm = (s: string) => s.trim().toLowerCase();
          const green =
            checks.length > 0 &&
            checks.every(
              (c) =>
                norm(c.state) === 'success' || (!isStrict && norm(c.state) === 'failure' && waivable.includes(c.id)),
            );
          expect(folded.status).toBe(green ? 'SUCCESS' : 'FAILED');
          if (folded.status === 'SUCCESS') {
            for (const id of folded.waived) expect(waivable).toContain(id);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
