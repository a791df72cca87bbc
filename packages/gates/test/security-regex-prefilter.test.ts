import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parseSecretsConfig, scanText } from '../src/index.js';
import { necessaryPrefix } from '../src/security/re2-translate.js';
import { compileRe2Engine, compileSecretRegex, secretRegexEngine } from '../src/security/regex.js';
import type { SecretRegex } from '../src/security/types.js';
import { gitleaksConfigText } from './fixtures/security/gitleaks-mirror.js';

let seed = 11;
const next = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed;
};
const pick = (alphabet: string, n: number) =>
  Array.from({ length: n }, () => alphabet[next() % alphabet.length]).join('');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const jwt = () =>
  `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${pick(ALNUM, 12)}"}`)}.${pick(`${ALNUM}-_`, 43)}`;

/** Texts with matches, near misses (the prefix without the rest), and traps around them. */
function samples(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 6; i += 1) {
    const t = jwt();
    out.push(
      `token = "${t}"`,
      `ey${pick(ALNUM, 17)} then later ${t}\n`,
      `key${t}`,
      `x${t.slice(0, 30)} ey ${t};ey${pick(ALNUM, 40)}`,
      `\u{1f600}${t}\u00e9 ${t}`,
      // a match right where the last one ended: whether one starts there depends on the character before it
      `${t}${t} ${t}curl curl -u a:${pick(ALNUM, 9)}curl -u b:${pick(ALNUM, 9)}`,
      `they say eyes ${pick(ALNUM, 30)}\r\n${t}\\n${t}`,
      `curl -u admin:${pick(ALNUM, 12)} https://example.com\ncurl https://x -H "Authorization: Bearer ${pick(ALNUM, 24)}"`,
      `curl curl\n--user "me:${pick(ALNUM, 8)}" \ncurl\tx -u 'a:${pick(ALNUM, 9)}' y`,
      `xoxb-${pick('0123456789', 12)}-${pick('0123456789', 11)}${pick(ALNUM, 24)} xoxb-123`,
      `kind: Secret\ndata:\n  password: ${pick(ALNUM, 24)}==\n`,
      `data: x\n  token: "${pick(ALNUM, 16)}"\nkind: "secret"`,
      `EAAM${pick(ALNUM, 120)} EAAC${pick(ALNUM, 40)}`,
      `<add key="Password" value="${pick(ALNUM, 12)}" />`,
      `ZXlKaGJHY2lPaU${pick(ALNUM, 50)}==`,
      `https://acme.webhook.office.com/webhookb2/${pick('abcdef0123', 8)}`,
    );
  }
  return out;
}

const matchesOf = (re: SecretRegex, text: string) =>
  re.findAll(text).map((m) => ({ start: m.start, end: m.end, groups: m.groups.map((g) => g ?? null) }));

function compareOnOff(pattern: string, texts: readonly string[]): boolean {
  const on = compileRe2Engine(pattern);
  const off = compileRe2Engine(pattern, { prefilter: false });
  if (typeof on === 'string' || typeof off === 'string') throw new Error(`${pattern} did not compile`);
  for (const text of texts) {
    const label = `${pattern.slice(0, 40)} on ${JSON.stringify(text.slice(0, 60))}`;
    expect(matchesOf(on, text), label).toEqual(matchesOf(off, text));
    expect(on.test(text), label).toBe(off.test(text));
    expect(on.findAll(text, 1), label).toEqual(off.findAll(text, 1));
  }
  return necessaryPrefix(pattern) !== undefined;
}

const JWT =
  '\\b(ey[a-zA-Z0-9]{17,}\\.ey[a-zA-Z0-9\\/\\\\_-]{17,}\\.(?:[a-zA-Z0-9\\/\\\\_-]{10,}={0,2})?)(?:[\\x60\'"\\s;]|\\\\[nr]|$)';

