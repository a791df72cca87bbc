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
export function compileSecretRegex(source: string, options: { trustedBuiltIn?: boolean } = {}): SecretRegex | string {
  const re2 = compileRe2(source);
  if (typeof re2 === 'string' || !options.trustedBuiltIn) return re2;
  return compileNative(source, re2) ?? re2;
}

function compileRe2(source: string): SecretRegex | string {
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

/**
 * The built-in rules are written so that V8's own engine runs them in linear
 * time (no nested or overlapping quantifiers; every repetition bounded) and
 * with the same meaning as RE2 (ASCII `\b`/`\w`, no inline flags but a
 * leading `(?i)`). They run natively, several times faster than re2js; any
 * other pattern (every user rule) runs on re2js. The adversarial benchmark
 * guards this choice.
 */
function compileNative(source: string, re2: SecretRegex): SecretRegex | undefined {
  let body = source;
  let flags = 'g';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags += 'i';
  }
  if (/\(\?[a-zA-Z]|\(\?P<|\\z|\[\[:/.test(body)) return undefined;
  let re: RegExp;
  try {
    re = new RegExp(body, flags);
  } catch {
    return undefined;
  }
  // V8's backtracking stack is finite: on a very long run it throws instead of
  // answering; the same pattern then runs on re2js, which needs no stack
  const overflowed = (thrown: unknown) => thrown instanceof RangeError;
  return Object.freeze({
    source,
    test: (input: string) => {
      re.lastIndex = 0;
      try {
        return re.test(input);
      } catch (thrown) {
        if (!overflowed(thrown)) throw thrown;
        return re2.test(input);
      }
    },
    findAll: (input: string): RegexMatch[] => {
      const out: RegexMatch[] = [];
      re.lastIndex = 0;
      try {
        for (let m = re.exec(input); m !== null; m = re.exec(input)) {
          out.push({ start: m.index, end: m.index + m[0].length, text: m[0], groups: m.slice(1) });
          if (m[0].length === 0) re.lastIndex += 1;
        }
      } catch (thrown) {
        if (!overflowed(thrown)) throw thrown;
        return re2.findAll(input);
      }
      return out;
    },
  });
}
