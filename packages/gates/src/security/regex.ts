import { RE2JS } from 're2js';
import { necessaryPrefix, requiredFactors, translateRe2 } from './re2-translate.js';
import type { RegexMatch, SecretRegex } from './types.js';

/** Which engine runs a compiled pattern: V8 (translated from RE2, or a built-in written for V8) or re2js. */
export type SecretRegexEngine = 'v8' | 'v8-built-in' | 're2js';

const engines = new WeakMap<SecretRegex, SecretRegexEngine>();

/**
 * The engine a compiled pattern runs on (for tests and reports: a hostile
 * pattern must be on re2js or a provably linear translation).
 *
 * @example
 * ```ts
 * const re = compileSecretRegex('(a+)+$');
 * if (typeof re !== 'string') secretRegexEngine(re); // 're2js'
 * ```
 */
export function secretRegexEngine(re: SecretRegex): SecretRegexEngine | undefined {
  return engines.get(re instanceof DeferredRegex ? re.compiled : re);
}

/**
 * A pattern of the built-in configuration, compiled the first time it runs:
 * a short scan runs few of the rules, and translating all of them took a
 * fifth of a one-commit scan. The tests compile every built-in pattern, so
 * one that does not compile here is a bug of this package (it throws, and the
 * scan ends with an error verdict).
 */
class DeferredRegex implements SecretRegex {
  #compiled: SecretRegex | undefined;
  readonly source: string;
  readonly #compile: () => SecretRegex | string;

  constructor(source: string, compile: () => SecretRegex | string) {
    this.source = source;
    this.#compile = compile;
  }

  get compiled(): SecretRegex {
    if (this.#compiled === undefined) {
      const re = this.#compile();
      if (typeof re === 'string') throw new Error(`a built-in secret pattern does not compile: ${re}`);
      this.#compiled = re;
    }
    return this.#compiled;
  }

  test(input: string): boolean {
    return this.compiled.test(input);
  }

  findAll(input: string, limit?: number): RegexMatch[] {
    return this.compiled.findAll(input, limit);
  }
}

/**
 * {@link compileSecretRegex} of a pattern of the built-in configuration
 * (valid RE2, proved by the tests), deferred until the pattern first runs.
 *
 * @internal the config compiler's
 */
export function deferredBuiltInRegex(source: string, options: Parameters<typeof compileSecretRegex>[1]): SecretRegex {
  return new DeferredRegex(source, () => compileSecretRegex(source, options));
}

const tagged = (re: SecretRegex, engine: SecretRegexEngine): SecretRegex => {
  engines.set(re, engine);
  return re;
};

/**
 * Compiles a pattern with RE2 semantics (the dialect gitleaks rules are written
 * in: `(?i)` anywhere, `(?i:…)`, `(?P<name>…)`, `\z`, `[[:alnum:]]`, `(?s:.)`).
 * Matching is linear in the input, so adversarial text cannot hang a scan:
 * a pattern runs on V8 when the RE2-to-V8 translation (`re2-translate.ts`) proves a translation of the
 * same meaning with a bounded cost per start position (most gitleaks rules),
 * else on re2js (`engine: 're2js'` forces re2js, as the tests that compare
 * both engines do). Returns the parser's message when the pattern is invalid.
 *
 * @example
 * ```ts
 * const re = compileSecretRegex('(?i)token=(?P<v>[a-z0-9]{8})');
 * if (typeof re !== 'string') re.findAll('TOKEN=abcd1234');
 * ```
 */
export function compileSecretRegex(
  source: string,
  options: {
    /** a built-in rule's pattern, written for V8: run natively */
    trustedBuiltIn?: boolean;
    /** the caller vouches that the pattern is valid RE2 (the built-in configuration's): re2js compiles it only if it runs there */
    knownValid?: boolean;
    /** `re2js` forces re2js (the tests that compare engines) */
    engine?: 'auto' | 're2js';
  } = {},
): SecretRegex | string {
  if (options.trustedBuiltIn && options.engine !== 're2js') {
    // a built-in may use repeat counts above RE2's limit of 1000 (bounds that keep V8 linear)
    const native = compileNative(source, () => compileRe2(source));
    if (native) return tagged(native, 'v8-built-in');
  }
  // a pattern known to be valid RE2 (one of the built-in configuration's) is compiled by re2js only when it runs there
  if (options.knownValid && options.engine !== 're2js') {
    const onV8Only = translatedOnV8(source, () => compileRe2(source) as SecretRegex);
    if (onV8Only) return onV8Only;
  }
  const re2 = compileRe2(source);
  if (typeof re2 === 'string' || options.engine === 're2js') return re2;
  return translatedOnV8(source, () => re2) ?? re2;
}

