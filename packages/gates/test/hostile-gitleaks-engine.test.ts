// With `securityEngine: 'gitleaks'` the real binary runs too; it must be fed the
// trusted configuration (the base commit's), never the branch's own
// .gitleaks.toml or .gitleaksignore from the checkout, and the built-in engine
// still catches what gitleaks would let through. A fake gitleaks (a real child
// process) records what it was given.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSecurityScan, securitySettingsSchema } from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const tmp = mkdtempSync(join(tmpdir(), 'conveyor-fake-gitleaks-'));
const repo = new TempRepo('conveyor-gitleaks-trust-');
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  repo.cleanup();
});

const TOKEN = `ghp_${chars(36, 701)}`;

describe('the gitleaks engine behind the trust boundary', () => {
  it('gets the base commit config and ignore list; the branch’s own files and markers change nothing', {
    timeout: 60_000,
  }, async () => {
    const fake = join(tmp, 'gitleaks');
    // copies the files named by --config and --gitleaks-ignore-path, writes an empty report, exits 0
    writeFileSync(
      fake,
      `#!/bin/sh
prev=""
for a in "$@"; do
  case "$prev" in
    --config) cp "$a" "${tmp}/seen-config" ;;
    --gitleaks-ignore-path) cp "$a" "${tmp}/seen-ignore" ;;
    --report-path) printf '[]' > "$a" ;;
  esac
  prev="$a"
done
exit 0
`,
    );
    chmodSync(fake, 0o755);
    repo.commit('init', {
      'README.md': '# app\n',
      '.gitleaks.toml': '[extend]\nuseDefault = true\n[[rules]]\nid = "base-only"\nregex = "base_[a-z]{8}"\n',
      '.gitleaksignore': '# base ignore\n',
    });
    repo.git('checkout', '-q', '-b', 'task');
    repo.commit('hostile', {
      '.gitleaks.toml': '[[allowlists]]\npaths = [".*"]\n',
      '.gitleaksignore': 'src/a.ts:github-pat:1\n',
      'src/a.ts': `const t = "${TOKEN}"; // gitleaks:allow\n`,
    });
    const outcome = await runSecurityScan({
      repoDir: repo.dir,
      range: 'main..task',
      settings: securitySettingsSchema.parse({
        securityEngine: 'gitleaks',
        securityGitleaksPath: fake,
        securityDepAuditEnabled: false,
      }),
    });
    const config = readFileSync(join(tmp, 'seen-config'), 'utf8');
    expect(config).toContain('base-only');
    expect(config).not.toContain('paths = [".*"]');
    expect(readFileSync(join(tmp, 'seen-ignore'), 'utf8')).toBe('# base ignore\n');
    expect(outcome.report.verdict).toBe('fail');
    expect(outcome.secrets.map((f) => f.RuleID).sort()).toEqual([
      'conveyor-scan-config-changed',
      'conveyor-scan-config-changed',
      'github-pat',
    ]);
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  });
});
