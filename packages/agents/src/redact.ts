/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

// Credential shapes, built as regexes so no token-looking literal lives in the source.
const TOKEN_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}/g,
];
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/g;

/** Turns text into text that is safe to store: no known secret, no credential shape. */
export type Redactor = (text: string) => string;

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /** exact values to hide wherever they appear (API keys, push tokens, the host's env values); shorter than 6 characters are ignored */
  readonly values?: readonly string[];
  /** more patterns to hide (their flags are ignored: matching is case-sensitive and global) */
  readonly patterns?: readonly RegExp[];
}

/**
 * Builds a redactor: every known value (longest first), then credential shapes
 * (GitHub/GitLab/Slack/AWS/OpenAI/Anthropic keys, JWTs, private keys, bearer
 * tokens, passwords in URLs) become `[redacted]`. Transcripts, summaries and
 * error messages of agent runs all pass through it.
 *
 * @example
 * ```ts
 * const redact = createRedactor({ values: [process.env.GITEA_TOKEN ?? ''] });
 * redact('push https://bot:hunter22@git.local'); // 'push https://[redacted]@git.local'
 * ```
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const values = [...new Set((options.values ?? []).filter((v) => v.length >= 6))].sort((a, b) => b.length - a.length);
  // One alternation, one pass over the text, instead of a pass per pattern.
  const combined = new RegExp(
    [...TOKEN_PATTERNS, ...(options.patterns ?? [])].map((p) => `(?:${p.source})`).join('|'),
    'g',
  );
  return (text: string) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    out = out.replace(combined, REDACTED);
    out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
    out = out.replace(BEARER, `$1${REDACTED}`);
    return out;
  };
}

/**
 * The values of environment variables whose names say they hold a secret
 * (`*TOKEN*`, `*KEY*`, `*SECRET*`, `*PASSWORD*`, `*PASS*`, `*AUTH*`,
 * `*CREDENTIAL*`), for {@link createRedactor}'s `values`.
 *
 * @example
 * ```ts
 * const redact = createRedactor({ values: secretEnvValues(process.env) });
 * ```
 */
export function secretEnvValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && /TOKEN|KEY|SECRET|PASS|AUTH|CREDENTIAL/i.test(name))
    .map(([, value]) => value as string);
}