/** The pattern on V8 when the RE2-to-V8 translation proves it (`fallback`: re2js, for a V8 stack overflow). */
function translatedOnV8(source: string, fallback: () => SecretRegex): SecretRegex | undefined {
  const translated = translateRe2(source);
  if (!translated.ok) return undefined;
  let re: RegExp | undefined;
  let anchored: Anchored | undefined;
  try {
    re = new RegExp(translated.source, 'gu');
    if (translated.anchor) {
      anchored = {
        anchor: new RegExp(translated.anchor.source, 'gu'),
        sticky: new RegExp(translated.source, 'yu'),
        lead: translated.anchor.lead,
        inLead: unitTest(translated.anchor.leadChars),
      };
    }
  } catch {
    return undefined;
  }
  return tagged(onV8(source, re, fallback, anchored), 'v8');
}

function compileRe2(source: string): SecretRegex | string {
  const cached = re2Cache.get(source);
  if (cached) return cached;
  const compiled = compileRe2Uncached(source);
  if (typeof compiled !== 'string') re2Cache.set(source, compiled);
  return compiled;
}

/** re2js's flag for a search that may start anywhere at or after its position. */
const RE2_UNANCHORED = 0;

/** re2js programs by source: the same pattern in many rules or allowlists is compiled once. */
const re2Cache = new Map<string, SecretRegex>();

/**
 * A pattern on re2js. With `prefilter` (the default), a search stops where
 * some set of strings every match holds one of ({@link requiredFactors}) has
 * none left in the text: a V8 search finds the next of each, once per place.
 * And when every match must
 * begin with a few fixed characters ({@link necessaryPrefix}), a V8 search for
 * them comes first: no occurrence, no match (most texts hold no `ey` followed
 * by 17 letters, and re2js would have read them all); otherwise re2js
 * searches from the first occurrence, which changes nothing, since no match
 * starts before it. Before each search for a match and its submatches
 * (re2js's NFA), re2js's DFA, which keeps no submatches, says whether there
 * is one at all: most texts hold none past their last match. The V8 search is
 * linear (a fixed-length sequence of classes), re2js's DFA and NFA too.
 */
