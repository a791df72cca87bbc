import { describe, expect, it } from 'vitest';
import {
  compileSecretsConfig,
  DEFAULT_MAX_DECODE_DEPTH,
  DEFAULT_SECRETS_CONFIG,
  MAX_DECODE_DEPTH,
  parseSecretsConfig,
  type SecretsConfig,
  scanText,
} from '../src/index.js';
import { createDecoder, encodedByLoop, encodedByRegex, encodedBySkipping } from '../src/security/decode.js';
import { chars, seededRandom } from './fixtures/security/samples.js';

// Decoding like gitleaks 8 (--max-decode-depth): encoded segments are decoded
// pass by pass, every rule scans each pass, and a finding in decoded text is
// reported at the encoded text with decoded:<encoding> and decode-depth:<n>.

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');

async function config(toml: string): Promise<SecretsConfig> {
  const r = await parseSecretsConfig(toml);
  if (!r.ok) throw r.error;
  return r.value;
}

const SMALL = `
[[rules]]
id = "small-secret"
regex = '''\\bsmall-secret-[a-z]{6}\\b'''
tags = ["small"]
`;

const defaults = (() => {
  const c = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!c.ok) throw c.error;
  return c.value;
})();

describe('decoding', () => {
  it('uses gitleaks’ default depth, 5', () => {
    expect(DEFAULT_MAX_DECODE_DEPTH).toBe(5);
  });

  it('finds a base64-encoded secret at the encoded text, with the decode tags', async () => {
    const cfg = await config(SMALL);
    const encoded = b64('small-secret-abcdef');
    const text = `first line\nvalue: ${encoded} # trailing`;
    const [f, ...rest] = scanText(cfg, text, { file: 'a.yml' });
    expect(rest).toEqual([]);
    expect(f?.Secret).toBe('small-secret-abcdef');
    expect(f?.Tags).toEqual(['small', 'decoded:base64', 'decode-depth:1']);
    expect(f?.StartLine).toBe(2);
    expect(f?.StartColumn).toBe('value: '.length + 1);
    expect(f?.EndColumn).toBe('value: '.length + encoded.length);
  });

  it('decodes hex and percent-encoding', async () => {
    const cfg = await config(SMALL);
    const hex = scanText(cfg, `x = ${hexOf('small-secret-qwerty')}`);
    expect(hex.map((f) => [f.Secret, f.Tags])).toEqual([
      ['small-secret-qwerty', ['small', 'decoded:hex', 'decode-depth:1']],
    ]);
    const pct = scanText(cfg, 'u=small%2Dsecret%2Dzxcvbn&x=1');
    expect(pct.map((f) => [f.Secret, f.Tags])).toEqual([
      ['small-secret-zxcvbn', ['small', 'decoded:percent', 'decode-depth:1']],
    ]);
    expect(pct[0]?.StartColumn).toBe(3);
  });

  it('follows nested encodings to the depth asked, and no further', async () => {
    const cfg = await config(SMALL);
    const twice = b64(b64('small-secret-nested'));
    expect(scanText(cfg, twice, {}, { maxDecodeDepth: 1 })).toEqual([]);
    const [f] = scanText(cfg, twice, {}, { maxDecodeDepth: 2 });
    expect(f?.Tags).toEqual(['small', 'decoded:base64', 'decode-depth:2']);
    expect([f?.StartColumn, f?.EndColumn]).toEqual([1, twice.length]);
    // 0 turns decoding off
    expect(scanText(cfg, b64('small-secret-abcdef'), {}, { maxDecodeDepth: 0 })).toEqual([]);
  });

  it('does not report again in decoded text what the plain text already showed', async () => {
    const cfg = await config(SMALL);
    const found = scanText(cfg, `small-secret-plainx and ${b64('nothing to see here')}`);
    expect(found.map((f) => f.Tags)).toEqual([['small']]);
  });

  it('finds a built-in rule’s secret in a base64 blob (a GitHub token in a Kubernetes Secret)', () => {
    const token = `ghp_${chars(36, 7)}`;
    const text = `apiVersion: v1\nkind: Secret\ndata:\n  token: ${b64(token)}\n`;
    const found = scanText(defaults, text, { file: 'k8s/secret.yaml' });
    const gh = found.find((f) => f.RuleID === 'github-pat');
    expect(gh?.Secret).toBe(token);
    expect(gh?.StartLine).toBe(4);
    expect(gh?.Tags).toContain('decoded:base64');
  });

  it('applies allowlists to the decoded secret', async () => {
    const cfg = await config(`${SMALL}
[[rules.allowlists]]
regexes = ['''allow''']
`);
    expect(scanText(cfg, b64('small-secret-allowx'))).toEqual([]);
    expect(scanText(cfg, b64('small-secret-blockx'))).toHaveLength(1);
  });

  it('leaves binary base64 (lockfile integrity hashes) alone: no decoded text, no finding', () => {
    const integrity = `"integrity": "sha512-${Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) % 256)).toString('base64')}"`;
    expect(scanText(defaults, integrity, { file: 'package-lock.json' })).toEqual([]);
  });
});

