import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorktree,
  ensureLocalClone,
  fetch,
  git,
  isAncestor,
  isBehindMain,
  pushTaskBranch,
  rebaseOntoMain,
  removeWorktree,
  retest,
  revParse,
  tailOf,
} from '../src/git/index.js';
import { createGitFixture, GIT_TEST_ENV, type GitFixture, gitSync } from './helpers/git-fixture.js';

const env = GIT_TEST_ENV;

describe('git primitives on a real repository', () => {
  let fx: GitFixture;
  let clone: string;

  beforeAll(async () => {
    fx = createGitFixture({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'shared.txt': '1\n2\n3\n' });
    clone = join(fx.root, 'cache.git');
    const made = await ensureLocalClone({ dir: clone, remoteUrl: fx.origin, env });
    expect(made.ok).toBe(true);
  });
  afterAll(() => fx.cleanup());

  it('git() fails with git_failed and keeps stderr in details', async () => {
    const out = await git(['rev-parse', '--verify', 'no-such-ref'], { cwd: fx.origin, env });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.code).toBe('git_failed');
    expect(out.error.details.exitCode).toBe(128);
    expect(String(out.error.details.stderr)).toMatch(/no-such-ref|Needed a single revision/);
  });

  it('ensureLocalClone is idempotent and re-points a moved remote', async () => {
    const again = await ensureLocalClone({ dir: clone, remoteUrl: fx.origin, env });
    expect(again.ok).toBe(true);
    expect(gitSync(clone, 'remote', 'get-url', 'origin')).toBe(fx.origin);
    expect(gitSync(clone, 'rev-parse', '--is-bare-repository')).toBe('true');
  });

  it('fetch reports a missing branch instead of failing', async () => {
    fx.commit('task/fetch', { 'f.txt': 'f\n' });
    const fetched = await fetch({ cwd: clone, branches: ['main', 'task/fetch', 'task/gone'], env });
    expect(fetched.ok && fetched.value.missing).toEqual(['task/gone']);
    const sha = await revParse({ cwd: clone, rev: 'origin/task/fetch', env });
    expect(sha.ok && sha.value).toBe(fx.head('task/fetch'));
  });

  it('isBehindMain counts commits on either side; isAncestor tells containment', async () => {
    fx.commit('task/behind', { 'c.txt': 'c\n' });
    fx.commit('main', { 'm1.txt': '1\n' });
    fx.commit('main', { 'm2.txt': '2\n' });
    await fetch({ cwd: clone, branches: ['main', 'task/behind'], env });
    const d = await isBehindMain({ cwd: clone, head: 'origin/task/behind', base: 'origin/main', env });
    expect(d.ok && d.value).toEqual({ behind: 2, ahead: 1 });
    const contained = await isAncestor({ cwd: clone, ancestor: 'origin/main~2', descendant: 'origin/main', env });
    expect(contained.ok && contained.value).toBe(true);
    const notContained = await isAncestor({
      cwd: clone,
      ancestor: 'origin/task/behind',
      descendant: 'origin/main',
      env,
    });
    expect(notContained.ok && notContained.value).toBe(false);
  });

  it('worktrees are created detached, replaced when left over, and removed', async () => {
    const path = join(fx.root, 'wt', 'one');
    const first = await createWorktree({ repoDir: clone, path, ref: 'origin/task/behind', env });
    expect(first.ok).toBe(true);
    expect(gitSync(path, 'rev-parse', 'HEAD')).toBe(fx.head('task/behind'));
    const again = await createWorktree({ repoDir: clone, path, ref: 'origin/main', env });
    expect(again.ok).toBe(true);
    expect(gitSync(path, 'rev-parse', 'HEAD')).toBe(fx.head('main'));
    const removed = await removeWorktree({ repoDir: clone, path, env });
    expect(removed.ok).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(gitSync(clone, 'worktree', 'list')).not.toContain(path);
  });

  it('rebaseOntoMain rebases cleanly, and reports and aborts a conflict', async () => {
    fx.commit('task/clean', { 'shared.txt': 'ONE\n2\n3\n' });
    fx.commit('task/conflict', { 'b.txt': 'theirs\n' });
    fx.commit('main', { 'b.txt': 'ours\n', 'shared.txt': '1\n2\nTHREE\n' });
    await fetch({ cwd: clone, branches: ['main', 'task/clean', 'task/conflict'], env });

    const cleanPath = join(fx.root, 'wt', 'clean');
    await createWorktree({ repoDir: clone, path: cleanPath, ref: 'origin/task/clean', env });
    const clean = await rebaseOntoMain({
      cwd: cleanPath,
      onto: 'origin/main',
      env,
      identity: { name: 'Gate Bot', email: 'bot@example.test' },
    });
    expect(clean.ok && clean.value.status).toBe('rebased');
    expect(gitSync(cleanPath, 'show', 'HEAD:shared.txt')).toBe('ONE\n2\nTHREE');
    expect(gitSync(cleanPath, 'log', '-1', '--format=%cn')).toBe('Gate Bot');
    const upToDate = await rebaseOntoMain({ cwd: cleanPath, onto: 'origin/main', env });
    expect(upToDate.ok && upToDate.value.status).toBe('up_to_date');

    const conflictPath = join(fx.root, 'wt', 'conflict');
    await createWorktree({ repoDir: clone, path: conflictPath, ref: 'origin/task/conflict', env });
    const conflict = await rebaseOntoMain({ cwd: conflictPath, onto: 'origin/main', env });
    expect(conflict.ok).toBe(true);
    if (!conflict.ok || conflict.value.status !== 'conflict') throw new Error('expected a conflict');
    expect(conflict.value.files).toEqual(['b.txt']);
    expect(gitSync(conflictPath, 'rev-parse', 'HEAD')).toBe(fx.head('task/conflict'));
    expect(gitSync(conflictPath, 'status', '--porcelain')).toBe('');
  });

  it('pushTaskBranch refuses main, the base branch and odd names before running git', async () => {
    const before = fx.head('main');
    const path = join(fx.root, 'wt', 'push-guard');
    await createWorktree({ repoDir: clone, path, ref: 'origin/task/clean', env });
    for (const branch of ['main', 'refs/heads/main', 'master', 'release', 'refs/tags/v1', 'a:b', '+x', 'HEAD', '']) {
      const pushed = await pushTaskBranch({
        cwd: path,
        branch,
        expectedSha: before ?? '',
        baseBranch: 'release',
        env,
      });
      expect(pushed.ok, branch).toBe(false);
      if (!pushed.ok) expect(pushed.error.code).toBe('invalid_input');
    }
    expect(fx.head('main')).toBe(before);
  });

  it('pushTaskBranch pushes with a matching lease and is rejected (nothing overwritten) when the branch moved', async () => {
    const original = fx.commit('task/push', { 'p.txt': 'p\n' });
    await fetch({ cwd: clone, branches: ['main', 'task/push'], env });
    const path = join(fx.root, 'wt', 'push');
    await createWorktree({ repoDir: clone, path, ref: 'origin/task/push', env });
    await rebaseOntoMain({ cwd: path, onto: 'origin/main', env });
    const rebased = gitSync(path, 'rev-parse', 'HEAD');

    const someoneElse = fx.commit('task/push', { 'p.txt': 'someone else\n' });
    const rejected = await pushTaskBranch({ cwd: path, branch: 'task/push', expectedSha: original, env });
    expect(rejected.ok && rejected.value.status).toBe('rejected');
    expect(fx.head('task/push')).toBe(someoneElse);

    const pushed = await pushTaskBranch({ cwd: path, branch: 'task/push', expectedSha: someoneElse, env });
    expect(pushed.ok && pushed.value).toEqual({ status: 'pushed', sha: rebased });
    expect(fx.head('task/push')).toBe(rebased);
  });

  it('retest keeps the tail of the output and reports red, green and timeouts', async () => {
    const green = await retest('echo fine', { cwd: fx.root });
    expect(green.ok && green.value.passed).toBe(true);
    expect(green.ok && green.value.tail).toBe('fine');

    const red = await retest(
      ['node', '-e', 'for (let i = 1; i <= 200; i++) console.log("line " + i); console.error("boom"); process.exit(3)'],
      { cwd: fx.root, tailLines: 5 },
    );
    expect(red.ok).toBe(true);
    if (!red.ok) return;
    expect(red.value.passed).toBe(false);
    expect(red.value.exitCode).toBe(3);
    const lines = red.value.tail.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines).toContain('boom');
    expect(lines).toContain('line 200');
    expect(lines).not.toContain('line 1');

    const slow = await retest('sleep 5 & sleep 5; echo never', { cwd: fx.root, timeoutMs: 200 });
    expect(slow.ok && slow.value.timedOut).toBe(true);
    expect(slow.ok && slow.value.passed).toBe(false);

    const missingDir = await retest('true', { cwd: join(fx.root, 'does-not-exist') });
    expect(missingDir.ok).toBe(false);
  });

  it('tailOf keeps both a line and a byte bound', () => {
    expect(tailOf('a\nb\nc\nd\n', 2, 1000)).toBe('c\nd');
    expect(tailOf('x'.repeat(100), 10, 10)).toBe('x'.repeat(10));
  });
});
