import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecurityRange, scanSecrets } from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const repos: TempRepo[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
});

const OLD = `ghp_${chars(36, 201)}`;
const KEPT = `ghp_${chars(36, 202)}`;
const NEW = `glpat-${chars(20, 203)}`;

/**
 * A branch longer than the scan's chunks of commits: a secret from main
 * (its parent blob is outside the range), a secret the branch added early and
 * kept editing around (its parent blob was scanned in an earlier chunk), and a
 * new secret late in the branch. Only the branch's own secrets are reported,
 * each once, at the commit that added it.
 */
function longBranch(ignore?: string): { r: TempRepo; keptSha: string; newSha: string } {
  const r = new TempRepo();
  repos.push(r);
  r.commit('init', { 'README.md': '# app\n', 'old.ts': `const t = "${OLD}";\n` });
  if (ignore !== undefined) r.commit('ignore list', { '.gitleaksignore': ignore });
  r.git('checkout', '-q', '-b', 'task');
  let keptSha = '';
  let newSha = '';
  for (let i = 1; i <= 45; i += 1) {
    const files: Record<string, string> = { [`src/f${i % 7}.ts`]: `export const n = ${i};\n` };
    if (i === 3) files['kept.ts'] = `const k = "${KEPT}";\n`;
    else if (i > 3 && i % 5 === 0) files['kept.ts'] = `// edit ${i}\nconst k = "${KEPT}";\n`;
    if (i % 9 === 0) files['old.ts'] = `// edit ${i}\nconst t = "${OLD}";\n`;
    if (i === 40) files['late.ts'] = `const g = "${NEW}";\n`;
    const sha = r.commit(`work ${i}`, files);
    if (i === 3) keptSha = sha;
    if (i === 40) newSha = sha;
  }
  return { r, keptSha, newSha };
}

async function scan(r: TempRepo) {
  const range = await resolveSecurityRange(r.dir, 'main..task');
  if (!range.ok) throw range.error;
  const res = await scanSecrets({ repoDir: r.dir, range: range.value });
  if (!res.ok) throw res.error;
  return res.value;
}

describe('the parent check across chunks of commits', () => {
  it('reports only what the branch added, each secret at the commit that added it', async () => {
    const { r, keptSha, newSha } = longBranch();
    const res = await scan(r);
    expect(res.commitsScanned).toBe(45);
    expect(res.findings.map((f) => [f.RuleID, f.File, f.Commit])).toEqual([
      ['github-pat', 'kept.ts', keptSha],
      ['gitlab-pat', 'late.ts', newSha],
    ]);
  });

  it('gives the same answer when an ignore list makes every parent check read the parent blob', async () => {
    // an ignore entry (even one matching nothing) means a blob's own scan cannot answer a later parent check
    const { r, keptSha, newSha } = longBranch('0000000000000000000000000000000000000000:none.ts:github-pat:1\n');
    const res = await scan(r);
    expect(res.findings.map((f) => [f.RuleID, f.File, f.Commit])).toEqual([
      ['github-pat', 'kept.ts', keptSha],
      ['gitlab-pat', 'late.ts', newSha],
    ]);
  });
});