export function compileRe2Engine(source: string, options: { prefilter?: boolean } = {}): SecretRegex | string {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (thrown) {
    return thrown instanceof Error ? thrown.message : String(thrown);
  }
  const groupCount = compiled.groupCount();
  const program = compiled.re2Input;
  /**
   * Whether a match starts at or after `from`: re2js asked for no submatch
   * runs its DFA, not its NFA, which would keep threads for the submatches
   * of every place it reads (several times slower: a text with no match left
   * is read once, by the DFA, and a text with one by both).
   */
  const matchesFrom = (input: string, from: number): boolean =>
    program.matchWithGroup(input, from, input.length, RE2_UNANCHORED, 0)[0] === true;
  const prefilter = options.prefilter !== false;
  const prefixSource = !prefilter ? undefined : necessaryPrefix(source);
  const prefix = prefixSource === undefined ? undefined : new RegExp(prefixSource, 'g');
  /** Where the next match may start, at or after `from`; -1: nowhere. */
  const nextStart = (input: string, from: number): number => {
    if (!prefix) return from;
    prefix.lastIndex = from;
    try {
      return prefix.exec(input)?.index ?? -1;
    } catch (thrown) {
      // V8 out of backtracking stack: no prefilter for this input, re2js searches from `from`
      if (thrown instanceof RangeError) return from;
      throw thrown;
    }
  };
  const factors = !prefilter ? [] : requiredFactors(source).slice(0, 3).map(factorSearch);
  /** Whether every set of {@link requiredFactors} has a string at or after `from` (`seen`: the last places found, per set). */
  const holdsFactors = (input: string, from: number, seen: Int32Array): boolean => {
    for (let k = 0; k < factors.length; k += 1) {
      const at = seen[k] as number;
      if (at === -2) return false;
      if (at >= from) continue;
      const re = factors[k] as RegExp;
      re.lastIndex = from;
      const found = re.exec(input)?.index ?? -2;
      seen[k] = found;
      if (found === -2) return false;
    }
    return true;
  };
  return tagged(
    Object.freeze({
      source,
      test: (input: string) => {
        if (factors.length > 0 && !holdsFactors(input, 0, new Int32Array(factors.length).fill(-1))) return false;
        const at = nextStart(input, 0);
        return at >= 0 && matchesFrom(input, at);
      },
      findAll: (input: string, limit = Number.POSITIVE_INFINITY): RegexMatch[] => {
        const out: RegexMatch[] = [];
        const seen = new Int32Array(factors.length).fill(-1);
        if (factors.length > 0 && !holdsFactors(input, 0, seen)) return out;
        let from = nextStart(input, 0);
        if (from < 0) return out;
        const m = compiled.matcher(input);
        while (
          out.length < limit &&
          from >= 0 &&
          from <= input.length &&
          (factors.length === 0 || holdsFactors(input, from, seen)) &&
          (!prefilter || matchesFrom(input, from)) &&
          m.find(from)
        ) {
          const start = m.start();
          const end = m.end();
          const groups: (string | undefined)[] = [];
          for (let g = 1; g <= groupCount; g += 1) groups.push(m.group(g) ?? undefined);
          out.push({ start, end, text: input.slice(start, end), groups });
          from = end > start ? end : end + 1;
          if (from <= input.length) from = nextStart(input, from);
        }
        return out;
      },
    }),
    're2js',
  );
}

/**
 * A V8 search (code units, linear: an alternation of fixed strings) for the
 * strings of one set of {@link requiredFactors}: each ASCII letter in either
 * case, `k` also as the Kelvin sign and `s` as the long s, as the sets are
 * folded; every other code unit as itself.
 */
function factorSearch(set: readonly string[]): RegExp {
  const spell = (x: string): string => {
    let out = '';
    for (let i = 0; i < x.length; i += 1) {
      const c = x.charCodeAt(i);
      if (c >= 0x61 && c <= 0x7a) {
        const extra = c === 0x6b ? '\\u212a' : c === 0x73 ? '\\u017f' : '';
        out += `[${String.fromCharCode(c)}${String.fromCharCode(c - 32)}${extra}]`;
      } else out += `\\u${c.toString(16).padStart(4, '0')}`;
    }
    return out;
  };
  return new RegExp(set.map(spell).join('|'), 'g');
}

function compileRe2Uncached(source: string): SecretRegex | string {
  return compileRe2Engine(source);
}

/**
 * The built-in rules are written so that V8's own engine runs them in linear
 * time (no nested or overlapping quantifiers; every repetition bounded) and
 * with the same meaning as RE2 (ASCII `\b`/`\w`, no inline flags but a
 * leading `(?i)`). They run natively, several times faster than re2js; any
 * other pattern (every user rule) runs on re2js. The adversarial benchmark
 * guards this choice.
 */
function compileNative(source: string, fallback: () => SecretRegex | string): SecretRegex | undefined {
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
  return onV8(source, re, fallback);
}

/** A translated pattern's anchor (see `translateRe2`) and the whole pattern, sticky. */
interface Anchored {
  readonly anchor: RegExp;
  readonly sticky: RegExp;
  readonly lead: number;
  /** whether a code unit may be consumed by the lead-in (undefined: any may) */
  readonly inLead: ((unit: number) => boolean) | undefined;
}

/**
 * A test of code units against code point ranges, when all lie below the
 * surrogates (one unit is then one character); otherwise undefined.
 */
