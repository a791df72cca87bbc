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
  // which secrets a string holds, found by one probe per position (most strings hold none): was one search per secret
  const holds = list.length > 1 ? secretsFinderOf(list) : undefined;
  const redact = (text: string): string => {
    if (!holds) return redactSorted(text, list);
    const held = holds(text);
    return held.length === 0 ? text : redactSorted(text, held);
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

/** What {@link secretsFinderOf} returns: the secrets of its list that a text holds, in the list's order. */
type SecretsFinder = (text: string) => readonly string[];

// the last list's finder: a scan redacts every finding with the same list (keyed by its content, never by identity)
let lastFinder: { readonly key: string; readonly find: SecretsFinder } | undefined;

/** The preview's ellipsis: a secret that holds it may appear only after another secret is replaced. */
const ELLIPSIS = '\u2026';

/**
 * Finds which of `sorted` (longest first) occur in a text, exactly, by code
 * units as `includes` reads: each position of the text is one table probe on
 * its first two code units, and only a secret that starts with both is
 * compared there. Redacting a string with only the secrets it holds gives what
 * redacting it with all of them gives: a replacement writes the secret's first
 * characters and an ellipsis, so a secret that appears only afterwards holds
 * the ellipsis (with such a secret in the list, every string gets the whole
 * list).
 */
function secretsFinderOf(sorted: readonly string[]): SecretsFinder {
  const key = sorted.join('\u0000');
  if (lastFinder?.key === key) return lastFinder.find;
  let find: SecretsFinder = () => sorted;
  if (!sorted.some((s) => s.includes(ELLIPSIS))) {
    const single: string[] = [];
    const byPair = new Map<number, number[]>();
    // a first filter on a hash of the pair, so most positions cost one load
    const maybe = new Uint8Array(65_536);
    for (const [i, s] of sorted.entries()) {
      if (s.length === 1) {
        single.push(s);
        continue;
      }
      const pair = s.charCodeAt(0) * 65_536 + s.charCodeAt(1);
      maybe[pairHash(s.charCodeAt(0), s.charCodeAt(1))] = 1;
      const ids = byPair.get(pair);
      if (ids) ids.push(i);
      else byPair.set(pair, [i]);
    }
    find = (text: string): readonly string[] => {
      let held: Uint8Array | undefined;
      const n = text.length - 1;
      for (let i = 0; i < n; i += 1) {
        const a = text.charCodeAt(i);
        const b = text.charCodeAt(i + 1);
        if (maybe[pairHash(a, b)] === 0) continue;
        const ids = byPair.get(a * 65_536 + b);
        if (ids === undefined) continue;
        for (const id of ids) {
          if (held?.[id] === 1) continue;
          if (text.startsWith(sorted[id] as string, i)) {
            held ??= new Uint8Array(sorted.length);
            held[id] = 1;
          }
        }
      }
      const out: string[] = [];
      for (const s of single) if (text.includes(s)) out.push(s);
      if (held === undefined) return out.length === 0 ? out : sorted.filter((s) => out.includes(s));
      const flags = held;
      return sorted.filter((s, i) => flags[i] === 1 || (s.length === 1 && out.includes(s)));
    };
  }
  lastFinder = { key, find };
  return find;
}

/** A 16-bit hash of two code units. */
function pairHash(a: number, b: number): number {
  return ((a * 31) ^ b) & 0xffff;
}

/**
 * Every secret a list of findings holds: each finding's own and those of the
 * required findings a composite finding lists. What {@link redactDeep} must
 * be given to clear a scan's outputs.
 *
 * @example
 * ```ts
 * const safe = findings.map((f) => redactDeep(redactFinding(f), findingSecrets(findings)));
 * ```
 */
export function findingSecrets(findings: readonly SecretFinding[]): string[] {
  const out: string[] = [];
  for (const f of findings) {
    if (f.Secret !== '') out.push(f.Secret);
    for (const r of f.Required ?? []) if (r.Secret !== '') out.push(r.Secret);
  }
  return out;
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
  const secrets = findingSecrets([finding]);
  if (secrets.length === 0) return { ...finding };
  const safe = redactDeep(
    {
      ...finding,
      Secret: '',
      ...(finding.Required
        ? { Required: finding.Required.map((r) => ({ ...r, Secret: r.Secret === '' ? '' : redactSecret(r.Secret) })) }
        : {}),
    },
    secrets,
  );
  return { ...safe, Secret: finding.Secret === '' ? '' : redactSecret(finding.Secret) };
}
