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
  const list = sortedSecrets(secrets);
  if (list.length === 0) return value;
  // one search finds whether a string holds any secret at all (most hold none), instead of one per secret
  const any = list.length > 1 && list.length <= 20_000 ? anySecretOf(list) : undefined;
  const redact = (text: string): string => {
    if (any && !any.test(text)) return text;
    return redactSorted(text, list);
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[redact(k)] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/** The distinct non-empty secrets, longest first. */
function sortedSecrets(secrets: readonly string[]): readonly string[] {
  return [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
}

// the last list's pattern: a scan redacts every finding with the same list (keyed by its content, never by identity)
let lastAny: { readonly key: string; readonly re: RegExp | undefined } | undefined;

/**
 * A pattern that matches where any of `sorted` occurs, by code units as
 * `includes` reads (each escaped: secrets are literal text); `undefined` when
 * the engine refuses a pattern that large.
 */
function anySecretOf(sorted: readonly string[]): RegExp | undefined {
  const key = sorted.join('\u0000');
  if (lastAny?.key === key) return lastAny.re;
  let re: RegExp | undefined;
  try {
    re = new RegExp(sorted.map((s) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'));
  } catch {
    re = undefined;
  }
  lastAny = { key, re };
  return re;
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
