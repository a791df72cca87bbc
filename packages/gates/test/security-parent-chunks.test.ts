import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecurityRange, scanSecrets } from '../src/security/index.js';
import { type ImportedCommit, importCommits, TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

// A history scan reads the range in chunks (20 commits, then 50 at a time),
// and checks a chunk's secrets against the parents' blobs while git reads the
// parents and the next chunk is scanned. Whatever the chunk a commit falls
// in, a secret counts only in the commit that wrote it where no parent's
// version of the file held it: a secret carried through edits in later chunks
// is reported once, one removed and written again at a chunk's edge is
// reported each time it comes back, and the findings come in commit order.

const repos: TempRepo[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
});

const COMMITS = 460;
const KEPT = `ghp_${chars(36, 301)}`;
const TOGGLED = `ghp_${chars(36, 302)}`;
/** commits that edit kept.txt around its secret (chunks end after commit 19, then after every 50th: 69, …, 219, …) */
const KEPT_EDITS = new Set([19, 20, 100, 219, 220, 221, 400, COMMITS - 1]);
/** whether toggle.txt holds its secret after commit c: written at 18, removed at 19, back at 20, out at 219, back at 220 */
const toggledOn = (c: number) => (c >= 18 && c < 19) || (c >= 20 && c < 219) || c >= 220;

function history(): { repo: TempRepo; base: string } {
  const r = new TempRepo('conveyor-chunks-');
  repos.push(r);
  r.commit('base', { 'README.md': '# base\n' });
  const base = r.git('rev-parse', 'HEAD');
  const commits: ImportedCommit[] = [];
  for (let c = 0; c < COMMITS; c += 1) {
    const files: [string, string][] = [[`work/${c % 7}.txt`, `commit ${c}\n`]];
    if (c === 5) files.push(['kept.txt', `token = "${KEPT}"\nedit 5\n`]);
    else if (KEPT_EDITS.has(c)) files.push(['kept.txt', `token = "${KEPT}"\nedit ${c}\n`]);
    if (c >= 18 && toggledOn(c) !== toggledOn(c - 1)) {
      files.push(['toggle.txt', toggledOn(c) ? `key = "${TOGGLED}"\n` : 'key = "none"\n']);
    }
    commits.push({ files });
  }
  importCommits(r, 'long', base, commits);
  return { repo: r, base };
}

describe('the parent check of a history scan read in chunks', () => {
  const { repo, base } = history();
  const head = repo.git('rev-parse', 'long');
  const order = repo.git('rev-list', '--reverse', `${base}..${head}`).split('\n');

  // with inline markers honoured a blob's findings are not what its parent check asks, so git reads the parents
  it.each([
    [0, false],
    [2, false],
    [0, true],
  ])(
    'reports a carried secret once and a re-written one each time (decode depth %i, markers honoured: %s)',
    async (depth, honour) => {
      const range = await resolveSecurityRange(repo.dir, `${base}..${head}`);
      if (!range.ok) throw range.error;
      const scan = await scanSecrets({
        repoDir: repo.dir,
        range: range.value,
        maxDecodeDepth: depth,
        honourInlineAllow: honour,
      });
      if (!scan.ok) throw scan.error;
      expect(scan.value.commitsScanned).toBe(COMMITS);
      const found = scan.value.findings.map((f) => [order.indexOf(f.Commit), f.File, f.Secret]);
      // in commit order, as found
      expect(found).toEqual([
        [5, 'kept.txt', KEPT],
        [18, 'toggle.txt', TOGGLED],
        [20, 'toggle.txt', TOGGLED],
        [220, 'toggle.txt', TOGGLED],
      ]);
    },
  );
});
