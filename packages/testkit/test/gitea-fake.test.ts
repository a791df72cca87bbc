import {
  BUILTIN_GITEA_SPEC,
  type FakeGitea,
  FIXTURES_MISSING_MESSAGE,
  loadGiteaSpec,
  sharedFixturesDir,
  startFakeGitea,
  validateRequestBody,
} from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const TOKEN = 'fake-gitea-token-test-0001';
const REPO = 'acme/web';
const fixturesDir = sharedFixturesDir();
if (!fixturesDir) console.warn(FIXTURES_MISSING_MESSAGE);

async function call(gitea: FakeGitea, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${gitea.apiUrl}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `token ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

// The real spec is outside the repository; without it only the built-in schemas are exercised.
const modes = fixturesDir ? (['auto', 'builtin'] as const) : (['builtin'] as const);

describe.each(modes)('fake Gitea (spec: %s)', (mode) => {
  let gitea: FakeGitea;
  beforeEach(async () => {
    gitea = await startFakeGitea({ token: TOKEN, repos: [REPO], spec: mode });
  });
  afterEach(async () => {
    await gitea.close();
  });

  it('says where its schemas came from', () => {
    expect(gitea.specSource).toBe(mode === 'auto' ? 'swagger-v1.22.json' : 'builtin');
  });

  it('answers 401 without a token or with a wrong one, in Gitea’s error shape', async () => {
    const none = await call(gitea, 'GET', `/repos/${REPO}/branches`, undefined, null);
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ message: 'token is required', url: `${gitea.url}/api/swagger` });
    const wrong = await call(gitea, 'GET', `/repos/${REPO}/branches`, undefined, 'nope');
    expect(wrong.status).toBe(401);
    const bearer = await fetch(`${gitea.apiUrl}/repos/${REPO}/branches`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bearer.status).toBe(200);
  });

  it('answers 404 for an unknown repository or route and 405 for a wrong method', async () => {
    expect((await call(gitea, 'GET', '/repos/acme/nope/branches')).status).toBe(404);
    expect((await call(gitea, 'GET', `/repos/${REPO}/nothing-here`)).status).toBe(404);
    const wrongMethod = await call(gitea, 'DELETE', `/repos/${REPO}/branches`);
    expect(wrongMethod.status).toBe(405);
    expect(typeof wrongMethod.json?.message).toBe('string');
  });

  it('validates request bodies with 422: types, enums, required fields, JSON itself', async () => {
    const head = gitea.createBranch(REPO, 'task/a');
    const number = gitea.openPullRequest(REPO, { base: 'main', head: 'task/a' });
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', `/pulls/${number}/merge`, { head_commit_id: head }, /\[Do\]: Required/],
      ['POST', `/pulls/${number}/merge`, { Do: 'explode' }, /\[Do\]: must be one of/],
      ['POST', `/pulls/${number}/merge`, { Do: 'merge', head_commit_id: 42 }, /\[head_commit_id\]: must be a string/],
      [
        'POST',
        `/pulls/${number}/merge`,
        { Do: 'merge', delete_branch_after_merge: 'yes' },
        /delete_branch_after_merge/,
      ],
      ['POST', `/pulls/${number}/merge`, '{"Do": "merge"', /not valid JSON/],
      ['POST', `/pulls/${number}/merge`, ['merge'], /must be an object/],
      ['POST', `/statuses/${head}`, { state: 'green', context: 'ci' }, /\[State\]/],
      ['POST', `/statuses/${head}`, { state: 'success', context: 7 }, /\[context\]: must be a string/],
      ['POST', '/pulls', { base: 'main', head: 'task/a' }, /\[Title\]: Required/],
      ['POST', '/pulls', { base: 'main', head: 'task/a', title: 't', labels: ['bug'] }, /labels\[0\]/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await call(gitea, method, `/repos/${REPO}${path}`, body);
      expect({ path, status: res.status }).toEqual({ path, status: 422 });
      expect(res.json?.message).toMatch(message);
      expect(res.json?.url).toBe(`${gitea.url}/api/swagger`);
    }
    expect(gitea.pullRequest(REPO, number)).toMatchObject({ merged: false, mergeCount: 0 });
    expect(gitea.statuses(REPO, head)).toEqual([]);
  });

  it('a status is created with 201 and `status`, and the combined status is the worst of the latest per context', async () => {
    const sha = gitea.createBranch(REPO, 'task/s');
    const created = await call(gitea, 'POST', `/repos/${REPO}/statuses/${sha}`, { state: 'pending', context: 'ci/a' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: 'pending', context: 'ci/a' });
    expect(created.json).not.toHaveProperty('state');
    await call(gitea, 'POST', `/repos/${REPO}/statuses/${sha}`, { state: 'success', context: 'ci/a' });
    await call(gitea, 'POST', `/repos/${REPO}/statuses/${sha}`, { state: 'warning', context: 'ci/b' });
    const combined = await call(gitea, 'GET', `/repos/${REPO}/commits/task/s/status`);
    expect(combined.json).toMatchObject({ state: 'warning', sha, total_count: 2 });
    const unknown = await call(gitea, 'POST', `/repos/${REPO}/statuses/${'f'.repeat(40)}`, {
      state: 'success',
      context: 'x',
    });
    expect(unknown.status).toBe(404);
  });

  it('merges with either spelling of the options; stale head 409, already merged 405, is-merged 204/404', async () => {
    const head = gitea.createBranch(REPO, 'task/m');
    const number = gitea.openPullRequest(REPO, { base: 'main', head: 'task/m' });
    expect((await call(gitea, 'GET', `/repos/${REPO}/pulls/${number}/merge`)).status).toBe(404);
    const moved = gitea.commit(REPO, 'task/m');
    const stale = await call(gitea, 'POST', `/repos/${REPO}/pulls/${number}/merge`, {
      Do: 'merge',
      head_commit_id: head,
    });
    expect(stale.status).toBe(409);
    expect(stale.json?.message).toBe('head out of date');
    const modern = await call(gitea, 'POST', `/repos/${REPO}/pulls/${number}/merge`, {
      do: 'merge',
      merge_title_field: 'T',
      head_commit_id: moved,
    });
    expect(modern.status).toBe(200);
    expect((await call(gitea, 'GET', `/repos/${REPO}/pulls/${number}/merge`)).status).toBe(204);
    const twice = await call(gitea, 'POST', `/repos/${REPO}/pulls/${number}/merge`, {
      Do: 'merge',
      head_commit_id: moved,
    });
    expect(twice.status).toBe(405);
    expect(gitea.pullRequest(REPO, number)).toMatchObject({
      merged: true,
      mergeCount: 1,
      headSha: moved,
      state: 'closed',
    });
    const pr = await call(gitea, 'GET', `/repos/${REPO}/pulls/main/task/m`);
    expect(pr.json).toMatchObject({
      number,
      merged: true,
      state: 'closed',
      merge_commit_sha: gitea.branchHead(REPO, 'main'),
    });
  });

  it('pages branches (limit capped at 50, X-Total-Count) and compares base...head newest first', async () => {
    for (let i = 0; i < 60; i += 1) gitea.createBranch(REPO, `b-${String(i).padStart(2, '0')}`);
    const page1 = await call(gitea, 'GET', `/repos/${REPO}/branches?limit=100&page=1`);
    expect(Array.isArray(page1.json) && page1.json.length).toBe(50);
    expect(page1.headers.get('x-total-count')).toBe('61');
    const page2 = await call(gitea, 'GET', `/repos/${REPO}/branches?limit=50&page=2`);
    expect(Array.isArray(page2.json) && page2.json.length).toBe(11);
    const first = gitea.createBranch(REPO, 'task/c', { commits: 1 });
    const second = gitea.commit(REPO, 'task/c');
    const cmp = await call(gitea, 'GET', `/repos/${REPO}/compare/main...task/c`);
    expect(cmp.json).toMatchObject({ total_commits: 2, commits: [{ sha: second }, { sha: first }] });
    expect((await call(gitea, 'GET', `/repos/${REPO}/compare/main...nope`)).status).toBe(404);
  });

  it('refuses a duplicate open PR with 409 and a PR between missing branches with 404', async () => {
    gitea.createBranch(REPO, 'task/d');
    const ok = await call(gitea, 'POST', `/repos/${REPO}/pulls`, { base: 'main', head: 'task/d', title: 'D' });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ number: 1, state: 'open', base: { ref: 'main' }, head: { ref: 'task/d' } });
    expect(
      (await call(gitea, 'POST', `/repos/${REPO}/pulls`, { base: 'main', head: 'task/d', title: 'D' })).status,
    ).toBe(409);
    expect(
      (await call(gitea, 'POST', `/repos/${REPO}/pulls`, { base: 'main', head: 'task/none', title: 'D' })).status,
    ).toBe(404);
  });

  it('injects faults through the shared base', async () => {
    gitea.inject({ kind: 'status', status: 503, path: '/branches' });
    expect((await call(gitea, 'GET', `/repos/${REPO}/branches`)).status).toBe(503);
    expect((await call(gitea, 'GET', `/repos/${REPO}/branches`)).status).toBe(200);
  });
});

describe('validateRequestBody', () => {
  it('matches keys case-insensitively like Go and ignores unknown keys', () => {
    const merge = '/repos/{owner}/{repo}/pulls/{index}/merge';
    expect(validateRequestBody(BUILTIN_GITEA_SPEC, 'post', merge, { do: 'merge', whatever: 1 })).toEqual([]);
    expect(validateRequestBody(BUILTIN_GITEA_SPEC, 'post', merge, { DO: 'nope' })[0]).toMatch(/\[Do\]: must be one of/);
    expect(validateRequestBody(BUILTIN_GITEA_SPEC, 'post', merge, undefined)).toEqual([
      '[body]: a JSON body is required',
    ]);
    expect(validateRequestBody(BUILTIN_GITEA_SPEC, 'get', '/nowhere', {})).toEqual([]);
  });

  // Fields only the real spec knows (CreatePullRequestOption.assignee, due_date) prove the checks are spec-driven.
  describe.skipIf(!fixturesDir)('against the real Gitea 1.22 spec', () => {
    it('checks fields the built-in schemas do not know', () => {
      const spec = loadGiteaSpec();
      expect(spec).toBeDefined();
      if (!spec) return;
      const body = { base: 'main', head: 'x', title: 't', assignee: 5, due_date: false };
      expect(validateRequestBody(BUILTIN_GITEA_SPEC, 'post', '/repos/{owner}/{repo}/pulls', body)).toEqual([]);
      expect(validateRequestBody(spec, 'post', '/repos/{owner}/{repo}/pulls', body)).toEqual([
        '[assignee]: must be a string, got number 5',
        '[due_date]: must be a string, got boolean false',
      ]);
      expect(
        validateRequestBody(spec, 'post', '/repos/{owner}/{repo}/pulls/{index}/merge', {
          Do: 'manually-merged',
          force_merge: 'y',
        }),
      ).toEqual(['[force_merge]: must be a boolean, got string "y"']);
    });
  });
});
