import { describe, expect, it } from 'vitest';
import { redactDeep, redactSecret } from '../src/index.js';

// redactDeep skips, with one search, the strings that hold no secret; every
// other string is redacted as before: each secret, longest first, replaced by
// its preview. The reference below is that loop on every string.
function reference(value: unknown, secrets: readonly string[]): unknown {
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  const text = (t: string) => list.reduce((out, s) => out.split(s).join(redactSecret(s)), t);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    }
    return v;
  };
  return walk(value);
}

describe('redactDeep', () => {
  it('redacts secrets that are full of pattern syntax, overlap, nest, and sit in keys', () => {
    const secrets = [
      'a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o/p-q',
      'ghp_0123456789abcdefABCDEF0123456789abcd',
      '0123456789abcdef',
      'abcdef01',
      '\ud83d\ude00secret\ud800',
      'line\nbreak-secret',
    ];
    const value = {
      message: `deploy ${secrets[0]} and ${secrets[1]} (prefix ${secrets[2]}) ${secrets[4]}`,
      list: [secrets[3], `x${secrets[5]}y`, 42, null, { deep: [`...${secrets[1]}...`] }],
      [`key-${secrets[2]}`]: 'clean text',
      clean: 'nothing to see',
    };
    const got = redactDeep(value, secrets);
    expect(got).toEqual(reference(value, secrets));
    expect(JSON.stringify(got)).not.toContain(secrets[1]);
    expect(JSON.stringify(got)).not.toContain('0123456789abcdef');
    expect(got.clean).toBe('nothing to see');
  });

  it('redacts a secret that appears only once a longer one is replaced by its preview', () => {
    // 'abcdefghijklmn' becomes 'abcd…', and then the text holds 'd…z'
    const secrets = ['abcdefghijklmn', 'd\u2026z'];
    const value = { line: 'abcdefghijklmnz' };
    expect(redactDeep(value, secrets)).toEqual(reference(value, secrets));
    expect(redactDeep(value, secrets).line).toBe('abc\u2026');
  });

  // the second alphabet holds the preview's ellipsis: a secret with one may appear only once another is replaced
  it.each([
    ['pattern syntax', 'ab.*()[]|\\^$c-\n'],
    ['the preview ellipsis', 'ab.*\\c-\n\u2026'],
  ])('agrees with the reference on random strings and secret lists (%s), one list for many values', (_, alphabet) => {
    let seed = 17;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed;
    };
    const word = (n: number) => Array.from({ length: n }, () => alphabet[next() % alphabet.length]).join('');
    for (let round = 0; round < 300; round += 1) {
      const secrets = Array.from({ length: 1 + (next() % 12) }, () => word(1 + (next() % 14)));
      // the same list is used for several values, as a scan redacts each finding with it
      for (let v = 0; v < 5; v += 1) {
        const value = { a: word(next() % 60), b: [word(next() % 30), secrets[next() % secrets.length]] };
        expect(redactDeep(value, secrets), JSON.stringify({ value, secrets })).toEqual(reference(value, secrets));
      }
    }
  });
});
