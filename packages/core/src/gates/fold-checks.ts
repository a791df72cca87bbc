/** One check as a CI system reports it. */
export interface CheckResult {
  /** the check's id, e.g. `ci/test` */
  readonly id: string;
  /** `success`, `failure`, `error`; anything else (pending, skipped, '') is not a pass */
  readonly state: string;
  readonly detail?: string;
}

/** How strictly to fold checks. */
export interface FoldPolicy {
  /** ids of checks whose failure may be waived (an allowlist; exact match) */
  readonly waivable: readonly string[];
  /** `true`: a waivable failure still fails */
  readonly strict: boolean;
}

/** The folded decision of a set of checks. */
export interface FoldedChecks {
  readonly status: 'SUCCESS' | 'FAILED';
  /** waivable checks that failed and were waived (only when `SUCCESS`) */
  readonly waived: string[];
  /** checks that failed and count as failures (real ones, and waivable ones under a strict policy) */
  readonly failed: string[];
  /** checks that errored internally or reported a state that is not a verdict */
  readonly errors: string[];
  /** one line saying why */
  readonly reason: string;
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/**
 * Folds check results into one decision, never a false green:
 *
 * | checks | tolerant | strict |
 * |---|---|---|
 * | none | FAILED | FAILED |
 * | all `success` | SUCCESS | SUCCESS |
 * | a real `failure` | FAILED | FAILED |
 * | only waivable `failure`s | SUCCESS (waived) | FAILED |
 * | any `error` (even waivable) | FAILED | FAILED |
 * | any other state (`pending`, `skipped`, `''`…) | FAILED | FAILED |
 *
 * States are compared case-insensitively after trimming. A check reported
 * twice counts with its worst state.
 *
 * @example
 * ```ts
 * const folded = foldChecks(
 *   [{ id: 'ci/test', state: 'success' }, { id: 'ci/lint-docs', state: 'failure' }],
 *   { waivable: ['ci/lint-docs'], strict: false },
 * );
 * // { status: 'SUCCESS', waived: ['ci/lint-docs'], failed: [], errors: [], reason: '…' }
 * ```
 */
export function foldChecks(checks: readonly CheckResult[], policy: FoldPolicy): FoldedChecks {
  if (checks.length === 0) {
    return { status: 'FAILED', waived: [], failed: [], errors: [], reason: 'no checks reported: nothing was verified' };
  }
  const waivable = new Set(policy.waivable);
  const realFailures: string[] = [];
  const waivableFailures: string[] = [];
  const errors: string[] = [];
  const errorNotes: string[] = [];
  for (const check of checks) {
    const state = typeof check.state === 'string' ? check.state.trim().toLowerCase() : '';
    if (state === 'success') continue;
    if (state === 'failure') {
      (waivable.has(check.id) ? waivableFailures : realFailures).push(check.id);
    } else if (state === 'error') {
      errors.push(check.id);
      errorNotes.push(`${check.id} errored`);
    } else {
      errors.push(check.id);
      errorNotes.push(`${check.id} is ${state === '' ? 'without a state' : `"${state}"`}, not a verdict`);
    }
  }
  const failedIds = unique(realFailures);
  const waivableIds = unique(waivableFailures).filter((id) => !failedIds.includes(id));
  const errorIds = unique(errors);

  const problems: string[] = [];
  if (errorNotes.length > 0) problems.push(unique(errorNotes).join(', '));
  if (failedIds.length > 0) problems.push(`failed: ${failedIds.join(', ')}`);
  if (waivableIds.length > 0 && policy.strict) {
    problems.push(`failed (waivable, but the policy is strict): ${waivableIds.join(', ')}`);
  } else if (waivableIds.length > 0 && problems.length > 0) {
    problems.push(`also failed (waivable): ${waivableIds.join(', ')}`);
  }

  if (problems.length > 0) {
    return {
      status: 'FAILED',
      waived: [],
      failed: policy.strict ? unique([...failedIds, ...waivableIds]) : failedIds,
      errors: errorIds,
      reason: problems.join('; '),
    };
  }
  const passed = unique(checks.map((c) => c.id)).length - waivableIds.length;
  return {
    status: 'SUCCESS',
    waived: waivableIds,
    failed: [],
    errors: [],
    reason:
      waivableIds.length === 0
        ? `all ${passed} checks passed`
        : `${passed} passed, ${waivableIds.length} waived: ${waivableIds.join(', ')}`,
  };
}