describe('decoding is bounded (hostile input)', () => {
  it('a depth asked beyond the cap is capped; percent escapes of percent escapes cost at most the cap in passes', async () => {
    const cfg = await config(SMALL);
    expect(MAX_DECODE_DEPTH).toBeGreaterThanOrEqual(8);
    // each pass peels one `%25`: 100 000 levels would be 100 000 full rescans without the cap
    const line = `%${'25'.repeat(100_000)}41`;
    expect(scanText(cfg, line, {}, { maxDecodeDepth: 1e9 })).toEqual([]);
  });

  it('deeply nested base64 of a large blob stays within the decode budget', async () => {
    const cfg = await config(SMALL);
    let blob = `small-secret-deeper ${'x'.repeat(1000)}`;
    for (let i = 0; i < 12; i += 1) blob = b64(blob);
    // ~33 KB of 12 nested layers: found at depth 12 when asked, never more than one finding
    const found = scanText(cfg, blob, {}, { maxDecodeDepth: 20 });
    expect(found.map((f) => f.Tags.at(-1))).toEqual(['decode-depth:12']);
    expect(scanText(cfg, blob)).toEqual([]);
  });

  it('a megabyte of base64-looking text decodes once and finds nothing', async () => {
    const cfg = await config(SMALL);
    const text = `${'QUJD'.repeat(250_000)}\n${'0123456789abcdef'.repeat(60_000)}`;
    expect(scanText(cfg, text)).toEqual([]);
  });

  it('a run of a million unicode escapes decodes as one segment (no stack overflow), in each escape form', async () => {
    const cfg = await config(SMALL);
    for (const unit of ['\\u0073', '\\\\u0073', 'U+0073 ']) {
      // "s" a million and a half times, then a secret spelled in the same escapes
      const secret = [...'small-secret-abcdef'].map((c) =>
        unit.replace('0073', c.charCodeAt(0).toString(16).padStart(4, '0')),
      );
      const text = `${unit.repeat(1_500_000)}\n${secret.join('')}`;
      const found = scanText(cfg, text);
      expect(
        found.map((f) => [f.RuleID, f.StartLine]),
        unit,
      ).toEqual([['small-secret', 2]]);
    }
  });

  it("a run of megabytes of base64, hex or escape characters is found by the loop (where V8's regex engine overflows its stack)", async () => {
    const cfg = await config(SMALL);
    for (const run of ['A'.repeat(8_000_000), 'ab'.repeat(4_000_000), `${'1'.repeat(8_000_000)}==`]) {
      expect(() => encodedByRegex(run)).toThrow(RangeError);
      const text = `${run}\n${b64('small-secret-abcdef')}`;
      expect(scanText(cfg, text).map((f) => [f.RuleID, f.StartLine])).toEqual([['small-secret', 2]]);
    }
  });

  it('the loop finds exactly what the regex finds (random texts over the characters that matter)', () => {
    const alphabet = [
      '%',
      '4',
      '1',
      'A',
      'f',
      'U',
      '+',
      '\\',
      'u',
      '=',
      '\n',
      ' ',
      'x',
      '/',
      '-',
      '_',
      'ab',
      '%41',
      'U+0041',
      '\\u0041',
      '0123456789abcdef',
      'QUJDREVGR0hJSktM',
      '0123456789abcdef0123456789ABCDEF',
      'zz',
      '==',
      '\t',
      '%4',
      '\\\\',
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed;
    };
    for (let round = 0; round < 20000; round += 1) {
      const len = 1 + (next() % 160);
      let text = '';
      for (let k = 0; k < len; k += 1) text += alphabet[next() % alphabet.length];
      const expected = encodedByRegex(text);
      expect(encodedByLoop(text), JSON.stringify(text)).toEqual(expected);
      expect(encodedBySkipping(text), JSON.stringify(text)).toEqual(expected);
    }
  });

  it('the loop finds exactly what the regex finds around the run lengths that decide (15-17 base64, 31-33 hex)', () => {
    const hex = (n: number) => '0123456789abcdefABCDEF'.repeat(4).slice(0, n);
    const b64 = (n: number) => 'QUJDREVGR0hJSktMTU5PUFFSU1RV'.repeat(2).slice(0, n);
    const befores = ['', 'z', ' ', '%41', 'zz', '\\u0041', '0'];
    const afters = ['', 'z', ' ', '=', '===', 'U+0041', 'U+0041 ', 'zU+0041\n', hex(32)];
    let compared = 0;
    for (const len of [5, 6, 15, 16, 17, 30, 31, 32, 33, 40]) {
      for (const run of [hex(len), b64(len), `z${hex(len)}`, `${hex(len)}z${hex(len)}`]) {
        for (const before of befores) {
          for (const after of afters) {
            const text = `${before}${run}${after}`;
            const expected = encodedByRegex(text);
            expect(encodedByLoop(text), JSON.stringify(text)).toEqual(expected);
            expect(encodedBySkipping(text), JSON.stringify(text)).toEqual(expected);
            compared += 1;
          }
        }
      }
    }
    expect(compared).toBe(10 * 4 * befores.length * afters.length);
  });

  it('a non-finite or negative depth means no decoding', async () => {
    const cfg = await config(SMALL);
    const enc = b64('small-secret-abcdef');
    expect(scanText(cfg, enc, {}, { maxDecodeDepth: Number.NaN })).toEqual([]);
    expect(scanText(cfg, enc, {}, { maxDecodeDepth: -3 })).toEqual([]);
  });
});

