import { describe, expect, it } from 'vitest';
import { pickFairClaims, projectClaimQuota, projectLimitOf } from '../src/index.js';

const job = (project: string, n: number, availableAt = n) => ({
  id: `job_${String(n).padStart(12, '0')}`,
  project,
  availableAt,
});
const ids = (jobs: readonly { id: string }[]) => jobs.map((j) => j.id);

describe('fair claims', () => {
  it('takes the first job of every project before the second of any, by availableAt within a round', () => {
    const queued = [job('busy', 1), job('busy', 2), job('busy', 3), job('quiet', 9), job('mid', 5), job('mid', 6)];
    expect(ids(pickFairClaims(queued, new Map(), 4, {}))).toEqual(
      ids([job('busy', 1), job('mid', 5), job('quiet', 9), job('busy', 2)]),
    );
  });

  it('keeps each project under its limit once its running jobs are counted, and never exceeds the slots', () => {
    const queued = ['a', 'b', 'c'].flatMap((p, k) => [1, 2, 3].map((i) => job(p, k * 10 + i)));
    const running = new Map([['a', 1]]);
    const picked = pickFairClaims(queued, running, 10, { projectLimits: { a: 2 }, defaultProjectLimit: 1 });
    expect(picked.map((j) => j.project)).toEqual(['a', 'b', 'c']);
    expect(pickFairClaims(queued, new Map(), 2, {})).toHaveLength(2);
    expect(pickFairClaims(queued, new Map(), 0, {})).toEqual([]);
  });

  it('a limit of 0 pauses a project; an unnamed project without a default is bounded by the slots only', () => {
    expect(projectLimitOf({ projectLimits: { paused: 0 } }, 'paused')).toBe(0);
    expect(projectLimitOf({ projectLimits: { paused: 0 } }, 'other')).toBeUndefined();
    // an inherited key is not a named project
    expect(projectLimitOf({ projectLimits: {}, defaultProjectLimit: 3 }, 'toString')).toBe(3);
    expect(projectClaimQuota({ projectLimits: { paused: 0 } }, 'paused', 0, 5)).toBe(0);
    expect(projectClaimQuota({}, 'any', 7, 5)).toBe(5);
    expect(projectClaimQuota({ defaultProjectLimit: 2 }, 'any', 3, 5)).toBe(0);
  });
});
