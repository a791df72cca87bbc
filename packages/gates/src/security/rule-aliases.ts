/**
 * Rule ids the built-in rules used before they took gitleaks' ids for the
 * same formats, each with the id or ids that replaced it (`slack-token` was
 * split the way gitleaks splits Slack tokens). An entry of `.gitleaksignore`
 * or of a baseline written with an old id still matches the finding of the
 * rule under its new id.
 */
export const RULE_ID_ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'aws-access-key-id': ['aws-access-token'],
  'google-api-key': ['gcp-api-key'],
  'stripe-live-key': ['stripe-access-token'],
  'telegram-bot-token': ['telegram-bot-api-token'],
  'slack-token': ['slack-bot-token', 'slack-user-token', 'slack-legacy-workspace-token', 'slack-legacy-token'],
});

/**
 * The current ids a rule id stands for: the ids that replaced an old one
 * ({@link RULE_ID_ALIASES}), or the id itself.
 *
 * @example
 * ```ts
 * currentRuleIds('aws-access-key-id'); // ['aws-access-token']
 * ```
 */
export function currentRuleIds(id: string): readonly string[] {
  return Object.hasOwn(RULE_ID_ALIASES, id) ? (RULE_ID_ALIASES[id] as readonly string[]) : [id];
}

/**
 * A `.gitleaksignore` fingerprint (`commit:file:rule:line` or
 * `file:rule:line`) rewritten with each current id of its rule; empty when
 * the id is already current or the line is not a fingerprint.
 *
 * @example
 * ```ts
 * currentFingerprints('abc:src/a.ts:google-api-key:3'); // ['abc:src/a.ts:gcp-api-key:3']
 * ```
 */
export function currentFingerprints(fingerprint: string): string[] {
  const parts = fingerprint.split(':');
  if (parts.length < 3) return [];
  const rule = parts[parts.length - 2] as string;
  if (!Object.hasOwn(RULE_ID_ALIASES, rule)) return [];
  return currentRuleIds(rule).map((id) => [...parts.slice(0, -2), id, parts[parts.length - 1]].join(':'));
}
