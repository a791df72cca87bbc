import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { readRangeCommits, streamRangeCommits } from '../src/security/git-objects.js';
import { resolveSecurityRange, scanSecrets } from '../src/security/index.js';
import { type ImportedCommit, importCommits, TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

// The scan reads the range's commits while git still prints them. The log of
// a long range comes in many pipe chunks, cut anywhere: inside a multibyte
// path, between an entry and its paths, inside a commit header. The commits
// must come out as one read of the whole output gives them, and a secret in
// the first, a middle or the last commit must be found.

const repos: TempRepo[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
});

const COMMITS = 320;
const FILES_PER_COMMIT = 12;
const secretAt = new Map([
  [3, `ghp_${chars(36, 201)}`],
  [161, `ghp_${chars(36, 202)}`],
  [COMMITS - 1, `ghp_${chars(36, 203)}`],
]);

/** A long history built with git fast-import: multibyte paths, renames and merges, secrets in three commits. */
function longHistory(): { repo: TempRepo; base: string } {
  const r = new TempRepo('conveyor-stream-');
  repos.push(r);
  r.commit('base', { 'README.md': '# base\n' });
  const base = r.git('rev-parse', 'HEAD');
  const commits: ImportedCommit[] = [];
  for (let c = 0; c < COMMITS; c += 1) {
    const files: [string, string][] = [];
    for (let f = 0; f < FILES_PER_COMMIT; f += 1) {
      const secret = f === 0 ? secretAt.get(c) : undefined;
      // long multibyte paths: the pipe's chunks cut through them
      files.push([
        `dïr-${f % 4}/ünïcødé-文件-${'ø'.repeat(f * 3)}-${f}.txt`,
        `commit ${c} file ${f}\n${secret ? `token = "${secret}"\n` : `value = ${c * 31 + f}\n`}`,
      ]);
    }
    // a commit that renames file 0 leaves its content alone (an exact rename)
    const renames = c % 25 === 10;
    commits.push({
      files: renames ? files.slice(1) : files,
      // every 40th commit also merges a side line started at the commit before
      merge: c > 0 && c % 40 === 0,
      ...(renames ? { rename: ['dïr-0/ünïcødé-文件--0.txt', `renamed-${c}/ünïcødé.txt`] as const } : {}),
    });
  }
  importCommits(r, 'long', base, commits);
  return { repo: r, base };
}

describe('the range log read while git prints it', () => {
  const { repo, base } = longHistory();
  const head = repo.git('rev-parse', 'long');

  it('gives, in order, every commit rev-list lists, each with its changes, across many pipe chunks', async () => {
    const log = execFileSync('git', ['log', '--raw', '-z', '-c', '-M', `${base}..${head}`], { cwd: repo.dir });
    expect(log.length).toBeGreaterThan(64 * 1024 * 4);
    const stream = streamRangeCommits(repo.dir, base, head);
    const early = await stream.atLeast(20);
    expect(early.length).toBeGreaterThanOrEqual(20);
    const done = await stream.done;
    if (!done.ok) throw done.error;
    const all = done.value;
    const order = repo.git('rev-list', '--reverse', `${base}..${head}`).split('\n');
    expect(all.map((c) => c.sha)).toEqual(order);
    // what was seen early is what the whole read gives
    expect(early).toEqual(all.slice(0, early.length));
    expect(await stream.atLeast(COMMITS * 2)).toEqual(all);
    for (const [i, c] of all.entries()) {
      if (i === 0) expect(c.changes.length).toBe(FILES_PER_COMMIT);
      for (const ch of c.changes) expect(ch.path.endsWith('.txt'), ch.path).toBe(true);
    }
    // multibyte paths decode whole, renames keep their source, merges list one parent blob per parent
    expect(all[1]?.changes.some((ch) => ch.path === `dïr-3/ünïcødé-文件-${'ø'.repeat(33)}-11.txt`)).toBe(true);
    const renamed = all[10]?.changes.find((ch) => ch.path === 'renamed-10/ünïcødé.txt');
    expect(renamed?.fromPath).toBe('dïr-0/ünïcødé-文件--0.txt');
    expect(renamed?.status).toMatch(/^R/);
    const merges = all.filter((c) => c.changes.some((ch) => ch.parentShas.length === 2));
    expect(merges.length).toBeGreaterThan(0);
    // the one-shot read is the same
    const once = await readRangeCommits(repo.dir, base, head);
    if (!once.ok) throw once.error;
    expect(once.value).toEqual(all);
  });

  it('a history scan finds the secrets of the first, a middle and the last commit', async () => {
    const range = await resolveSecurityRange(repo.dir, `${base}..${head}`);
    if (!range.ok) throw range.error;
    const scan = await scanSecrets({ repoDir: repo.dir, range: range.value, maxDecodeDepth: 0 });
    if (!scan.ok) throw scan.error;
    expect(scan.value.commitsScanned).toBe(COMMITS);
    const order = repo.git('rev-list', '--reverse', `${base}..${head}`).split('\n');
    const found = scan.value.findings.filter((f) => f.RuleID === 'github-pat');
    expect(found.map((f) => [order.indexOf(f.Commit), f.Secret]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      ...secretAt.entries(),
    ]);
  });

  it('a range git cannot list is an error, not a partial scan', async () => {
    const stream = streamRangeCommits(repo.dir, base, '0'.repeat(40));
    expect(await stream.atLeast(20)).toEqual([]);
    const done = await stream.done;
    expect(done.ok).toBe(false);
  });
});
