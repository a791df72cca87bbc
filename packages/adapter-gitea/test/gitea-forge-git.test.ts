import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forgeConformance, type GitBackedGitea, type GitPush, startGitBackedGitea } from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGiteaForge } from '../src/index.js';

const TOKEN = 'git-gitea-token-0123456789';
const REPO = 'acme/web';
const ENV = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.invalid',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.invalid',
};

// git runs asynchronously: the fake server answers it from this same process.
const exec = promisify(execFile);
const run = async (cwd: string, ...args: string[]) =>
  (await exec('git', args, { cwd, env: ENV, encoding: 'utf8' })).stdout.trim();
const withToken = (cloneUrl: string) => cloneUrl.replace('http://', `http://conveyor:${TOKEN}@`);

/** A working copy cloned over the fake's smart HTTP, pushing with the token. */
async function workingCopy(gitea: GitBackedGitea) {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-git-gitea-wc-'));
  await run(dir, 'clone', '--quiet', withToken(gitea.cloneUrl(REPO)), '.');
  let n = 0;
  const commitOn = async () => {
    n += 1;
    writeFileSync(join(dir, `change-${n}.txt`), `change ${n}\n`);
    await run(dir, 'add', '-A');
    await run(dir, 'commit', '--quiet', '-m', `change ${n}`);
  };
  return {
    dir,
    async branch(name: string, from: string | undefined, commits: number): Promise<string> {
      await run(dir, 'fetch', '--quiet', 'origin');
      await run(dir, 'checkout', '--quiet', '-B', name, `origin/${from ?? 'main'}`);
      for (let i = 0; i < commits; i += 1) await commitOn();
      await run(dir, 'push', '--quiet', '--force', 'origin', `${name}:${name}`);
      return run(dir, 'rev-parse', 'HEAD');
    },
    async push(name: string): Promise<string> {
      await run(dir, 'fetch', '--quiet', 'origin');
      await run(dir, 'checkout', '--quiet', '-B', name, `origin/${name}`);
      await commitOn();
      await run(dir, 'push', '--quiet', 'origin', `${name}:${name}`);
      return run(dir, 'rev-parse', 'HEAD');
    },
  };
}

forgeConformance('gitea adapter against the git-backed fake Gitea (real commits over smart HTTP)', async () => {
  const gitea = await startGitBackedGitea({ token: TOKEN, repos: [REPO] });
  return {
    forge: createGiteaForge({ baseUrl: gitea.url, token: TOKEN, retries: 0, timeoutMs: 5_000 }),
    repo: REPO,
    baseBranch: 'main',
    createBranch: (name, options) => gitea.createBranch(REPO, name, options),
    pushCommit: (branch) => gitea.commit(REPO, branch),
    close: () => gitea.close(),
  };
});

describe('the git-backed fake Gitea', () => {
  let gitea: GitBackedGitea;
  const pushes: GitPush[] = [];
  beforeAll(async () => {
    gitea = await startGitBackedGitea({ token: TOKEN, repos: [REPO], onPush: (p) => pushes.push(p) });
  });
  afterAll(() => gitea.close());

  it('refuses a push without the token and accepts one with it; the API sees the real commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-git-gitea-auth-'));
    await run(dir, 'clone', '--quiet', gitea.cloneUrl(REPO), '.');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    await run(dir, 'add', '-A');
    await run(dir, 'commit', '--quiet', '-m', 'a');
    const sha = await run(dir, 'rev-parse', 'HEAD');
    await expect(run(dir, 'push', '--quiet', 'origin', 'HEAD:refs/heads/task/a')).rejects.toThrow();
    expect(await gitea.branchHead(REPO, 'task/a')).toBeUndefined();
    await run(dir, 'push', '--quiet', withToken(gitea.cloneUrl(REPO)), 'HEAD:refs/heads/task/a');
    expect(await gitea.branchHead(REPO, 'task/a')).toBe(sha);
    await expect
      .poll(() => pushes.at(-1)?.refs[0])
      .toEqual({ ref: 'refs/heads/task/a', before: '0'.repeat(40), after: sha });

    const forge = createGiteaForge({ baseUrl: gitea.url, token: TOKEN, retries: 0 });
    const pr = await forge.createPullRequest(REPO, { base: 'main', head: 'task/a', title: 'A' });
    expect(pr.ok && pr.value.headSha).toBe(sha);
    if (!pr.ok) return;
    const merged = await forge.mergePullRequest(REPO, pr.value.number, { headSha: sha, method: 'fast-forward-only' });
    expect(merged.ok).toBe(true);
    expect(await gitea.branchHead(REPO, 'main')).toBe(sha);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a merge commit is a real commit whose tree holds both sides', async () => {
    const wc = await workingCopy(gitea);
    const head = await wc.branch('task/b', 'main', 1);
    await wc.branch('hotfix', 'main', 1);
    const forge = createGiteaForge({ baseUrl: gitea.url, token: TOKEN, retries: 0 });
    const hot = await forge.createPullRequest(REPO, { base: 'main', head: 'hotfix', title: 'hotfix' });
    if (!hot.ok) throw hot.error;
    expect(
      (
        await forge.mergePullRequest(REPO, hot.value.number, {
          headSha: hot.value.headSha,
          method: 'fast-forward-only',
        })
      ).ok,
    ).toBe(true);
    const pr = await forge.createPullRequest(REPO, { base: 'main', head: 'task/b', title: 'B' });
    if (!pr.ok) throw pr.error;
    const ff = await forge.mergePullRequest(REPO, pr.value.number, { headSha: head, method: 'fast-forward-only' });
    expect(ff.ok).toBe(false);
    const merged = await forge.mergePullRequest(REPO, pr.value.number, { headSha: head, method: 'merge' });
    expect(merged.ok).toBe(true);
    const main = (await gitea.branchHead(REPO, 'main')) ?? '';
    const parents = (await run(gitea.barePath(REPO), 'rev-list', '--parents', '-n', '1', main)).split(' ');
    expect(parents).toHaveLength(3);
    expect(parents).toContain(head);
    rmSync(wc.dir, { recursive: true, force: true });
  });
});