describe('the necessary-prefix prefilter of re2js patterns', () => {
  it('spells what every match begins with, as code units', () => {
    const p = necessaryPrefix(JWT);
    expect(p).toBeDefined();
    const re = new RegExp(p as string);
    expect(re.test(`ey${'A'.repeat(17)}`)).toBe(true);
    expect(re.test(`ey${'A'.repeat(16)}.`)).toBe(false);
    // nothing fixed at two positions: no prefilter
    expect(necessaryPrefix('(?:a|bc)+x')).toBeUndefined();
    expect(necessaryPrefix('[^x]{5}')).toBeUndefined();
    // an alternation gives the characters either branch has at each position
    const alt = new RegExp(necessaryPrefix('(?i)(?:kind|data):\\s*x') as string);
    expect(['kind:', 'DATA:', 'dind:', '\u212aind:'].map((s) => alt.test(s))).toEqual([true, true, true, true]);
    expect(alt.test('kin:')).toBe(false);
  });

  it('finds the same matches on and off, for hand-made patterns', () => {
    const texts = samples();
    for (const pattern of [
      JWT,
      'ab(c|d)+e',
      '(?i)\\bcurl\\b.*?(-u|--user)[ \\t]+(\\S+)',
      '(?s)xy.{0,3}z',
      'k[\\x{1F600}-\\x{1F64F}]a',
      '(?m)^ey\\w{3}$',
      '\\Bey[a-z]{3}',
      '(a+)+$',
    ]) {
      compareOnOff(pattern, [...texts, 'abce abcdce ab e', 'xy\n\nz xyz', 'k\u{1f600}a k\u{1f600}', 'zey abc\neyabc']);
    }
  });

  const text = gitleaksConfigText();
  it.skipIf(text === undefined)("finds the same matches on and off, for every rule of gitleaks' config", () => {
    const cfg = parse(text as string) as { rules: { id: string; regex?: string }[] };
    let prefiltered = 0;
    for (const r of cfg.rules) {
      if (r.regex === undefined) continue;
      const auto = compileSecretRegex(r.regex);
      if (typeof auto === 'string') continue;
      // every rule, whichever engine it runs on: the prefilter is on re2js, and V8 falls back to it
      if (compareOnOff(r.regex, [...samples(), (text as string).slice(0, 4_000)])) prefiltered += 1;
      if (secretRegexEngine(auto) === 're2js' && r.id === 'jwt') expect(necessaryPrefix(r.regex)).toBeDefined();
    }
    expect(prefiltered).toBeGreaterThan(100);
  });

  it('stays linear on a hostile text made of near misses', () => {
    const on = compileRe2Engine(JWT);
    const off = compileRe2Engine(JWT, { prefilter: false });
    if (typeof on === 'string' || typeof off === 'string') throw new Error('did not compile');
    // every position a prefix occurrence, no match anywhere, then one match at the very end
    const hostile = `${`ey${'A'.repeat(17)} `.repeat(20_000)} ${jwt()}`;
    expect(matchesOf(on, hostile)).toEqual(matchesOf(off, hostile));
    expect(on.findAll(hostile).length).toBe(1);
  });

  it("gives the same findings with gitleaks' jwt rule through a whole scan", async () => {
    const cfg = await parseSecretsConfig(
      `[[rules]]\nid = "jwt"\nregex = '''${JWT}'''\nkeywords = ["ey"]\nentropy = 3\n`,
      'jwt.toml',
    );
    if (!cfg.ok) throw cfg.error;
    const rule = cfg.value.rules[0];
    expect(rule?.regex && secretRegexEngine(rule.regex)).toBe('re2js');
    const t = jwt();
    const found = scanText(cfg.value, `they key\nconst a = "${t}";\nb = ey${'A'.repeat(30)}\n`);
    expect(found.map((f) => [f.StartLine, f.Secret])).toEqual([[2, t]]);
  });
});

describe('lazy lead-ins on V8', () => {
  it('try only the starts whose lead-in reaches the keyword, and find what re2js finds', () => {
    const pattern =
      '(?i)[\\w.-]{0,50}?(?:key|token)(?:[ \\t\\w.-]{0,20})[\\s\'"]{0,3}(?:=|:)[\\x60\'"\\s=]{0,5}([a-z0-9]{8,20})';
    const v8 = compileSecretRegex(pattern);
    const re2 = compileRe2Engine(pattern, { prefilter: false });
    if (typeof v8 === 'string' || typeof re2 === 'string') throw new Error('did not compile');
    expect(secretRegexEngine(v8)).toBe('v8');
    const texts = [
      ...samples(),
      `my.api_key = "${pick(ALNUM, 12)}" and (token: ${pick(ALNUM, 9)})`,
      `${'a'.repeat(60)}key=${pick(ALNUM, 10)} ${'x.'.repeat(30)}TOKEN : ${pick(ALNUM, 10)}`,
      `k\u00e9y=abcdefgh1 \u212aey=abcdefgh2 ſ-key='abcdefgh3' a key\nkey=abcdefgh4`,
      `${'-'.repeat(70)}key=${pick(ALNUM, 10)}\u{1f600}key=${pick(ALNUM, 10)}`,
    ];
    for (const text of texts) expect(matchesOf(v8, text), text.slice(0, 60)).toEqual(matchesOf(re2, text));
  });
});
