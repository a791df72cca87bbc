import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLocalGitForge, forgeConformance } from '@conveyor/testkit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createGitFixture, GIT_TEST_ENV, type GitFixture, gitSync } from './helpers/git-fixture.js';

// real git on a shared 2-core machine: the suite's cases get more time than the default
vi.setConfig({ testTimeout: 90_000 });

const REPO = 'acme/app';
const env = { ...process.env, ...GIT_TEST_ENV };

/**
 * A new commit on `branch` (from `from`) reusing the parent's tree, written as
 * a loose ref: one git process, for the cases that create many branches.
 */
function quickCommit(fx: GitFixture, heads: Map<string, string>, branch: string, from: string, label: string): string {
  const parent = heads.get(branch) ?? fx.head(branch) ?? heads.get(from) ?? fx.head(from) ?? '';
  const sha = execFileSync('git', ['commit-tree', `${parent}^{tree}`, '-p', parent, '-m', label], {
    cwd: fx.origin,
    env,
    encoding: 'utf8',
  }).trim();
  const ref = join(fx.origin, 'refs', 'heads', branch);
  mkdirSync(dirname(ref), { recursive: true });
  writeFileSync(ref, `${sha}\n`);
  heads.set(branch, sha);
  return sha;
}

let counter = 0;
forgeConformance('local git forge', () => {
  const fx = createGitFixture({ 'README.md': 'app\n' }, 'conveyor-forge-');
  const heads = new Map<string, string>();
  return {
    forge: createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV }),
    repo: REPO,
    baseBranch: 'main',
    createBranch: (name, options) => {
      let sha = '';
      for (let i = 0; i < (options?.commits ?? 1); i += 1) {
        counter += 1;
        sha = quickCommit(fx, heads, name, options?.from ?? 'main', `${name} commit ${counter}`);
      }
      return sha;
    },
    pushCommit: (branch) => {
      counter += 1;
      const sha = fx.commit(branch, { [`${branch.replace(/\W/g, '_')}-${counter}.txt`]: `${counter}\n` });
      heads.set(branch, sha);
      return sha;
    },
    close: () => fx.cleanup(),
  };
});

describe('local git forge: merge methods and state', () => {
  const fixtures: GitFixture[] = [];
  afterAll(() => {
    for (const fx of fixtures) fx.cleanup();
  });
  const fresh = () => {
    const fx = createGitFixture({ 'a.txt': 'a\n', 'b.txt': 'b\n' }, 'conveyor-forge-');
    fixtures.push(fx);
    return fx;
  };

  it('merge makes a merge commit of base and head; squash one commit; fast-forward-only refuses a stale base', async () => {
    const fx = fresh();
    const forge = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV });
    const one = fx.commit('task/one', { 'one.txt': '1\n' });
    fx.commit('task/two', { 'two.txt': '2\n' });
    fx.commit('task/three', { 'three.txt': '3\n' });
    const prOne = await forge.createPullRequest(REPO, { base: 'main', head: 'task/one', title: 'one' });
    if (!prOne.ok) throw prOne.error;
    const m1 = await forge.mergePullRequest(REPO, prOne.value.number, { headSha: one });
    expect(m1.ok).toBe(true);
    const mainSha = fx.head('main') ?? '';
    expect(m1.ok && m1.value.mergeSha).toBe(mainSha);
    expect(gitSync(fx.origin, 'rev-list', '--parents', '-n', '1', 'main').split(' ')).toHaveLength(3);

    const prTwo = await forge.createPullRequest(REPO, { base: 'main', head: 'task/two', title: 'two' });
    if (!prTwo.ok) throw prTwo.error;
    const ffOnly = await forge.mergePullRequest(REPO, prTwo.value.number, {
      headSha: prTwo.value.headSha,
      method: 'fast-forward-only',
    });
    expect(!ffOnly.ok && ffOnly.error.code).toBe('not_mergeable');
    expect(fx.head('main')).toBe(mainSha);
    const squash = await forge.mergePullRequest(REPO, prTwo.value.number, {
      headSha: prTwo.value.headSha,
      method: 'squash',
      deleteBranchAfterMerge: true,
    });
    expect(squash.ok).toBe(true);
    expect(gitSync(fx.origin, 'rev-list', '--parents', '-n', '1', 'main').split(' ')).toHaveLength(2);
    expect(fx.show('main', 'two.txt')).toBe('2');
    expect(fx.head('task/two')).toBeUndefined();
    const found = await forge.findPullRequest(REPO, 'main', 'task/two');
    expect(found.ok && found.value).toMatchObject({ merged: true, headSha: prTwo.value.headSha });
  });

  it('a conflicting PR is not_mergeable and main is untouched; a duplicate open PR is already_exists', async () => {
    const fx = fresh();
    const forge = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV });
    const head = fx.commit('task/c', { 'a.txt': 'branch\n' });
    const mainSha = fx.commit('main', { 'a.txt': 'main\n' });
    const pr = await forge.createPullRequest(REPO, { base: 'main', head: 'task/c', title: 'c' });
    if (!pr.ok) throw pr.error;
    const dup = await forge.createPullRequest(REPO, { base: 'main', head: 'task/c', title: 'c again' });
    expect(!dup.ok && dup.error.code).toBe('already_exists');
    const merged = await forge.mergePullRequest(REPO, pr.value.number, { headSha: head });
    expect(!merged.ok && merged.error.code).toBe('not_mergeable');
    expect(fx.head('main')).toBe(mainSha);
    expect((await forge.isMerged(REPO, pr.value.number)).unwrapOr(true)).toBe(false);
    expect((await forge.isMerged(REPO, 99)).isErr()).toBe(true);
  });

  it('concurrent merges of different PRs all land, none is lost', async () => {
    const fx = fresh();
    const forge = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV });
    const numbers: { n: number; sha: string }[] = [];
    for (let i = 0; i < 4; i += 1) {
      const sha = fx.commit(`task/p${i}`, { [`p${i}.txt`]: `${i}\n` });
      const pr = await forge.createPullRequest(REPO, { base: 'main', head: `task/p${i}`, title: `p${i}` });
      if (!pr.ok) throw pr.error;
      numbers.push({ n: pr.value.number, sha });
    }
    const results = await Promise.all(numbers.map(({ n, sha }) => forge.mergePullRequest(REPO, n, { headSha: sha })));
    expect(results.every((r) => r.ok)).toBe(true);
    for (let i = 0; i < 4; i += 1) expect(fx.show('main', `p${i}.txt`)).toBe(String(i));
  });

  it('keeps pull requests in a JSON state file that a second instance reads', async () => {
    const fx = fresh();
    const stateFile = join(fx.root, 'forge-state.json');
    const first = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV, stateFile });
    const sha = fx.commit('task/s', { 's.txt': 's\n' });
    const pr = await first.createPullRequest(REPO, { base: 'main', head: 'task/s', title: 's' });
    if (!pr.ok) throw pr.error;
    await first.setCommitStatus(REPO, sha, { context: 'ci', state: 'success' });
    const second = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV, stateFile });
    const merged = await second.mergePullRequest(REPO, pr.value.number, { headSha: sha });
    expect(merged.ok && merged.value.alreadyMerged).toBe(false);
    expect((await first.isMerged(REPO, pr.value.number)).unwrapOr(false)).toBe(true);
    expect((await second.getCombinedStatus(REPO, sha)).unwrapOr(undefined)?.state).toBe('success');
    const next = await second.createPullRequest(REPO, { base: 'main', head: 'task/s', title: 's2' });
    expect(next.ok && next.value.number).toBe(pr.value.number + 1);
  });
});
