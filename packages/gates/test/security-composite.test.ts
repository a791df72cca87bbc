import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatSecurityOutcome,
  parseSecretsConfig,
  SECURITY_OUTPUT_FORMATS,
  type SecretsConfig,
  scanDirectory,
  scanText,
  withRedaction,
} from '../src/index.js';
import { runScanCli } from './fixtures/security/cli.js';

// Composite rules like gitleaks 8: a rule with [[rules.required]] reports a
// finding only when each required rule has a finding in the same fragment
// (within withinLines / withinColumns of its start when set); a skipReport
// rule is only ever a component.

const COMPOSITE = `
[[rules]]
id = "client-secret"
regex = '''client_secret\\s*=\\s*"([a-z0-9]{12})"'''
keywords = ["client_secret"]
[[rules.required]]
id = "client-id"
withinLines = 2

[[rules]]
id = "client-id"
regex = '''client_id\\s*=\\s*"([a-z0-9]{8})"'''
keywords = ["client_id"]
skipReport = true
`;

async function config(toml: string): Promise<SecretsConfig> {
  const r = await parseSecretsConfig(toml);
  if (!r.ok) throw r.error;
  return r.value;
}

describe('composite rules', () => {
  it('reports the primary finding when its component is near, never the skipReport component', async () => {
    const cfg = await config(COMPOSITE);
    const text = 'client_id = "abcd1234"\n\nclient_secret = "s3cr3tvalue1"';
    expect(scanText(cfg, text).map((f) => [f.RuleID, f.Secret, f.StartLine])).toEqual([
      ['client-secret', 's3cr3tvalue1', 3],
    ]);
  });

  it('drops the primary finding when the component is missing or too far', async () => {
    const cfg = await config(COMPOSITE);
    expect(scanText(cfg, 'client_secret = "s3cr3tvalue1"')).toEqual([]);
    const far = 'client_id = "abcd1234"\n\n\n\nclient_secret = "s3cr3tvalue1"';
    expect(scanText(cfg, far)).toEqual([]);
  });

  it('withinColumns compares start columns; without proximity the same fragment is enough', async () => {
    const cols = await config(`
[[rules]]
id = "pair"
regex = '''pass=([a-z0-9]{10})'''
[[rules.required]]
id = "user"
withinColumns = 5
[[rules]]
id = "user"
regex = '''user=([a-z]{4,10})'''
skipReport = true
`);
    expect(scanText(cols, 'user=alice\npass=k3yk3yk3y9')).toHaveLength(1);
    expect(scanText(cols, 'user=alice\n                pass=k3yk3yk3y9')).toEqual([]);
    const anywhere = await config(`
[[rules]]
id = "pair"
regex = '''pass=([a-z0-9]{10})'''
[[rules.required]]
id = "user"
[[rules]]
id = "user"
regex = '''user=([a-z]{4,10})'''
`);
    // not skipReport: the component is reported on its own too
    const found = scanText(anywhere, `user=alice${'\n'.repeat(50)}pass=k3yk3yk3y9`);
    expect(found.map((f) => f.RuleID).sort()).toEqual(['pair', 'user']);
  });

  it('a component runs whatever its own keywords say (gitleaks runs it directly)', async () => {
    const cfg = await config(`
[[rules]]
id = "pair"
regex = '''pass=([a-z0-9]{10})'''
[[rules.required]]
id = "user"
[[rules]]
id = "user"
regex = '''(?i)user=([a-z]{4,10})'''
keywords = ["user="]
skipReport = true
`);
    // the keyword prefilter lowercases, so `USER=` matches it anyway; a keyword absent from the text still runs
    expect(scanText(cfg, 'USER=alice pass=k3yk3yk3y9')).toHaveLength(1);
  });

  it('a required id that names no rule is an error naming the rule and the field', async () => {
    const r = await parseSecretsConfig(`
[[rules]]
id = "pair"
regex = '''pass=([a-z0-9]{10})'''
[[rules.required]]
id = "nobody"
`);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid_config');
      expect(r.error.message).toContain("rule 0 (id 'pair')");
      expect(r.error.message).toContain("field 'required[0].id'");
      expect(r.error.message).toContain("'nobody' does not exist");
    }
    const empty = await parseSecretsConfig(`
[[rules]]
id = "pair"
regex = '''pass=([a-z0-9]{10})'''
[[rules.required]]
id = ""
`);
    expect(!empty.ok && empty.error.message).toContain("field 'required[0].id'");
    const negative = await parseSecretsConfig(`
[[rules]]
id = "pair"
regex = '''pass=([a-z0-9]{10})'''
[[rules.required]]
id = "pair"
withinLines = -1
`);
    expect(!negative.ok && negative.error.message).toContain('required');
  });

  it('a component found only in decoded text counts (same decoding pass)', async () => {
    const cfg = await config(COMPOSITE);
    const enc = Buffer.from('client_id = "abcd1234"').toString('base64');
    const found = scanText(cfg, `${enc}\nclient_secret = "s3cr3tvalue1"`);
    expect(found).toEqual([]);
    // both in one encoded value: found on the decoded pass, reported at the encoded text
    const both = Buffer.from('client_id = "abcd1234"\nclient_secret = "s3cr3tvalue1"').toString('base64');
    const hits = scanText(cfg, `creds: ${both}`);
    expect(hits.map((f) => [f.RuleID, f.Tags])).toEqual([['client-secret', ['decoded:base64', 'decode-depth:1']]]);
  });

  it('a composite finding lists the near findings of its required rules, as gitleaks does', async () => {
    const cfg = await config(COMPOSITE);
    const text =
      'client_id = "abcd1234"\nclient_id = "efgh5678"\nclient_secret = "s3cr3tvalue1"\n\n\n\nclient_id = "faraway9"';
    const [f, ...rest] = scanText(cfg, text);
    expect(rest).toEqual([]);
    // the two within 2 lines, in order; not the one 4 lines below
    expect(f?.Required).toEqual([
      {
        RuleID: 'client-id',
        StartLine: 1,
        EndLine: 1,
        StartColumn: 1,
        EndColumn: 22,
        Match: 'client_id = "abcd1234"',
        Secret: 'abcd1234',
      },
      {
        RuleID: 'client-id',
        StartLine: 2,
        EndLine: 2,
        StartColumn: 1,
        EndColumn: 22,
        Match: 'client_id = "efgh5678"',
        Secret: 'efgh5678',
      },
    ]);
    // a rule without requirements lists nothing
    const plain = await config("[[rules]]\nid = \"p\"\nregex = '''pass=([a-z0-9]{10})'''\n");
    expect(scanText(plain, 'pass=k3yk3yk3y9')[0]).not.toHaveProperty('Required');
  });

  it("the required findings' secrets are nowhere in a scan's outputs, and gitleaks' report shapes leave the list out", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-composite-'));
    try {
      const configPath = join(dir, 'rules.toml');
      writeFileSync(configPath, COMPOSITE);
      const tree = join(dir, 'tree');
      const id = 'q7w8e9r0';
      const secret = 'm4n5b6v7c8x9';
      mkdirSync(tree);
      writeFileSync(join(tree, 'app.env'), `client_id = "${id}"\nclient_secret = "${secret}"\n`);
      const outcome = await scanDirectory({ path: tree, configPath });
      expect(outcome.secrets.map((f) => f.RuleID)).toEqual(['client-secret']);
      expect(outcome.secrets[0]?.Required?.map((r) => [r.RuleID, r.StartLine])).toEqual([['client-id', 1]]);
      for (const shown of [outcome, withRedaction(outcome, 100)]) {
        const all = [JSON.stringify(shown), ...SECURITY_OUTPUT_FORMATS.map((f) => formatSecurityOutcome(shown, f))];
        for (const text of all) {
          expect(text).not.toContain(id);
          expect(text).not.toContain(secret);
        }
        // gitleaks' JSON report shape: no list of required findings
        const json = JSON.parse(formatSecurityOutcome(shown, 'json')) as Record<string, unknown>[];
        expect(json[0]).not.toHaveProperty('Required');
        expect(formatSecurityOutcome(shown, 'junit')).not.toContain('Required');
      }
      // -v prints the required finding (a preview at most), as gitleaks' verbose output lists it
      const run = await runScanCli('dir', tree, '--config', configPath, '-v', '--report-format', 'json');
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('conveyor-scan: finding: client-secret');
      expect(run.stderr).toMatch(/conveyor-scan: {3}required: client-id:1 secret \S+/);
      for (const text of [run.stdout, run.stderr]) {
        expect(text).not.toContain(id);
        expect(text).not.toContain(secret);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
