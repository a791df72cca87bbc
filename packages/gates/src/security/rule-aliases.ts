/**
 * Rule ids the built-in rules used before they took gitleaks' ids for the
 * same formats. An entry of `.gitleaksignore` or of a baseline written with an
 * old id still matches the finding of the rule under its new id.
 */
export const RULE_ID_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'aws-access-key-id': 'aws-access-token',
  'google-api-key': 'gcp-api-key',
  'stripe-live-key': 'stripe-access-token',
  'telegram-bot-token': 'telegram-bot-api-token',
});

/**
 * The current id of a rule id that may be an old one ({@link RULE_ID_ALIASES});
 * any other id is returned as is.
 *
 * @example
 * ```ts
 * canonicalRuleId('aws-access-key-id'); // 'aws-access-token'
 * ```
 */
export function canonicalRuleId(id: string): string {
  return Object.hasOwn(RULE_ID_ALIASES, id) ? (RULE_ID_ALIASES[id] as string) : id;
}

/**
 * A `.gitleaksignore` fingerprint (`commit:file:rule:line` or
 * `file:rule:line`) with its rule id made current; `undefined` when the id is
 * already current or the line is not a fingerprint.
 */
export function canonicalFingerprint(fingerprint: string): string | undefined {
  const parts = fingerprint.split(':');
  if (parts.length < 3) return undefined;
  const rule = parts[parts.length - 2] as string;
  const current = canonicalRuleId(rule);
  if (current === rule) return undefined;
  parts[parts.length - 2] = current;
  return parts.join(':');
}
