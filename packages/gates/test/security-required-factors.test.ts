import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { hashSeed, regexGenerator, seededRandom } from '../../../bench/gitleaks-samples/regex-gen.js';
import { DEFAULT_SECRETS_CONFIG } from '../src/index.js';
import { requiredFactors } from '../src/security/re2-translate.js';
import { compileRe2Engine } from '../src/security/regex.js';
import { gitleaksConfigText } from './fixtures/security/gitleaks-mirror.js';

// A re2js search stops where a set of strings that every match holds one of
// has none left in the text. The sets are read off the pattern's syntax; a
// wrong set would hide a secret, so every set is checked against real
// matches: strings generated from each pattern, matched by re2js without the
// prefilter, must each hold a string of every set (compared as the sets are
// folded: ASCII letters, the Kelvin sign and the long s in lower case).

const fold = (s: string) =>
  s.replace(/[A-Z\u212a\u017f]/g, (c) => (c === '\u212a' ? 'k' : c === '\u017f' ? 's' : c.toLowerCase()));

/** Checks every set of `pattern` on `count` generated texts; returns how many matches were checked. */
function checkSound(pattern: string, count: number): number {
  const sets = requiredFactors(pattern);
  const off = compileRe2Engine(pattern, { prefilter: false });
  const on = compileRe2Engine(pattern);
  if (typeof off === 'string' || typeof on === 'string') return 0;
  let gen: (random: () => number) => string;
  try {
    gen = regexGenerator(pattern, 3);
  } catch {
    return 0;
  }
  const random = seededRandom(hashSeed(pattern));
  let checked = 0;
  for (let i = 0; i < count; i += 1) {
    const text = `x ${gen(random)} \n${gen(random)}\n`;
    const matches = off.findAll(text);
    for (const m of matches) {
      for (const set of sets) {
        expect(
          set.some((s) => fold(m.text).includes(s)),
          `${pattern.slice(0, 60)}: ${JSON.stringify(m.text)} holds none of ${JSON.stringify(set)}`,
        ).toBe(true);
      }
      checked += 1;
    }
    expect(on.findAll(text), pattern.slice(0, 60)).toEqual(matches);
  }
  return checked;
}

describe('the strings every match of a re2js pattern holds', () => {
  it('are read off literals, runs of few strings, alternations and repeats', () => {
    expect(requiredFactors('\\bcurl\\b.*[ \\t](?:-u|--user)')).toEqual([
      ['curl'],
      ['\t-u', '\t--user', ' -u', ' --user'],
    ]);
    // an alternation: one string of some branch
    expect(requiredFactors('(?:alpha|beta)[0-9]+')).toEqual([['alpha', 'beta']]);
    // case-insensitive letters are folded; a repeat of at least one keeps its strings, an optional part gives none
    expect(requiredFactors('(?i)TOKEN(?:_ID)?=\\w{8}')).toEqual([['token=', 'token_id=']]);
    expect(requiredFactors('(?:abc)+x')).toEqual([['abc']]);
    expect(requiredFactors('(?:abc)*x')).toEqual([]);
    // a branch with nothing provable: no set from the alternation
    expect(requiredFactors('(?:abc|[a-z]+)=')).toEqual([]);
    // single characters are in most texts: no set of them
    expect(requiredFactors('a[0-9]{4}')).toEqual([]);
    // what the parser does not read gives nothing (never a wrong set)
    expect(requiredFactors('(?<=x)abc')).toEqual([]);
  });

  it('cut re2js searches short only where no match can be, across the folds RE2 makes', () => {
    const re = compileRe2Engine('(?i)\\bsk_(?:live|test)_[a-z0-9]{8}');
    if (typeof re === 'string') throw new Error(re);
    const secret = 'SK_\u212aIVE_abcd1234'.replace('\u212a', 'L');
    expect(re.findAll(`x ${secret} y`).map((m) => m.text)).toEqual([secret]);
    // the long s and the Kelvin sign fold with s and k in RE2: the prefilter must not drop them
    const folded = compileRe2Engine('(?i)ask_key=[a-z]{4}');
    if (typeof folded === 'string') throw new Error(folded);
    expect(folded.findAll('a\u017f\u212a_KEY=abcd').map((m) => m.text)).toEqual(['a\u017f\u212a_KEY=abcd']);
    expect(folded.findAll('ask_kez=abcd ask key=abcd')).toEqual([]);
  });

  it('hold in every match of generated texts, for every built-in rule', () => {
    let checked = 0;
    for (const rule of DEFAULT_SECRETS_CONFIG.rules ?? []) {
      if (rule.regex) checked += checkSound(rule.regex, 20);
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('hold for patterns written to be hard: nested alternations, lazy repeats, multi-line lead-ins', () => {
    let checked = 0;
    for (const pattern of [
      '\\bcurl\\b(?:.*|.*(?:[\\r\\n]{1,2}.*){1,3})[ \\t\\n\\r](?:-u|--user)(?:=|[ \\t]{0,5})([a-z]{3,}:[a-z]{3,})',
      '(?i)\\bcurl\\b.*?[ \\t](?:-H|--header)[ \\t]{0,3}"(?:authorization: (?:basic|bearer) ([a-z0-9]{8,})|x-api-key: ([a-z0-9]{8,}))"',
      '(?:(?:ab|cd)(?:ef|gh)|ij(?:kl)+)[0-9]{2}',
      '(?i)(?:api|secret)[_.-]?(?:key|token)[ \\t]*[:=][ \\t]*([a-z0-9]{12,})',
      'x(?:yz)?(?:-{2}|_)[A-Z]{3}',
    ]) {
      checked += checkSound(pattern, 40);
    }
    expect(checked).toBeGreaterThan(100);
  });

  const text = gitleaksConfigText();
  it.skipIf(text === undefined)("hold in every match of generated texts, for every rule of gitleaks' config", () => {
    const cfg = parse(text as string) as { rules: { regex?: string }[] };
    let checked = 0;
    for (const r of cfg.rules) if (r.regex !== undefined) checked += checkSound(r.regex, 10);
    expect(checked).toBeGreaterThan(1000);
  });
});
