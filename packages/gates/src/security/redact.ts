import type { SecretFinding } from './types.js';

/**
 * A preview of a secret that cannot be used: its first 4 characters and `…`
 * (only `…` when the secret is shorter than 12 characters).
 *
 * @example
 * ```ts
 * redactSecret(finding.Secret); // e.g. 'ghp_…' for a GitHub token
 * ```
 */
export function redactSecret(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 4)}…` : '…';
}

/**
 * Replaces every occurrence of each secret in `text` with its redacted preview.
 *
 * @example
 * ```ts
 * redactText(logLine, findings.map((f) => f.Secret)); // each secret becomes its preview
 * ```
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length === 0) continue;
    out = out.split(s).join(redactSecret(s));
  }
  return out;
}

/**
 * A copy of a finding that is safe to show: `Secret` becomes its preview and
 * the secret is removed from `Match` and `Message` too.
 *
 * @example
 * ```ts
 * const safe = redactFinding(finding);
 * ```
 */
export function redactFinding(finding: SecretFinding): SecretFinding {
  const secrets = [finding.Secret, finding.Match].filter((s) => s.length > 0);
  const secretOnly = [finding.Secret].filter((s) => s.length > 0);
  return {
    ...finding,
    Secret: redactSecret(finding.Secret),
    Match: finding.Secret.length > 0 ? redactText(finding.Match, secretOnly) : redactSecret(finding.Match),
    Message: redactText(finding.Message, secrets),
    Author: redactText(finding.Author, secretOnly),
  };
}
