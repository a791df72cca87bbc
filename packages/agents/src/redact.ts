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
  /**
   * also hide every secret this detector finds (the host passes one built on a
   * secret scanner, e.g. the gates' built-in rules: `(text) => scanText(rules, text).map((f) => f.Secret)`)
   */
  readonly detect?: SecretDetector;
}

/**
 * Finds the secrets in a text and returns them (their exact text); the
 * redactor hides each one found of 6 characters or more. Must not throw.
 */
export type SecretDetector = (text: string) => readonly string[];

/**
 * Builds a redactor: every known value (longest first), then credential shapes
 * (GitHub/GitLab/Slack/AWS/OpenAI/Anthropic keys, JWTs, private keys, bearer
 * tokens, passwords in URLs) and whatever `options.detect` finds become
 * `[redacted]`. A value is also hidden in its JSON-escaped form
 * (transcript records are JSON). Transcripts, summaries and error messages of
 * agent runs all pass through it.
 *
 * @example
 * ```ts
 * const redact = createRedactor({ values: [process.env.GITEA_TOKEN ?? ''] });
 * redact('push https://bot:hunter22@git.local'); // 'push https://[redacted]@git.local'
 * ```
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const given = (options.values ?? []).filter((v) => v.length >= 6);
  const values = [...new Set([...given, ...given.map((v) => JSON.stringify(v).slice(1, -1))])].sort(
    (a, b) => b.length - a.length,
  );
  const detect = options.detect;
  // One alternation, one pass over the text, instead of a pass per pattern.
  const combined = new RegExp(
    [...TOKEN_PATTERNS, ...(options.patterns ?? [])].map((p) => `(?:${p.source})`).join('|'),
    'g',
  );
  return (text: string) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    if (detect !== undefined) {
      const found = [...new Set(detect(out))].filter((f) => f.length >= 6);
      for (const secret of found.sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    }
    out = out.replace(combined, REDACTED);
    out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
    out = out.replace(BEARER, `$1${REDACTED}`);
    return out;
  };
}

// Words of an env name that say its value is a secret (`GITEA_TOKEN`, `DB_PASSWORD`, `SENTRY_DSN`, …).
const SECRET_WORDS = new Set([
  'TOKEN',
  'TOKENS',
  'SECRET',
  'SECRETS',
  'KEY',
  'KEYS',
  'APIKEY',
  'PASSWORD',
  'PASSWD',
  'PASS',
  'PASSPHRASE',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'AUTH',
  'AUTHORIZATION',
  'COOKIE',
  'COOKIES',
  'SESSION',
  'PRIVATE',
  'DSN',
]);
const SECRET_SUFFIX = /(?:TOKEN|SECRET|PASSWORD|PASSWD|APIKEY)$/;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i;

/**
 * Whether an environment variable's name says it holds a secret: one of its
 * words (split at `_`, `-`, `.` and camel case) is `TOKEN`, `SECRET`, `KEY`,
 * `PASSWORD`, `PASS`, `CREDENTIAL(S)`, `AUTH`, `COOKIE`, `SESSION`, `PRIVATE`,
 * `DSN` (and a few spellings of them), or ends in `TOKEN`, `SECRET`,
 * `PASSWORD` or `APIKEY`. `GIT_AUTHOR_NAME`, `CONVEYOR_TASK_ID` and
 * `CONVEYOR_BRANCH` do not.
 *
 * @example
 * ```ts
 * isSecretEnvName('GITEA_TOKEN'); // true
 * isSecretEnvName('CONVEYOR_TASK_ID'); // false
 * ```
 */
export function isSecretEnvName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w !== '');
  return words.some((w) => SECRET_WORDS.has(w) || SECRET_SUFFIX.test(w));
}

/** Options of {@link secretEnvValues}. */
export interface SecretEnvOptions {
  /** names whose values are secrets whatever they are called */
  readonly names?: readonly string[];
}

/**
 * The values of the environment variables that hold a secret, for
 * {@link createRedactor}'s `values`: those whose names say so
 * ({@link isSecretEnvName}), those named in `options.names`, and any URL with
 * a password in it (`DATABASE_URL=postgres://app:pw@db/app`: the URL and the
 * password). Other values (task ids, branches, paths) are not secrets and
 * stay readable in agent output.
 *
 * @example
 * ```ts
 * const redact = createRedactor({ values: secretEnvValues(process.env, { names: ['DEPLOY_HOOK'] }) });
 * ```
 */
export function secretEnvValues(
  env: Readonly<Record<string, string | undefined>>,
  options: SecretEnvOptions = {},
): string[] {
  const named = new Set(options.names ?? []);
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (named.has(name) || isSecretEnvName(name)) {
      out.push(value);
      continue;
    }
    if (URL_WITH_PASSWORD.test(value)) {
      out.push(value);
      try {
        const { password } = new URL(value);
        if (password !== '') out.push(password, decodeURIComponent(password));
      } catch {
        /* not a URL the platform parses: the whole value is hidden all the same */
      }
    }
  }
  return out;
}
