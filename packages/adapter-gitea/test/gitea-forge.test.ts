import { createGiteaForge, type GiteaForgeOptions } from '@conveyor/adapter-gitea';
import { type FakeGitea, forgeConformance, startFakeGitea } from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const TOKEN = 'gitea-test-token-0123456789abcdef';
const REPO = 'acme/web';
const noSleep = async () => {};

function forgeFor(gitea: FakeGitea, extra: Partial<GiteaForgeOptions> = {}) {
  return createGiteaForge({ baseUrl: gitea.url, token: TOKEN, retries: 2, timeoutMs: 1_000, sleep: noSleep, ...extra });
}

forgeConformance('gitea adapter against the fake Gitea', async () => {
  const gitea = await startFakeGitea({ token: TOKEN, repos: [REPO] });
  return {
    forge: forgeFor(gitea),
    repo: REPO,
    baseBranch: 'main',
    fake: gitea,
    createBranch: (name, options) => gitea.createBranch(REPO, name, options),
    pushCommit: (branch) => gitea.commit(REPO, branch),
    setMergeable: (number, mergeable) => gitea.setMergeable(REPO, number, mergeable),
    close: () => gitea.close(),
  };
});

describe('createGiteaForge on the wire', () => {
  let gitea: FakeGitea;
  beforeEach(async () => {
    gitea = await startFakeGitea({ token: TOKEN, repos: [REPO] });
  });
  afterEach(async () => {
    await gitea.close();
  });

  it('sends the token as `Authorization: token …`, under /api/v1, and freezes its options', async () => {
    const forge = forgeFor(gitea);
    const sha = gitea.createBranch(REPO, 'task/a');
    expect((await forge.setCommitStatus(REPO, sha, { context: 'ci/test', state: 'pending' })).ok).toBe(true);
    const req = gitea.requests.at(-1);
    expect(req?.headers.authorization).toBe(`token ${TOKEN}`);
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe(`/api/v1/repos/acme/web/statuses/${sha}`);
    expect(req?.json).toEqual({ state: 'pending', context: 'ci/test' });
    expect(gitea.statuses(REPO, sha).map((s) => s.state)).toEqual(['pending']);
    expect(Object.isFrozen(forge)).toBe(true);
    expect(Object.isFrozen(forge.options)).toBe(true);
    expect(JSON.stringify(forge.options)).not.toContain(TOKEN);
    // a baseUrl that already ends in /api/v1 is not doubled
    const explicit = createGiteaForge({ baseUrl: `${gitea.apiUrl}/`, token: TOKEN, sleep: noSleep });
    expect((await explicit.getCombinedStatus(REPO, sha)).ok).toBe(true);
    expect(gitea.requests.at(-1)?.path).toBe(`/api/v1/repos/acme/web/commits/${sha}/status`);
  });

  it.each([
    [
      'v1.22',
      {
        Do: 'squash',
        MergeTitleField: 'Ship it',
        MergeMessageField: 'body',
        head_commit_id: '',
        delete_branch_after_merge: true,
      },
    ],
    [
      'modern',
      {
        do: 'squash',
        merge_title_field: 'Ship it',
        merge_message_field: 'body',
        head_commit_id: '',
        delete_branch_after_merge: true,
      },
    ],
    [
      'both',
      {
        Do: 'squash',
        MergeTitleField: 'Ship it',
        MergeMessageField: 'body',
        do: 'squash',
        merge_title_field: 'Ship it',
        merge_message_field: 'body',
        head_commit_id: '',
        delete_branch_after_merge: true,
      },
    ],
  ] as const)('mergeFieldStyle %s puts those keys on the wire and the fake merges it', async (style, expected) => {
    const forge = forgeFor(gitea, { mergeFieldStyle: style });
    const head = gitea.createBranch(REPO, 'task/style');
    const number = gitea.openPullRequest(REPO, { base: 'main', head: 'task/style' });
    const merged = await forge.mergePullRequest(REPO, number, {
      headSha: head,
      method: 'squash',
      title: 'Ship it',
      message: 'body',
      deleteBranchAfterMerge: true,
    });
    expect(merged.ok && merged.value.alreadyMerged).toBe(false);
    const sent = gitea.requests.find((r) => r.method === 'POST' && r.path.endsWith(`/pulls/${number}/merge`));
    expect(sent?.json).toEqual({ ...expected, head_commit_id: head });
    const pull = gitea.pullRequest(REPO, number);
    expect(pull).toMatchObject({ merged: true, mergeCount: 1 });
    expect(merged.ok && merged.value.mergeSha).toBe(pull?.mergeSha);
    expect(gitea.branchHead(REPO, 'main')).toBe(pull?.mergeSha);
    expect(gitea.branchHead(REPO, 'task/style')).toBeUndefined();
  });

  it('defaults to the 1.22 spelling (`Do`, `head_commit_id`)', async () => {
    const forge = forgeFor(gitea);
    const head = gitea.createBranch(REPO, 'task/default');
    const number = gitea.openPullRequest(REPO, { base: 'main', head: 'task/default' });
    expect((await forge.mergePullRequest(REPO, number, { headSha: head })).ok).toBe(true);
    const sent = gitea.requests.find((r) => r.method === 'POST' && r.path.endsWith('/merge'));
    expect(sent?.json).toEqual({ Do: 'merge', head_commit_id: head });
  });

  it('keeps the server message of a 409 it does not recognise as a stale head, and maps "push out of date" to conflict', async () => {
    const forge = forgeFor(gitea);
    const head = gitea.createBranch(REPO, 'task/conflicts');
    const number = gitea.openPullRequest(REPO, { base: 'main', head: 'task/conflicts' });
    gitea.inject({
      kind: 'status',
      status: 409,
      body: { message: 'merge push out of date', url: 'x' },
      path: '/merge',
    });
    const racing = await forge.mergePullRequest(REPO, number, { headSha: head });
    expect(!racing.ok && racing.error.code).toBe('conflict');
    gitea.inject({ kind: 'status', status: 409, body: { ConflictFiles: ['a.txt'] }, path: '/merge' });
    const conflicted = await forge.mergePullRequest(REPO, number, { headSha: head });
    expect(!conflicted.ok && conflicted.error.code).toBe('not_mergeable');
    expect(!conflicted.ok && conflicted.error.message).toContain('a.txt');
    expect(gitea.pullRequest(REPO, number)?.merged).toBe(false);
  });

  it('reports a wrong token as unauthorized with Gitea’s message, without retrying', async () => {
    const forge = createGiteaForge({ baseUrl: gitea.url, token: 'wrong-token', retries: 3, sleep: noSleep });
    const res = await forge.isMerged(REPO, 1);
    expect(!res.ok && res.error.code).toBe('unauthorized');
    expect(!res.ok && res.error.message).toContain('user does not exist');
    expect(!res.ok && res.error.message).not.toContain('wrong-token');
    expect(gitea.requests).toHaveLength(1);
  });

  it('times out a slow answer, retries, and tells the network apart from the API', async () => {
    const forge = forgeFor(gitea, { timeoutMs: 100, retries: 1 });
    gitea.inject({ kind: 'slow', delayMs: 400, times: 2 });
    const res = await forge.resolveShaToBranch(REPO, 'a'.repeat(40));
    expect(!res.ok && res.error.code).toBe('timeout');
    gitea.inject({ kind: 'drop', times: 5 });
    const dropped = await forge.isMerged(REPO, 1);
    expect(!dropped.ok && dropped.error.code).toBe('network');
  });

  it('creates a PR, refuses a duplicate with conflict, and finds branches with slashes', async () => {
    const forge = forgeFor(gitea);
    gitea.createBranch(REPO, 'feature/deep/name', { commits: 2 });
    const created = await forge.createPullRequest(REPO, {
      base: 'main',
      head: 'feature/deep/name',
      title: 'Deep',
      body: 'why',
    });
    expect(created.ok && created.value).toMatchObject({
      number: 1,
      state: 'open',
      head: 'feature/deep/name',
      headSha: gitea.branchHead(REPO, 'feature/deep/name'),
    });
    expect(gitea.requests.at(-1)?.json).toEqual({
      base: 'main',
      head: 'feature/deep/name',
      title: 'Deep',
      body: 'why',
    });
    const dup = await forge.createPullRequest(REPO, { base: 'main', head: 'feature/deep/name', title: 'Again' });
    expect(!dup.ok && dup.error.code).toBe('conflict');
    expect(!dup.ok && dup.error.message).toContain('pull request already exists');
    const found = await forge.findPullRequest(REPO, 'main', 'feature/deep/name');
    expect(found.ok && found.value?.number).toBe(1);
    expect(gitea.requests.at(-1)?.path).toBe('/api/v1/repos/acme/web/pulls/main/feature/deep/name');
    const missing = await forge.createPullRequest(REPO, { base: 'main', head: 'no-such-branch', title: 'x' });
    expect(!missing.ok && missing.error.code).toBe('not_found');
  });

  it('finds a PR whose base has a slash by listing', async () => {
    const forge = forgeFor(gitea);
    gitea.createBranch(REPO, 'release/1.0');
    gitea.createBranch(REPO, 'fix/x', { from: 'release/1.0' });
    const number = gitea.openPullRequest(REPO, { base: 'release/1.0', head: 'fix/x' });
    const found = await forge.findPullRequest(REPO, 'release/1.0', 'fix/x');
    expect(found.ok && found.value?.number).toBe(number);
    const none = await forge.findPullRequest(REPO, 'release/1.0', 'fix/y');
    expect(none.ok && none.value).toBeUndefined();
  });

  it('refuses bad input before sending anything', async () => {
    const forge = forgeFor(gitea);
    const cases = [
      await forge.setCommitStatus(REPO, 'not-a-sha', { context: 'c', state: 'success' }),
      await forge.setCommitStatus(REPO, 'a'.repeat(40), { context: '', state: 'success' }),
      await forge.mergePullRequest(REPO, 0, { headSha: 'a'.repeat(40) }),
      await forge.mergePullRequest(REPO, 1, { headSha: 'zz' }),
      await forge.mergePullRequest(REPO, 1, { headSha: 'abcdef1' }),
      await forge.isMerged(REPO, 1.5),
      await forge.compare(REPO, 'main', 'bad..name'),
      await forge.createPullRequest(REPO, { base: 'main', head: 'x', title: '  ' }),
      await forge.findPullRequest('acme/', 'main', 'x'),
    ];
    for (const res of cases) expect(!res.ok && res.error.code).toBe('invalid_input');
    expect(gitea.requests).toHaveLength(0);
  });

  it('refuses an answer that is not what the API documents, naming the field', async () => {
    const forge = forgeFor(gitea);
    gitea.inject({ kind: 'status', status: 200, body: { number: 'seven', state: 'open' }, path: '/pulls/main/x' });
    gitea.createBranch(REPO, 'x');
    const res = await forge.findPullRequest(REPO, 'main', 'x');
    expect(!res.ok && res.error.code).toBe('api_refused');
    expect(!res.ok && res.error.message).toMatch(/body\.number/);
  });
});
