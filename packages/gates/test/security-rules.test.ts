import { describe, expect, it } from 'vitest';
import {
  compileSecretRegex,
  compileSecretsConfig,
  DEFAULT_SECRETS_CONFIG,
  INLINE_ALLOW_IGNORED_TAG,
  parseGitleaksIgnore,
  parseSecretsConfig,
  redactFinding,
  scanText,
  shannonEntropy,
} from '../src/security/index.js';
import { chars, FALSE_POSITIVES, TRUE_POSITIVES } from './fixtures/security/samples.js';

const defaults = (() => {
  const c = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!c.ok) throw c.error;
  return c.value;
})();

describe('built-in rules', () => {
  it('has at least 40 true-positive and 40 false-positive samples', () => {
    expect(TRUE_POSITIVES.length).toBeGreaterThanOrEqual(40);
    expect(FALSE_POSITIVES.length).toBeGreaterThanOrEqual(40);
    const rules = new Set(TRUE_POSITIVES.map(([r]) => r));
    for (const rule of defaults.rules) expect(rules.has(rule.id), rule.id).toBe(true);
  });

  it.each(TRUE_POSITIVES.map(([rule, text, secret], i) => [i, rule, text, secret] as const))(
    'true positive #%i (%s)',
    (_i, rule, text, secret) => {
      const found = scanText(defaults, text, { file: 'src/config.ts' });
      const hit = found.find((f) => f.RuleID === rule);
      expect(hit, `${rule} should fire on ${text}`).toBeDefined();
      expect(hit?.Secret).toBe(secret);
    },
  );

  it.each(FALSE_POSITIVES.map((t, i) => [i, t] as const))('false positive #%i stays silent', (_i, text) => {
    expect(scanText(defaults, text, { file: 'src/x.ts' }).map((f) => f.RuleID)).toEqual([]);
  });

  it('reports lines and 1-based columns of the match', () => {
    const text = `line one\n  token := "ghp_${chars(36)}"\n`;
    const [f] = scanText(defaults, text, { file: 'a.go', commit: 'abc' });
    expect(f?.RuleID).toBe('github-pat');
    expect(f?.StartLine).toBe(2);
    expect(f?.EndLine).toBe(2);
    expect(f?.StartColumn).toBe(13);
    expect(f?.Fingerprint).toBe('abc:a.go:github-pat:2');
  });
});

describe('RE2 semantics', () => {
  const cases: [string, string, boolean][] = [
    ['abc(?i)def', 'abcDEF', true],
    ['abc(?i)def', 'ABCdef', false],
    ['(?i:tok)EN', 'TOKEN', true],
    ['(?i:tok)EN', 'TOKen', false],
    ['(?P<v>[a-z]+)=1', 'key=1', true],
    ['end\\z', 'the end', true],
    ['end\\z', 'the end\n', false],
    ['^[[:alnum:]]+$', 'abc123', true],
    ['^[[:alnum:]]+$', 'abc-123', false],
    ['a(?s:.)b', 'a\nb', true],
    ['a.b', 'a\nb', false],
  ];
  it.each(cases)('%s on %j → %s', (pattern, input, expected) => {
    const re = compileSecretRegex(pattern);
    if (typeof re === 'string') throw new Error(re);
    expect(re.test(input)).toBe(expected);
  });

  it('uses named groups as secret groups', async () => {
    const cfg = await parseSecretsConfig(`
[[rules]]
id = "named"
regex = '''(?i)mykey\\s*=\\s*(?P<secret>[a-z0-9]{12})'''
secretGroup = 1
keywords = ["mykey"]
`);
    if (!cfg.ok) throw cfg.error;
    expect(scanText(cfg.value, 'MYKEY = abcdef123456')[0]?.Secret).toBe('abcdef123456');
  });

  it('scans a 1 MB adversarial line with every built-in rule without hanging', () => {
    const line = `password=${'a'.repeat(1_000_000)}`;
    const found = scanText(defaults, line);
    expect(found.length).toBeLessThanOrEqual(1);
  });
});

