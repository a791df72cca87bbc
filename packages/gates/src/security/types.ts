/**
 * One secret found by a scan, with the field names of the gitleaks JSON report
 * so existing tooling reads it. `Match` and `Secret` hold the secret in clear:
 * never log or render a {@link SecretFinding} without {@link redactFinding}.
 */
export interface SecretFinding {
  RuleID: string;
  Description: string;
  StartLine: number;
  EndLine: number;
  StartColumn: number;
  EndColumn: number;
  Match: string;
  Secret: string;
  File: string;
  Commit: string;
  Entropy: number;
  Author: string;
  Email: string;
  Date: string;
  Message: string;
  Tags: string[];
  /** `commit:file:rule:line` (gitleaks' format) */
  Fingerprint: string;
  /**
   * For a composite rule (`[[rules.required]]`): the findings of its required
   * rules near this one, which `-v` prints as gitleaks does (`Required:`);
   * like gitleaks, the JSON, CSV, JUnit and SARIF reports leave them out.
   * Redacted with the finding.
   */
  Required?: SecretRequiredFinding[];
}

/** A required rule's finding near a composite finding: the subset of a finding gitleaks lists. */
export type SecretRequiredFinding = Pick<
  SecretFinding,
  'RuleID' | 'StartLine' | 'EndLine' | 'StartColumn' | 'EndColumn' | 'Match' | 'Secret'
>;

/** How an allowlist combines its criteria. */
export type AllowlistCondition = 'OR' | 'AND';

/** What an allowlist's `regexes` are matched against. */
export type RegexTarget = 'secret' | 'match' | 'line';

/** One match of a {@link SecretRegex}: offsets in UTF-16 code units and the capture groups. */
export interface RegexMatch {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** capture groups 1..n (`undefined` when a group did not take part) */
  readonly groups: readonly (string | undefined)[];
}

/** A compiled regular expression with RE2 semantics (linear time). */
export interface SecretRegex {
  /** the source pattern, as written in the config */
  readonly source: string;
  /** `true` when the pattern matches somewhere in `input` */
  test(input: string): boolean;
  /** every non-overlapping match, left to right (the first `limit` when given) */
  findAll(input: string, limit?: number): RegexMatch[];
}

/** A compiled allowlist (rule-level or global). */
export interface SecretAllowlist {
  readonly description?: string;
  readonly condition: AllowlistCondition;
  /** commit shas (full or prefix) */
  readonly commits: readonly string[];
  readonly paths: readonly SecretRegex[];
  readonly regexes: readonly SecretRegex[];
  readonly regexTarget: RegexTarget;
  /** lowercase substrings that, found in the secret, allow it */
  readonly stopwords: readonly string[];
  /** for a global allowlist: the rule ids it applies to (empty = all) */
  readonly targetRules: readonly string[];
}

/**
 * A rule a composite rule needs near each of its findings (`[[rules.required]]`):
 * a finding of rule `id` in the same fragment, within `withinLines` lines and
 * `withinColumns` columns of the primary finding's start when they are set.
 */
export interface SecretRuleRequirement {
  readonly id: string;
  readonly withinLines?: number;
  readonly withinColumns?: number;
}

/** A compiled detection rule. */
export interface SecretRule {
  readonly id: string;
  readonly description: string;
  /** matched against the content; absent for path-only rules */
  readonly regex?: SecretRegex;
  /** which capture group holds the secret (0 = whole match; default: first non-empty group) */
  readonly secretGroup?: number;
  /** minimum Shannon entropy of the secret */
  readonly entropy?: number;
  /** lowercase keywords; the rule runs only when one occurs in the fragment */
  readonly keywords: readonly string[];
  /** restricts the rule to matching file paths */
  readonly path?: SecretRegex;
  readonly tags: readonly string[];
  readonly allowlists: readonly SecretAllowlist[];
  /** a composite rule: reported only where each of these rules has a finding nearby */
  readonly required?: readonly SecretRuleRequirement[];
  /** a component of composite rules only: its findings are never reported on their own */
  readonly skipReport?: boolean;
}

/** A validated secrets configuration: rules plus global allowlists. */
export interface SecretsConfig {
  readonly title?: string;
  readonly rules: readonly SecretRule[];
  readonly allowlists: readonly SecretAllowlist[];
}
