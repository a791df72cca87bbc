import { type CheckResult, type FoldedChecks, foldChecks } from '@conveyor/core';

/** What a staging check verifies: the product (`real`) or the sandbox it runs in (`sandbox-infra`). */
export type StagingCategory = 'real' | 'sandbox-infra';

/** One staging check's result. */
export interface StagingCheckResult extends CheckResult {
  /** what the check declares itself to be; only allowlisted ids can be infra */
  readonly category?: StagingCategory;
}

/** A check after classification. */
export interface ClassifiedCheck extends StagingCheckResult {
  readonly category: StagingCategory;
  /** true when the check declared itself `sandbox-infra` but is not on the allowlist */
  readonly notAllowlisted?: boolean;
}

/** How to fold staging checks. */
export interface StagingPolicy {
  /** the narrow allowlist: exact check ids whose failure may be sandbox trouble */
  readonly infraAllowlist: readonly string[];
  /** the kill switch: infra failures fail too */
  readonly strict: boolean;
}

/** The staging decision: the fold, the mode and every check as classified. */
export interface StagingDecision extends FoldedChecks {
  readonly mode: 'tolerant' | 'strict';
  readonly checks: readonly ClassifiedCheck[];
}

/**
 * Classifies a check: `sandbox-infra` only when its id is on the allowlist
 * (exact match) and it does not declare itself `real`; everything else is
 * `real`. A check that calls itself infra without being allowlisted stays real.
 *
 * @example
 * ```ts
 * classifyStagingCheck({ id: 'sandbox/dns', state: 'failure' }, ['sandbox/dns']).category; // 'sandbox-infra'
 * ```
 */
export function classifyStagingCheck(check: StagingCheckResult, infraAllowlist: readonly string[]): ClassifiedCheck {
  const allowlisted = infraAllowlist.includes(check.id);
  if (allowlisted && check.category !== 'real') return { ...check, category: 'sandbox-infra' };
  return {
    ...check,
    category: 'real',
    ...(check.category === 'sandbox-infra' && !allowlisted ? { notAllowlisted: true } : {}),
  };
}

/**
 * Decides staging from its checks (pure): classify each, then fold with core's
 * `foldChecks`, the infra checks being the only waivable ones. Any real
 * failure fails; infra-only failures pass with the waived list when tolerant
 * and fail when strict; any `error` (or unknown state, or no check at all) fails.
 *
 * @example
 * ```ts
 * const d = decideStaging([{ id: 'e2e', state: 'success' }, { id: 'sandbox/dns', state: 'failure' }], { infraAllowlist: ['sandbox/dns'], strict: false });
 * // d.status === 'SUCCESS', d.waived === ['sandbox/dns']
 * ```
 */
export function decideStaging(checks: readonly StagingCheckResult[], policy: StagingPolicy): StagingDecision {
  const classified = checks.map((c) => classifyStagingCheck(c, policy.infraAllowlist));
  const waivable = classified.filter((c) => c.category === 'sandbox-infra').map((c) => c.id);
  const folded = foldChecks(classified, { waivable, strict: policy.strict });
  return { ...folded, mode: policy.strict ? 'strict' : 'tolerant', checks: classified };
}
