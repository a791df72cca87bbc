import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSecurityScan, securitySettingsSchema } from '../src/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function rootCommit(): string | undefined {
  try {
    const roots = execFileSync('git', ['rev-list', '--max-parents=0', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
    return roots.trim().split('\n').pop();
  } catch {
    return undefined;
  }
}

const root = rootCommit();
if (!root) console.warn('not a git checkout: the self-scan of Conveyor’s own history is skipped');

// Dogfooding: Conveyor's own history, scanned by its own gate with its own
// .gitleaks.toml and .gitleaksignore, must be clean (test samples live under the
// allowlisted test folders). Skipped only outside a git checkout (e.g. a tarball).
describe.skipIf(!root)('the security gate on Conveyor’s own history', () => {
  it('finds no secret from the first commit to HEAD', async () => {
    const outcome = await runSecurityScan({
      repoDir: repoRoot,
      range: `${root}..HEAD`,
      // the history before .gitleaksignore existed is judged with today's reviewed files, given as host files
      settings: securitySettingsSchema.parse({
        securityDepAuditEnabled: false,
        securityConfigPath: join(repoRoot, '.gitleaks.toml'),
        securityIgnorePath: join(repoRoot, '.gitleaksignore'),
        securityAllowScanConfigChanges: true,
      }),
    });
    const found = outcome.secrets.map((f) => `${f.RuleID} ${f.File}:${f.StartLine} (${f.Fingerprint})`);
    expect(found).toEqual([]);
    expect(outcome.report.verdict).toBe('pass');
  });
});
