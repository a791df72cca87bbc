import { describe, expect, it } from 'vitest';
import {
  compileSecretsConfig,
  DEFAULT_SECRETS_CONFIG,
  parseSecretsConfig,
  type SecretFinding,
  type SecretsConfig,
  scanText,
} from '../src/index.js';
import { createDecoder, type EncodedSegment } from '../src/security/decode.js';
import { createKeywordIndex } from '../src/security/keyword-index.js';
import { matchesHoldKeyword, matchNewlines, maxMatchLength } from '../src/security/re2-translate.js';
import { compileSecretRegex } from '../src/security/regex.js';
import { placesOf } from '../src/security/scanner.js';
import type { RegexMatch, SecretRegex } from '../src/security/types.js';
import { findAllInLines, findAllNear, type TextRange } from '../src/security/windowed.js';
import { gitleaksConfigText } from './fixtures/security/gitleaks-mirror.js';
import { FALSE_POSITIVES, seededRandom, TRUE_POSITIVES } from './fixtures/security/samples.js';

// A rule runs only near the places of its keywords when every match of its
// pattern provably holds one, and a later decoding pass reads only the lines
// of the last pass's decoded values. Both are reads of less text with the same
// answer: every test here compares them with the whole-text read, on texts
// built to sit on the edges (keywords at window borders, matches that could
// start before a window, long runs, unicode escapes chained across lines).

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s;
  };
}

function compiled(source: string, engine: 'auto' | 're2js'): SecretRegex {
  const re = compileSecretRegex(source, { engine });
  if (typeof re === 'string') throw new Error(re);
  return re;
}

/** Every place of `keywords` in `text` read as the keyword index reads it (A-Z, Kelvin sign, long s folded). */
function placesByHand(text: string, keywords: readonly string[]): TextRange[] {
  const folded = [...text]
    .map((c) => {
      const cp = c.codePointAt(0) as number;
      if (cp >= 0x41 && cp <= 0x5a) return c.toLowerCase();
      if (cp === 0x212a) return 'k';
      if (cp === 0x17f) return 's';
      return c;
    })
    .join('');
  expect(folded.length).toBe(text.length);
  const all: TextRange[] = [];
  for (const k of keywords) {
    for (let at = folded.indexOf(k); at !== -1; at = folded.indexOf(k, at + 1))
      all.push({ start: at, end: at + k.length });
  }
  all.sort((a, b) => a.start - b.start);
  const out: TextRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push(r);
  }
  return out;
}

const strip = (ms: readonly RegexMatch[]) => ms.map((m) => ({ start: m.start, end: m.end, text: m.text }));