describe('the decoded values are what Node decodes', () => {
  const rand = seededRandom(5);
  // gitleaks keeps a decoded value only when every byte is printable (TAB .. '~')
  const printableText = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(rand(5) === 0 ? 9 + rand(5) : 32 + rand(95))).join('');

  it('base64 (both alphabets), hex and percent-encoding of random printable text, and a long run', () => {
    for (let round = 0; round < 300; round += 1) {
      const plain = printableText(16 + rand(60));
      const bytes = Buffer.from(plain, 'latin1');
      const cases: [string, string][] = [
        ['base64', bytes.toString('base64')],
        ['base64url', bytes.toString('base64url')],
        ['hex', bytes.toString('hex')],
      ];
      for (const [kind, encoded] of cases) {
        const pass = createDecoder().next(`x ${encoded} y`, []);
        // a value of letters only is a word, not base64 (as gitleaks reads it): left as written
        const decodes = kind === 'hex' || /[0-9+/_-]/.test(encoded);
        expect(pass.text, `${kind} of ${JSON.stringify(plain)}`).toBe(decodes ? `x ${plain} y` : `x ${encoded} y`);
      }
      // (no literal `%` in the text, so every `%` is an escape)
      const escaped = [...plain.replaceAll('%', '_')].map((c) =>
        rand(2) === 0 ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c,
      );
      const pct = `%41${escaped.join('').replaceAll('\n', ' ')}%42`;
      const expected = decodeURIComponent(pct);
      expect(createDecoder().next(pct, []).text, pct).toBe(expected);
    }
    // a 3 MB value decodes whole, as one string of the same code units
    const long = printableText(2_250_000).replaceAll('\t', ' ');
    const pass = createDecoder().next(Buffer.from(long, 'latin1').toString('base64'), []);
    expect(pass.text === long).toBe(true);
  });

  it('a non-printable byte anywhere leaves the value encoded', () => {
    for (const encoded of [
      Buffer.from('abcdefghijklmnop\u0001qrst', 'latin1').toString('base64'),
      Buffer.from('abcdefghijklmnop\u007fqrst', 'latin1').toString('hex'),
    ]) {
      expect(createDecoder().next(encoded, []).segments).toEqual([]);
    }
    expect(createDecoder().next('a%41b%00c', []).segments).toEqual([]);
  });
});