function unitTest(ranges: readonly (readonly [number, number])[]): ((unit: number) => boolean) | undefined {
  if (ranges.some(([, hi]) => hi >= 0xd800)) return undefined;
  const ascii = new Uint8Array(128);
  const other: (readonly [number, number])[] = [];
  for (const [lo, hi] of ranges) {
    for (let c = lo; c <= Math.min(hi, 127); c += 1) ascii[c] = 1;
    if (hi > 127) other.push([Math.max(lo, 128), hi]);
  }
  return (unit) => (unit < 128 ? ascii[unit] === 1 : other.some(([lo, hi]) => lo <= unit && unit <= hi));
}

/** A match of a `y` RegExp at `at`, as a {@link RegexMatch}. */
function stickyAt(sticky: RegExp, input: string, at: number): RegexMatch | undefined {
  sticky.lastIndex = at;
  const m = sticky.exec(input);
  return m ? { start: m.index, end: m.index + m[0].length, text: m[0], groups: m.slice(1) } : undefined;
}

const midPair = (input: string, at: number): boolean => {
  const c = input.charCodeAt(at);
  const b = input.charCodeAt(at - 1);
  return c >= 0xdc00 && c <= 0xdfff && b >= 0xd800 && b <= 0xdbff;
};

/**
 * Every match, left to right, found through the anchor: no match can start
 * more than `lead` units before an occurrence of the anchor, so only those
 * positions are tried (anchored, in order: the leftmost match, as a search
 * from the same place finds it).
 */
function anchoredFindAll(a: Anchored, input: string, limit: number): RegexMatch[] {
  const out: RegexMatch[] = [];
  let from = 0;
  while (out.length < limit && from <= input.length) {
    a.anchor.lastIndex = from;
    const hit = a.anchor.exec(input);
    if (hit === null) break;
    const o = Math.max(hit.index, from);
    let first = Math.max(from, o - a.lead);
    // a match starting before the anchor consumes every character up to it with its lead-in
    // (an earlier occurrence of the anchor would have been found first)
    if (a.inLead) {
      let p = o;
      while (p > first && a.inLead(input.charCodeAt(p - 1))) p -= 1;
      first = p;
    }
    let found: RegexMatch | undefined;
    for (let p = first; p <= o && found === undefined; p += 1) {
      if (!midPair(input, p)) found = stickyAt(a.sticky, input, p);
    }
    if (found === undefined) {
      from = o + 1;
      continue;
    }
    out.push(found);
    from = found.end > found.start ? found.end : found.end + 1;
  }
  return out;
}

/** A `g` RegExp as a {@link SecretRegex}, on `fallback` if V8 runs out of backtracking stack. */
function onV8(source: string, re: RegExp, fallback: () => SecretRegex | string, anchored?: Anchored): SecretRegex {
  // V8's backtracking stack is finite: on a very long run it throws instead of
  // answering; the same pattern then runs on re2js, which needs no stack
  let re2: SecretRegex | undefined;
  const onRe2 = (thrown: unknown): SecretRegex => {
    if (!(thrown instanceof RangeError)) throw thrown;
    if (re2 === undefined) {
      const r = fallback();
      if (typeof r === 'string') throw thrown;
      re2 = r;
    }
    return re2;
  };
  return Object.freeze({
    source,
    test: (input: string) => {
      re.lastIndex = 0;
      try {
        if (anchored) return anchoredFindAll(anchored, input, 1).length > 0;
        return re.test(input);
      } catch (thrown) {
        return onRe2(thrown).test(input);
      }
    },
    findAll: (input: string, limit = Number.POSITIVE_INFINITY): RegexMatch[] => {
      const out: RegexMatch[] = [];
      re.lastIndex = 0;
      try {
        if (anchored) return anchoredFindAll(anchored, input, limit);
        for (let m = re.exec(input); m !== null && out.length < limit; m = re.exec(input)) {
          out.push({ start: m.index, end: m.index + m[0].length, text: m[0], groups: m.slice(1) });
          if (m[0].length === 0) re.lastIndex += 1;
        }
      } catch (thrown) {
        return onRe2(thrown).findAll(input, limit);
      }
      return out;
    },
  });
}