describe('which patterns run only near their keywords', () => {
  it('proves that every match holds a keyword only when it does', () => {
    expect(matchesHoldKeyword('(?i)api[_.-]?key=([a-z0-9]{8})', ['api'])).toBe(true);
    expect(matchesHoldKeyword('(?i)api[_.-]?key=([a-z0-9]{8})', ['key'])).toBe(true);
    // the keyword spans a class that may be empty: `api-key`, `apikey`, … all hold `apikey`? no: `api-key` does not
    expect(matchesHoldKeyword('api[_.-]?key', ['apikey'])).toBe(false);
    expect(matchesHoldKeyword('(?:token|secret)=[a-z]{4}', ['token', 'secret'])).toBe(true);
    expect(matchesHoldKeyword('(?:token|secret)=[a-z]{4}', ['token'])).toBe(false);
    expect(matchesHoldKeyword('(?:token)?=[a-z]{4}', ['token'])).toBe(false);
    expect(matchesHoldKeyword('(?:token)+=[a-z]{4}', ['token'])).toBe(true);
    // `.` is any character, so `hooks.slack.com` need not appear as written
    expect(matchesHoldKeyword('hooks.slack.com/[a-z]{4}', ['hooks.slack.com'])).toBe(false);
    expect(matchesHoldKeyword('hooks\\.slack\\.com/[a-z]{4}', ['hooks.slack.com'])).toBe(true);
    // RE2 folds k with the Kelvin sign and s with the long s: the places read them as k and s
    expect(matchesHoldKeyword('(?i)secret_key', ['secret_key'])).toBe(true);
    expect(matchesHoldKeyword('[a-z]+_key', ['token'])).toBe(false);
    expect(matchesHoldKeyword('anything', [])).toBe(false);
    expect(matchesHoldKeyword('(unclosed', ['unclosed'])).toBe(false);
  });

  it('counts the newlines one match may hold', () => {
    expect(matchNewlines('key=[a-z]+')).toBe(0);
    expect(matchNewlines('key=.+')).toBe(0);
    expect(matchNewlines('key=(?s:.){0,3}')).toBe(3);
    expect(matchNewlines('a[\\r\\n]{1,2}b(?:\\n[a-z]{0,4}){0,5}')).toBe(7);
    expect(matchNewlines('key=\\s+')).toBe(Number.POSITIVE_INFINITY);
    expect(matchNewlines('key=[^a]*')).toBe(Number.POSITIVE_INFINITY);
    expect(matchNewlines('(unclosed')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('keyword places', () => {
  const keywords = ['key', 'ey', 'api', 'secret', 'sk_', 'k', 'xoxb-'];
  const alphabet = [
    'k',
    'K',
    '\u212a',
    'e',
    'E',
    'y',
    'a',
    'p',
    'i',
    'I',
    '\u0130',
    's',
    'S',
    '\u017f',
    'c',
    'r',
    't',
    '_',
    'x',
    'o',
    'b',
    '-',
    ' ',
    '\n',
  ];

  it('finds every place of every keyword, at its offset in the text itself', () => {
    const index = createKeywordIndex(keywords);
    const next = rng(3);
    for (let round = 0; round < 3000; round += 1) {
      let text = '';
      const n = next() % 80;
      for (let i = 0; i < n; i += 1) text += alphabet[next() % alphabet.length];
      const got = index.occurrencesIn(text);
      if (!got) throw new Error('ASCII keywords are foldable');
      for (const [k, word] of index.keywords.entries()) {
        const starts = [...got.occurrences.starts.subarray(got.occurrences.offsets[k], got.occurrences.offsets[k + 1])];
        const expected = byHandStarts(text, word);
        expect(starts, `${JSON.stringify(text)} ${word}`).toEqual(expected);
      }
      // the flags are those of the lower case (the long s is not an s there)
      const lower = text.toLowerCase();
      expect(index.keywords.filter((_, k) => got.flags[k] === 1)).toEqual(
        index.keywords.filter((w) => lower.includes(w)),
      );
    }
  });

  it('keeps counts up to date from what changed, as a full count finds', () => {
    const index = createKeywordIndex(keywords);
    const next = rng(9);
    for (let round = 0; round < 2000; round += 1) {
      let before = '';
      const n = 10 + (next() % 60);
      for (let i = 0; i < n; i += 1) before += alphabet[next() % alphabet.length];
      before = before.replaceAll('\u017f', 's');
      // replace a few disjoint stretches
      const cuts: TextRange[] = [];
      for (let at = next() % 8; at < before.length; at += 3 + (next() % 12)) {
        const end = Math.min(before.length, at + 1 + (next() % 5));
        cuts.push({ start: at, end });
        at = end;
      }
      let after = '';
      let copied = 0;
      const placed: TextRange[] = [];
      for (const c of cuts) {
        after += before.slice(copied, c.start);
        let put = '';
        for (let i = next() % 6; i > 0; i -= 1) put += ['key', 'e', 'y', 'K', 'api', 'x', ' '][next() % 7];
        if (put === '') put = 'q';
        placed.push({ start: after.length, end: after.length + put.length });
        after += put;
        copied = c.end;
      }
      after += before.slice(copied);
      const counts = countAll(index, before);
      expect(index.countNear(before, cuts, counts, -1)).toBe(true);
      expect(index.countNear(after, placed, counts, 1)).toBe(true);
      expect([...counts], `${JSON.stringify(before)} -> ${JSON.stringify(after)}`).toEqual([...countAll(index, after)]);
    }
    expect(index.countNear('a\u017fk', [{ start: 0, end: 3 }], new Int32Array(index.keywords.length), 1)).toBe(false);
    expect(createKeywordIndex(['Key']).occurrencesIn('key')).toBeUndefined();
  });
});

function byHandStarts(text: string, word: string): number[] {
  const folded = [...text]
    .map((c) =>
      c === '\u212a' ? 'k' : c === '\u017f' ? 's' : c === '\u0130' ? 'i' : /[A-Z]/.test(c) ? c.toLowerCase() : c,
    )
    .join('');
  const out: number[] = [];
  for (let at = folded.indexOf(word); at !== -1; at = folded.indexOf(word, at + 1)) out.push(at);
  return out;
}

function countAll(index: ReturnType<typeof createKeywordIndex>, text: string): Int32Array {
  const got = index.occurrencesIn(text);
  if (!got) throw new Error('foldable');
  const counts = new Int32Array(index.keywords.length);
  for (let k = 0; k < counts.length; k += 1) {
    counts[k] = (got.occurrences.offsets[k + 1] as number) - (got.occurrences.offsets[k] as number);
  }
  return counts;
}

describe('a rule searched only near its keywords finds what the whole-text search finds', () => {
  // every match holds a keyword; leftmost-first searches that depend on where they start
  const bounded: readonly (readonly [string, readonly string[]])[] = [
    ['(?i)[\\w.-]{0,12}?(?:key|token)[ \\t]{0,2}=[ \\t]{0,2}([a-z0-9]{4,9})', ['key', 'token']],
    ['\\b(?:key|ey)[a-z]{0,5}\\b', ['key', 'ey']],
    ['(?m)^[a-c]{0,3}key[a-c]{1,3}$', ['key']],
    ['[a-c]{0,6}key|key[a-c]{0,2}', ['key']],
    ['(?i)s[a-c]{2}ret', ['s']],
  ];
  const unbounded: readonly (readonly [string, readonly string[]])[] = [
    ['(?i)[\\w.-]{0,12}?(?:key|token)[ \\t]{0,2}=[ \\t\\r\\n]{0,2}([a-z0-9]{4,}|[a-c]+)', ['key', 'token']],
    ['\\bkey[a-c]*(?:\\n[a-c]{0,3}){0,2}\\b', ['key']],
    ['ey[a-c]{3,}\\.ey[a-z]{2,}', ['ey']],
    ['(?m)^token:(?s:.){0,6}?([0-9]{3,})$', ['token']],
  ];
  const alphabet = [
    'a',
    'b',
    'c',
    'key',
    'KEY',
    'k\u212aey',
    'token',
    'ey',
    '=',
    ' ',
    '\t',
    '\n',
    '0',
    '7',
    '.',
    '-',
    's',
    '\u017f',
    'sabret',
    'x',
  ];

  const texts = (seed: number, count: number): string[] => {
    const next = rng(seed);
    const out: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const len = 10 + (next() % 400);
      let text = '';
      while (text.length < len) text += alphabet[next() % alphabet.length];
      out.push(text);
    }
    return out;
  };

  for (const engine of ['auto', 're2js'] as const) {
    it(`bounded patterns, windows around the places (${engine})`, () => {
      let windowed = 0;
      for (const [source, keywords] of bounded) {
        expect(matchesHoldKeyword(source, keywords), source).toBe(true);
        const re = compiled(source, engine);
        const bound = maxMatchLength(source);
        for (const text of texts(source.length, 300)) {
          const places = placesByHand(text, keywords);
          const got = findAllNear(re, text, places, bound, Number.POSITIVE_INFINITY, true);
          expect(strip(got), `${source} ${JSON.stringify(text)}`).toEqual(strip(re.findAll(text)));
          if (places.length > 0 && text.length > 6 * bound) windowed += 1;
        }
      }
      expect(windowed).toBeGreaterThan(100);
    });

    it(`patterns with a bounded number of newlines, lines around the places (${engine})`, () => {
      for (const [source, keywords] of unbounded) {
        expect(matchesHoldKeyword(source, keywords), source).toBe(true);
        const re = compiled(source, engine);
        const newlines = matchNewlines(source);
        expect(Number.isFinite(newlines), source).toBe(true);
        for (const text of texts(source.length + 1, 300)) {
          const places = placesByHand(text, keywords);
          const starts = [0];
          for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
          const all = strip(re.findAll(text));
          expect(strip(findAllInLines(re, text, places, newlines)), `${source} ${JSON.stringify(text)}`).toEqual(all);
          expect(strip(findAllInLines(re, text, places, newlines, Number.POSITIVE_INFINITY, starts))).toEqual(all);
          // the first matches only, as a limit asks
          expect(strip(findAllInLines(re, text, places, newlines, 2, starts))).toEqual(all.slice(0, 2));
        }
      }
    });
  }

  it('searched near any ranges (decoded values), the lines give the matches that touch them', () => {
    const next = rng(21);
    for (const [source] of unbounded) {
      const re = compiled(source, 'auto');
      const newlines = matchNewlines(source);
      for (const text of texts(source.length + 2, 300)) {
        const ranges: TextRange[] = [];
        for (let at = next() % 30; at < text.length; at += 5 + (next() % 60)) {
          const end = Math.min(text.length, at + 1 + (next() % 6));
          ranges.push({ start: at, end });
          at = end;
        }
        const touching = re.findAll(text).filter((m) => ranges.some((r) => m.start <= r.end && m.end >= r.start));
        expect(strip(findAllInLines(re, text, ranges, newlines)), `${source} ${JSON.stringify(text)}`).toEqual(
          strip(touching),
        );
      }
    }
  });
});

describe('a later decoding pass reads only the lines of the last pass', () => {
  const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
  const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
  const pct = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  const uplus = (s: string) => [...s].map((c) => `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(' ');
  const esc = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  const encoders = [b64, hex, pct, uplus, esc];

  /** Every pass until nothing decodes, as (text, segments) pairs. */
  const passes = (text: string, readWhole: boolean, budget?: number) => {
    const decoder = createDecoder(budget, readWhole);
    const out: { text: string; segments: EncodedSegment[] }[] = [];
    let current = text;
    let segments: EncodedSegment[] = [];
    for (let depth = 0; depth < 8; depth += 1) {
      const next = decoder.next(current, segments);
      if (next.segments.length === 0) break;
      out.push(next);
      current = next.text;
      segments = next.segments;
    }
    return out.map((p) => ({ text: p.text, segments: p.segments.map((s) => ({ ...s, predecessors: [] })) }));
  };

  it('gives every pass the text and segments a whole read gives, on nested encodings', () => {
    const next = rng(5);
    const words = [
      'token=abc',
      'x',
      'AKIA',
      '\n',
      ' ',
      'ey',
      'U+0041',
      'U+0041\n',
      '%41',
      'zz',
      '0123456789abcdef0123456789abcdef',
    ];
    let nested = 0;
    for (let round = 0; round < 1500; round += 1) {
      let text = '';
      const parts = 1 + (next() % 8);
      for (let p = 0; p < parts; p += 1) {
        let piece = '';
        for (let w = next() % 4; w >= 0; w -= 1) piece += words[next() % words.length];
        // one to four levels of encoding, some kept as written
        for (let level = next() % 5; level > 0; level -= 1)
          piece = (encoders[next() % encoders.length] as (s: string) => string)(piece);
        text += piece + ['\n', ' ', '', '\n\n', 'z'][next() % 5];
      }
      const budget = next() % 3 === 0 ? 40 + (next() % 200) : undefined;
      const whole = passes(text, true, budget);
      expect(passes(text, false, budget), JSON.stringify(text)).toEqual(whole);
      if (whole.length >= 2) nested += 1;
    }
    expect(nested).toBeGreaterThan(300);
  });
});

describe('a scan reads less text and reports the same findings', () => {
  const key = (f: SecretFinding) =>
    `${f.RuleID} ${f.StartLine}:${f.StartColumn}-${f.EndLine}:${f.EndColumn} ${f.Secret} ${f.Tags.join(',')}`;
  const same = (config: SecretsConfig, text: string) => {
    const windowed = scanText(config, text, { file: 'a.txt' }).map(key);
    const whole = scanText(config, text, { file: 'a.txt' }, { readWhole: true }).map(key);
    expect(windowed, JSON.stringify(text.slice(0, 200))).toEqual(whole);
    return whole.length;
  };
  const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

  const texts = (): string[] => {
    const next = rng(13);
    const pieces = [...TRUE_POSITIVES.map(([, text]) => text), ...FALSE_POSITIVES];
    const out: string[] = [];
    for (let round = 0; round < 120; round += 1) {
      const lines: string[] = [];
      for (let l = 0; l < 40; l += 1) {
        const piece = pieces[next() % pieces.length] as string;
        const form = next() % 4;
        lines.push(form === 0 ? `data: ${b64(piece)}` : form === 1 ? `x = "${b64(b64(piece))}"` : piece);
      }
      out.push(lines.join(['\n', '\r\n', ' '][next() % 3] as string));
    }
    return out;
  };

  it('with the built-in rules, on their own samples, as written and encoded', () => {
    const compiled = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
    if (!compiled.ok) throw compiled.error;
    let findings = 0;
    for (const text of texts()) findings += same(compiled.value, text);
    expect(findings).toBeGreaterThan(1000);
  });

  it('with gitleaks-style rules: lead-ins, unbounded tails, several lines, a rule on re2js', async () => {
    const parsed = await parseSecretsConfig(`
[[rules]]
id = "generic-api-key"
regex = '''(?i)[\\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \\t\\w.-]{0,20})[\\s'"]{0,3}(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)[\\x60'"\\s=]{0,5}([\\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\\x60'"\\s;]|\\\\[nr]|$)'''
entropy = 3.5
keywords = ["access","api","auth","key","credential","creds","passwd","password","secret","token"]
[[rules]]
id = "jwt"
regex = '''\\b(ey[a-zA-Z0-9]{17,}\\.ey[a-zA-Z0-9\\/\\\\_-]{17,}\\.(?:[a-zA-Z0-9\\/\\\\_-]{10,}={0,2})?)(?:[\\x60'"\\s;]|\\\\[nr]|$)'''
keywords = ["ey"]
[[rules]]
id = "curl-auth-header"
regex = '''\\bcurl\\b(?:.*?|.*?(?:[\\r\\n]{1,2}.*?){1,5})[ \\t\\n\\r](?:-H|--header)(?:=|[ \\t]{0,5})(?:"(?i)(?:Authorization:[ \\t]{0,5}(?:Basic[ \\t]([a-z0-9+/]{8,}={0,3})|(?:Bearer|(?:Api-)?Token)[ \\t]([\\w=~@.+/-]{8,})|([\\w=~@.+/-]{8,}))|(?:(?:X-(?:[a-z]+-)?)?(?:Api-?)?(?:Key|Token)|key):[ \\t]{0,5}([\\w=~@.+/-]{8,}))")'''
keywords = ["curl"]
[[rules]]
id = "private-key"
regex = '''(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S-]{64,}?KEY(?: BLOCK)?-----'''
keywords = ["-----begin"]
`);
    if (!parsed.ok) throw parsed.error;
    const extra = [
      'curl -X POST https://example.test \\\n  -H "Authorization: Bearer 3f9a8b7c6d5e4f3a2b1c"',
      `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEpAIBAAKCAQEA7'.repeat(6)}\n-----END RSA PRIVATE KEY-----`,
      'api_key = "Zm9vYmFyYmF6cXV4cXV1eA"',
      'eyJhbGciOiJIUzI1NiJ9abcdefgh.eyJzdWIiOiIxMjM0NTY3ODkwIn0abcdefgh.c2lnbmF0dXJlc2lnbmF0dXJl',
    ];
    let findings = 0;
    for (const text of texts())
      findings += same(parsed.value, `${text}\n${extra.join('\n')}\n${b64(extra.join('\n'))}`);
    expect(findings).toBeGreaterThan(500);
  });

  it.skipIf(gitleaksConfigText() === undefined)(
    "with gitleaks' own default config (from a gitleaks mirror, GITLEAKS_REPO)",
    async () => {
      const parsed = await parseSecretsConfig(gitleaksConfigText() as string);
      if (!parsed.ok) throw parsed.error;
      let findings = 0;
      for (const text of texts().slice(0, 40)) findings += same(parsed.value, text);
      expect(findings).toBeGreaterThan(200);
    },
  );
});

describe("a rule's keyword places (placesOf)", () => {
  /** The definition: every place of every keyword, sorted, overlapping or touching places joined. */
  const reference = (text: string, words: readonly string[]): TextRange[] => {
    const all: { start: number; end: number }[] = [];
    for (const w of words) {
      const lower = text.toLowerCase();
      for (let at = lower.indexOf(w); at !== -1; at = lower.indexOf(w, at + 1))
        all.push({ start: at, end: at + w.length });
    }
    all.sort((x, y) => x.start - y.start || x.end - y.end);
    const out: { start: number; end: number }[] = [];
    for (const r of all) {
      const last = out.at(-1);
      if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else out.push({ ...r });
    }
    return out;
  };

  it('are the sorted, joined places of all its keywords, on random texts over their letters', () => {
    const rand = seededRandom(11);
    const vocabulary = ['ab', 'ba', 'aba', 'b', 'token', 'tok', 'ken', 'xy'];
    for (let round = 0; round < 400; round += 1) {
      const words = vocabulary.filter(() => rand(2) === 0);
      if (words.length === 0) continue;
      const index = createKeywordIndex(vocabulary);
      const ids = Int32Array.from(words.map((w) => index.keywords.indexOf(w)));
      const text = Array.from({ length: rand(120) }, () => 'abtokenxyAB -'[rand(13)]).join('');
      const found = index.occurrencesIn(text);
      expect(found).toBeDefined();
      if (!found) continue;
      expect(placesOf(ids, index.keywords, found.occurrences), `${JSON.stringify(words)} in ${text}`).toEqual(
        reference(text, words),
      );
    }
  });

  it('a text made of one keyword, 4 MB of it, is one range (no place left out, none split)', () => {
    const index = createKeywordIndex(['postgres', 'mysql']);
    const text = 'POSTGRES'.repeat(500_000);
    const found = index.occurrencesIn(text);
    if (!found) throw new Error('the index did not read the text');
    const ids = Int32Array.from([0, 1]);
    expect(placesOf(ids, index.keywords, found.occurrences)).toEqual([{ start: 0, end: text.length }]);
    const gaps = 'POSTGRES mysql '.repeat(1000);
    const again = index.occurrencesIn(gaps);
    if (!again) throw new Error('the index did not read the text');
    expect(placesOf(ids, index.keywords, again.occurrences)).toEqual(reference(gaps, ['postgres', 'mysql']));
  });
});
