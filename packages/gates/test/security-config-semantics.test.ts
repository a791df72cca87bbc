import { ConveyorError, err, ok } from '@conveyor/core';
import { describe, expect, it } from 'vitest';
import { countCaptureGroups, parseSecretsConfig, type SecretsConfigSource, scanText } from '../src/index.js';
import { chars } from './fixtures/security/samples.js';

// gitleaks 8's config semantics, from the cases of its config tests
// (config/config_test.go, testdata/config/): the facts, not the code.

const files = (map: Record<string, string>): SecretsConfigSource => ({
  read: async (path) =>
    map[path] === undefined
      ? err(new ConveyorError('@conveyor/gates', 'not_found', `no ${path}`))
      : ok({ name: path, text: map[path] as string }),
});

describe('config semantics like gitleaks', () => {
  it('a repeated rule id keeps the last definition', async () => {
    const r = await parseSecretsConfig(`
[[rules]]
id = "tok"
regex = '''first_[a-z]{10}'''
[[rules]]
id = "tok"
regex = '''second_[a-z]{10}'''
`);
    if (!r.ok) throw r.error;
    expect(r.value.rules.map((x) => x.id)).toEqual(['tok']);
    expect(scanText(r.value, 'second_abcdefghij')).toHaveLength(1);
    expect(scanText(r.value, 'first_abcdefghij')).toHaveLength(0);
  });

  it('an extending rule is merged into the base rule field by field, then validated', async () => {
    // only an allowlist: the default generic-api-key keeps its regex, keywords and entropy
    const r = await parseSecretsConfig(`
[extend]
useDefault = true
[[rules]]
id = "github-pat"
[[rules.allowlists]]
paths = ['''^fixtures/''']
`);
    if (!r.ok) throw r.error;
    const rule = r.value.rules.find((x) => x.id === 'github-pat');
    expect(rule?.regex).toBeDefined();
    expect(rule?.keywords).toContain('ghp_');
    const token = `t = "ghp_${chars(36, 61)}"`;
    expect(scanText(r.value, token, { file: 'src/a.ts' }).map((f) => f.RuleID)).toEqual(['github-pat']);
    expect(scanText(r.value, token, { file: 'fixtures/a.ts' }).map((f) => f.RuleID)).not.toContain('github-pat');
    // without a base rule of that id there is nothing to merge: no regex, no path is an error
    const alone = await parseSecretsConfig('[[rules]]\nid = "lonely"\n');
    expect(alone.ok).toBe(false);
  });

  it('[extend] is followed two levels deep, as gitleaks does; deeper is ignored', async () => {
    const source = files({
      'a.toml': "[extend]\npath = \"b.toml\"\n[[rules]]\nid = \"a\"\nregex = '''aaa_[a-z]{8}'''\n",
      'b.toml': "[extend]\npath = \"c.toml\"\n[[rules]]\nid = \"b\"\nregex = '''bbb_[a-z]{8}'''\n",
      'c.toml': "[[rules]]\nid = \"c\"\nregex = '''ccc_[a-z]{8}'''\n",
    });
    const r = await parseSecretsConfig('[extend]\npath = "a.toml"\n', 'top.toml', source);
    if (!r.ok) throw r.error;
    expect(r.value.rules.map((x) => x.id).sort()).toEqual(['a', 'b']);
  });

  it('rejects what gitleaks rejects', async () => {
    const cases: [string, RegExp][] = [
      ["[[rules]]\nid = \"x\"\nregex = '''a(b)c'''\nsecretGroup = 2\n", /secretGroup.*beyond.*1 group/],
      [
        "[allowlist]\npaths = ['''a''']\n[[allowlists]]\npaths = ['''b''']\n[[rules]]\nid = \"x\"\nregex = '''abc'''\n",
        /old \[allowlist\]/,
      ],
      [
        "[[rules]]\nid = \"x\"\nregex = '''abc'''\n[rules.allowlist]\npaths = ['''a''']\n[[rules.allowlists]]\npaths = ['''b''']\n",
        /old \[rules\.allowlist\]/,
      ],
      [
        "[[rules]]\nid = \"x\"\nregex = '''abc'''\n[[allowlists]]\ntargetRules = [\"nope\"]\npaths = ['''a''']\n",
        /targetRules.*'nope'/,
      ],
      ['[extend]\nuseDefault = true\npath = "x.toml"\n', /useDefault and path/],
    ];
    for (const [text, message] of cases) {
      const r = await parseSecretsConfig(text, 'bad.toml');
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.error.message, text).toMatch(message);
    }
  });

  it('a secret whose entropy equals the threshold is skipped, as gitleaks skips entropy <= threshold', async () => {
    // "aabbccdd": four symbols, each twice: entropy exactly 2
    const r = await parseSecretsConfig(`
[[rules]]
id = "tok"
regex = '''tok_([a-d]{8})'''
entropy = 2.0
[[rules]]
id = "tok-low"
regex = '''low_([a-d]{8})'''
entropy = 1.99
`);
    if (!r.ok) throw r.error;
    expect(scanText(r.value, 'tok_aabbccdd')).toHaveLength(0);
    expect(scanText(r.value, 'low_aabbccdd').map((f) => f.RuleID)).toEqual(['tok-low']);
  });

  it('counts capture groups as RE2 does', () => {
    expect(countCaptureGroups('a(b)(?:c)(?P<n>d)(?<m>e)[(]\\(')).toBe(3);
    expect(countCaptureGroups('(?i)x([a-z]{3})')).toBe(1);
    expect(countCaptureGroups('[]()]')).toBe(0);
  });
});
