const REDACTED = '[redacted]';

// Patterns for credentials that must never reach a chat. Built as regexes, not
// literals, so no token-looking string lives in the source.
const TOKEN_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi;
const ASSIGNMENT =
  /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)(\s*[:=]\s*['"]?)(?=[^\s'"]*\d)(?=[^\s'"]*[A-Za-z])[^\s'"]{8,}/gi;
const LONG_RUN = /[A-Za-z0-9+_=-]{32,}/g;

/**
 * Hides anything that looks like a credential: known token shapes (Telegram
 * bot tokens, GitHub/GitLab/Slack/AWS keys, JWTs, private keys), passwords in
 * URLs, `token=…`-style assignments, long mixed-case random-looking runs, and
 * every exact string in `extra` (the bot token, say). A second line of defence:
 * callers pass already-redacted summaries.
 *
 * @example
 * ```ts
 * redactSecrets('push to https://bot:hunter2@git.local failed'); // 'push to https://[redacted]@git.local failed'
 * ```
 */
export function redactSecrets(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const secret of extra) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
  out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  out = out.replace(ASSIGNMENT, `$1$2${REDACTED}`);
  out = out.replace(LONG_RUN, (run) => (/[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run) ? REDACTED : run));
  return out;
}
