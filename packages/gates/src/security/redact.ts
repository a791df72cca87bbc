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
  return redactSorted(
    text,
    [...secrets].sort((a, b) => b.length - a.length),
  );
}

/** {@link redactText} with the secrets already sorted longest first; a secret the text does not hold costs one search. */
function redactSorted(text: string, sorted: readonly string[]): string {
  let out = text;
  for (const s of sorted) {
    if (s.length === 0 || !out.includes(s)) continue;
    out = out.split(s).join(redactSecret(s));
  }
  return out;
}

/**
 * A deep copy of `value` with every occurrence of each secret replaced by its
 * preview in every string (object keys included), however deeply nested.
 *
 * @example
 * ```ts
 * const safe = redactDeep(outcome, findings.map((f) => f.Secret));
 * ```
 */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSorted(v, list);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[redactSorted(k, list)] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * A copy of a finding that is safe to show: `Secret` becomes its preview and
 * the secret is removed from every other field. Run {@link redactDeep} with
 * every secret of the scan afterwards: another finding's secret may sit in
 * this one's commit message.
 *
 * @example
 * ```ts
 * const safe = redactFinding(finding);
 * ```
 */
export function redactFinding(finding: SecretFinding): SecretFinding {
  if (finding.Secret.length === 0) return { ...finding };
  const safe = redactDeep({ ...finding, Secret: '' }, [finding.Secret]);
  return { ...safe, Secret: redactSecret(finding.Secret) };
}