describe('.gitleaks.toml parsing', () => {
  it('names the rule index, id and field of an invalid regex', async () => {
    const r = await parseSecretsConfig(
      `
[[rules]]
id = "ok"
regex = "a+"
[[rules]]
id = "broken"
regex = "(unclosed"
`,
      '/repo/.gitleaks.toml',
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid_config');
      expect(r.error.message).toContain("rule 1 (id 'broken')");
      expect(r.error.message).toContain("field 'regex'");
      expect(r.error.message).toContain('/repo/.gitleaks.toml');
    }
  });

  it('names the field of a wrongly typed value', async () => {
    const r = await parseSecretsConfig(`
[[rules]]
id = "x"
regex = "a"
entropy = "high"
`);
    expect(!r.ok && r.error.message).toContain("rule 0 (id 'x'), field 'entropy'");
  });

  it('rejects a rule without an id, a TOML syntax error and a bad allowlist regex', async () => {
    expect((await parseSecretsConfig('[[rules]]\nregex = "a"\n')).ok).toBe(false);
    const syntax = await parseSecretsConfig('[[rules]\nid=');
    expect(!syntax.ok && syntax.error.message).toContain('TOML');
    const al = await parseSecretsConfig('[[allowlists]]\nregexes = ["(x"]\n');
    expect(!al.ok && al.error.message).toContain("global allowlist 0, field 'regexes[0]'");
  });

  it('extends the defaults, disables rules and overrides by id', async () => {
    const r = await parseSecretsConfig(`
[extend]
useDefault = true
disabledRules = ["jwt"]
[[rules]]
id = "npm-access-token"
description = "mine"
regex = '''npm_[a-z]{4}'''
keywords = ["npm_"]
`);
    if (!r.ok) throw r.error;
    const ids = r.value.rules.map((x) => x.id);
    expect(ids).toContain('github-pat');
    expect(ids).not.toContain('jwt');
    expect(r.value.rules.filter((x) => x.id === 'npm-access-token')).toHaveLength(1);
    expect(scanText(r.value, 'npm_abcd')[0]?.Description).toBe('mine');
  });

  it('applies rule allowlists, legacy [allowlist], stopwords, regexTarget, AND conditions and targetRules', async () => {
    const r = await parseSecretsConfig(`
[[rules]]
id = "tok"
regex = '''tok_([a-z0-9]{10})'''
keywords = ["tok_"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''^#''']
[[rules.allowlists]]
stopwords = ["fixture"]
regexes = ['''^zzz''']
[[rules]]
id = "other"
regex = '''oth_[a-z]{6}'''
keywords = ["oth_"]

[[allowlists]]
condition = "AND"
paths = ['''^docs/''']
regexTarget = "match"
regexes = ['''tok_0''']

[[allowlists]]
targetRules = ["other"]
paths = ['''\\.md$''']

[[allowlists]]
commits = ["deadbeef"]
`);
    if (!r.ok) throw r.error;
    const c = r.value;
    expect(scanText(c, 'x tok_abcdefghij', { file: 'a.ts' })).toHaveLength(1);
    expect(scanText(c, '# tok_abcdefghij', { file: 'a.ts' })).toHaveLength(0); // line target
    expect(scanText(c, 'tok_zzz1234567', { file: 'a.ts' })).toHaveLength(0); // rule regex on secret
    expect(scanText(c, 'tok_fixture123', { file: 'a.ts' })).toHaveLength(0); // stopword
    expect(scanText(c, 'tok_0123456789', { file: 'docs/a.md' })).toHaveLength(0); // AND: path and match
    expect(scanText(c, 'tok_0123456789', { file: 'src/a.md' })).toHaveLength(1); // AND: path fails
    expect(scanText(c, 'oth_abcdef', { file: 'README.md' })).toHaveLength(0); // targetRules
    expect(scanText(c, 'tok_abcdefghij', { file: 'README.md' })).toHaveLength(1); // not targeted
    expect(scanText(c, 'tok_abcdefghij', { file: 'a.ts', commit: 'deadbeef00' })).toHaveLength(0); // commits
  });

  it('honours path-only rules, rule paths and entropy thresholds', async () => {
    const r = await parseSecretsConfig(`
[[rules]]
id = "pkcs12"
path = '''\\.p12$'''
[[rules]]
id = "env-only"
path = '''\\.env$'''
regex = '''K=(\\w+)'''
entropy = 3.0
keywords = ["k="]
`);
    if (!r.ok) throw r.error;
    expect(scanText(r.value, 'anything', { file: 'cert.p12' }).map((f) => f.RuleID)).toEqual(['pkcs12']);
    expect(scanText(r.value, 'K=aB3dE5fG7h', { file: 'x.ts' })).toHaveLength(0);
    expect(scanText(r.value, 'K=aaaaaaaaaa', { file: '.env' })).toHaveLength(0);
    expect(scanText(r.value, 'K=aB3dE5fG7h', { file: '.env' })).toHaveLength(1);
  });
});

describe('markers, ignore files and baselines', () => {
  const tok = `ghp_${chars(36)}`;
  it('reports a line marked gitleaks:allow (tagged), and skips it only when markers are honoured', () => {
    const marked = scanText(defaults, `t = "${tok}" // gitleaks:allow`);
    expect(marked.map((f) => f.Tags.includes(INLINE_ALLOW_IGNORED_TAG))).toEqual([true]);
    expect(scanText(defaults, `t = "${tok}" // gitleaks:allow`, {}, { honourInlineAllow: true })).toHaveLength(0);
  });
  it('skips fingerprints from .gitleaksignore and findings from a baseline', () => {
    const ignored = parseGitleaksIgnore('# comment\nc1:a.ts:github-pat:1\n');
    expect(scanText(defaults, tok, { file: 'a.ts', commit: 'c1' }, { ignoredFingerprints: ignored })).toHaveLength(0);
    const [found] = scanText(defaults, tok, { file: 'a.ts', commit: 'c2' });
    if (!found) throw new Error('expected a finding');
    expect(scanText(defaults, tok, { file: 'a.ts', commit: 'c2' }, { baseline: [found] })).toHaveLength(0);
  });
  it('redacts: the secret is nowhere in a redacted finding', () => {
    const [found] = scanText(defaults, `token=${tok}`, { file: 'a.ts', commit: 'c1' });
    if (!found) throw new Error('expected a finding');
    const safe = redactFinding({ ...found, Message: `oops ${tok}` });
    expect(JSON.stringify(safe)).not.toContain(tok);
    expect(safe.Secret).toBe('ghp_…');
  });
  it('computes Shannon entropy', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});

describe("the built-in configuration's allowlists are valid RE2", () => {
  it('every allowlist and path pattern compiles on re2js (they are compiled there only if they run there)', async () => {
    const { compileSecretRegex } = await import('../src/security/regex.js');
    const { DEFAULT_SECRETS_CONFIG: raw } = await import('../src/index.js');
    const allowlists = [...(raw.allowlists ?? []), ...(raw.rules ?? []).flatMap((r) => r.allowlists ?? [])];
    const patterns = [
      ...(raw.rules ?? []).map((r) => r.path),
      ...allowlists.flatMap((a) => [...(a.regexes ?? []), ...(a.paths ?? [])]),
    ].filter((p): p is string => typeof p === 'string');
    expect(patterns.length).toBeGreaterThan(20);
    for (const p of patterns) expect(typeof compileSecretRegex(p, { engine: 're2js' }), p).not.toBe('string');
  });
});
