import { RE2JS } from 're2js';
import type { RegexMatch, SecretRegex } from './types.js';

/**
 * Compiles a pattern with RE2 semantics (the dialect gitleaks rules are written
 * in: `(?i)` anywhere, `(?i:…)`, `(?P<name>…)`, `\z`, `[[:alnum:]]`, `(?s:.)`).
 * Matching is linear in the input, so adversarial text cannot hang a scan.
 * Returns the parser's message when the pattern is invalid.
 *
 * @example
 * ```ts
 * const re = compileSecretRegex('(?i)token=(?P<v>[a-z0-9]{8})');
 * if (typeof re !== 'string') re.findAll('TOKEN=abcd1234');
 * ```
 */
export function compileSecretRegex(source: string): SecretRegex | string {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (thrown) {
    return thrown instanceof Error ? thrown.message : String(thrown);
  }
  const groupCount = compiled.groupCount();
  return Object.freeze({
    source,
    test: (input: string) => compiled.test(input),
    findAll: (input: string): RegexMatch[] => {
      const out: RegexMatch[] = [];
      const m = compiled.matcher(input);
      let from = 0;
      while (from <= input.length && m.find(from)) {
        const start = m.start();
        const end = m.end();
        const groups: (string | undefined)[] = [];
        for (let g = 1; g <= groupCount; g += 1) groups.push(m.group(g) ?? undefined);
        out.push({ start, end, text: input.slice(start, end), groups });
        from = end > start ? end : end + 1;
      }
      return out;
    },
  });
}
