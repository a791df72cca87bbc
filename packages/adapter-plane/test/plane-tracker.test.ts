import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPlaneTracker, type PlaneTrackerOptions } from '@conveyor/adapter-plane';
import {
  type FakePlane,
  FIXTURES_MISSING_MESSAGE,
  sharedFixturesDir,
  startFakeHttpServer,
  startFakePlane,
  trackerConformance,
} from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// A test-only key; .gitleaks.toml allowlists packages/*/test/.
const API_KEY = 'plane_api_test_0123456789abcdef';
const SLUG = 'acme';
const noSleep = async () => {};

function trackerFor(fake: FakePlane, projectId: string, extra: Partial<PlaneTrackerOptions> = {}) {
  return createPlaneTracker({
    baseUrl: fake.url,
    apiKey: API_KEY,
    workspaceSlug: SLUG,
    projectId,
    timeoutMs: 300,
    retries: 2,
    sleep: noSleep,
    ...extra,
  });
}

trackerConformance('adapter-plane against the fake Plane', async () => {
  const projectId = randomUUID();
  const fake = await startFakePlane({ apiKey: API_KEY, workspaceSlug: SLUG, projectId });
  return {
    tracker: trackerFor(fake, projectId),
    states: ['Todo', 'In Progress', 'Done'],
    seed: async (issues) =>
      issues.map(
        (i) =>
          fake.addIssue({
            name: i.title,
            state: i.state,
            ...(i.description === undefined ? {} : { description_html: i.description }),
          }).id,
      ),
    readComments: async (issueId) => fake.comments(issueId).map((c) => c.comment_html),
    fake: { inject: (f) => fake.inject(f), requests: fake.requests, timeoutMs: 300, retries: 2 },
    close: () => fake.close(),
  };
});

describe('createPlaneTracker', () => {
  let fake: FakePlane;
  let projectId: string;

  beforeEach(async () => {
    projectId = randomUUID();
    fake = await startFakePlane({ apiKey: API_KEY, workspaceSlug: SLUG, projectId });
  });
  afterEach(async () => {
    await fake.close();
  });

  const apiPath = (rest: string) => `/api/v1/workspaces/${SLUG}/projects/${projectId}/${rest}`;

  it('sends X-API-Key and Plane’s query parameters, and pages with the cursor Plane returned', async () => {
    const todo = fake.states().find((s) => s.name === 'Todo');
    for (let i = 0; i < 5; i += 1) fake.addIssue({ name: `T${i}`, state: 'Todo' });
    const tracker = trackerFor(fake, projectId);
    const first = await tracker.listIssuesByState('Todo', { perPage: 2 });
    expect(first.ok && first.value.nextCursor).toBe('2:1:0');
    const second = await tracker.listIssuesByState('Todo', { cursor: '2:1:0' });
    expect(second.ok && second.value.items).toHaveLength(2);

    const lists = fake.requests.filter((r) => r.path === apiPath('issues/'));
    expect(lists).toHaveLength(2);
    for (const r of lists) {
      expect(r.method).toBe('GET');
      expect(r.headers['x-api-key']).toBe(API_KEY);
      expect(r.query.get('state')).toBe(todo?.id);
      expect(r.query.get('expand')).toBe('state');
      // The cursor's own page size is sent even though the second call gave none: no item is skipped.
      expect(r.query.get('per_page')).toBe('2');
    }
    expect(lists[0]?.query.has('cursor')).toBe(false);
    expect(lists[1]?.query.get('cursor')).toBe('2:1:0');
  });

  it('stops on next_page_results: false although Plane fills next_cursor', async () => {
    for (let i = 0; i < 4; i += 1) fake.addIssue({ name: `T${i}`, state: 'Todo' });
    const tracker = trackerFor(fake, projectId);
    const last = await tracker.listIssuesByState('Todo', { cursor: '2:1:0' });
    expect(last.ok && last.value.items).toHaveLength(2);
    expect(last.ok && last.value.nextCursor).toBeUndefined();
    const raw = await fetch(`${fake.apiBase}issues/?per_page=2&cursor=2:1:0`, { headers: { 'X-API-Key': API_KEY } });
    expect(await raw.json()).toMatchObject({ next_cursor: '2:2:0', next_page_results: false });
  });

  it('PATCHes the state uuid and POSTs comment_html', async () => {
    const issue = fake.addIssue({ name: 'Ship it', state: 'Todo' });
    const done = fake.states().find((s) => s.name === 'Done');
    const tracker = trackerFor(fake, projectId);
    expect((await tracker.setState(issue.id, 'Done')).ok).toBe(true);
    expect((await tracker.comment(issue.id, '<p>merged ✓</p>')).ok).toBe(true);

    const patch = fake.requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(apiPath(`issues/${issue.id}/`));
    expect(patch?.json).toEqual({ state: done?.id });
    expect(patch?.headers['content-type']).toBe('application/json');
    const post = fake.requests.find((r) => r.method === 'POST');
    expect(post?.path).toBe(apiPath(`issues/${issue.id}/comments/`));
    expect(post?.json).toEqual({ comment_html: '<p>merged ✓</p>' });
    expect(fake.issue(issue.id)?.state).toBe(done?.id);
    expect(fake.comments(issue.id).map((c) => c.comment_html)).toEqual(['<p>merged ✓</p>']);
  });

  it('loads the states once per client and reloads once on a miss', async () => {
    const issue = fake.addIssue({ name: 'Cache', state: 'Todo' });
    const tracker = trackerFor(fake, projectId);
    await tracker.setState(issue.id, 'In Progress');
    await tracker.setState(issue.id, 'Done');
    await tracker.listIssuesByState('Todo');
    const statesCalls = () => fake.requests.filter((r) => r.path === apiPath('states/')).length;
    expect(statesCalls()).toBe(1);

    const review = fake.addState({ name: 'In Review', group: 'started' });
    expect((await tracker.setState(issue.id, 'In Review')).ok).toBe(true);
    expect(statesCalls()).toBe(2);
    expect(fake.issue(issue.id)?.state).toBe(review.id);
  });

  it('refuses an unknown state name, listing the known ones, without a PATCH', async () => {
    const issue = fake.addIssue({ name: 'Stay', state: 'Todo' });
    const tracker = trackerFor(fake, projectId);
    const result = await tracker.setState(issue.id, 'Shipped');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('invalid_input');
    expect(result.error.pkg).toBe('@conveyor/adapter-plane');
    expect(result.error.message).toContain('"Shipped"');
    for (const name of ['Backlog', 'Todo', 'In Progress', 'Done', 'Cancelled'])
      expect(result.error.message).toContain(name);
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('matches a state name case-insensitively when that is unambiguous', async () => {
    const issue = fake.addIssue({ name: 'Case', state: 'Todo' });
    const tracker = trackerFor(fake, projectId);
    expect((await tracker.setState(issue.id, 'in progress')).ok).toBe(true);
    expect(fake.issue(issue.id)?.state).toBe(fake.states().find((s) => s.name === 'In Progress')?.id);
  });

  it('resolves a bare state uuid through the states list, and filters when the server ignores `state`', async () => {
    fake.addIssue({ name: 'Todo 1', state: 'Todo' });
    fake.addIssue({ name: 'Done 1', state: 'Done' });
    // A Plane that neither expands the state nor filters by it.
    const stripping: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      url.searchParams.delete('expand');
      url.searchParams.delete('state');
      return fetch(url, init);
    };
    const tracker = trackerFor(fake, projectId, { fetch: stripping });
    const page = await tracker.listIssuesByState('Todo');
    expect(page.ok && page.value.items.map((i) => [i.title, i.state])).toEqual([['Todo 1', 'Todo']]);
    const listed = fake.requests.find((r) => r.path === apiPath('issues/'));
    expect(listed?.query.has('expand')).toBe(false);
  });

  it('maps an issue: key from projectIdentifier, description_html, updatedAt, stateId', async () => {
    const issue = fake.addIssue({ name: 'Keyed', state: 'In Progress', description_html: '<p>why</p>' });
    const tracker = trackerFor(fake, projectId, { projectIdentifier: 'WEB' });
    const got = await tracker.getIssue(issue.id);
    expect(got.ok && got.value).toEqual({
      id: issue.id,
      project: projectId,
      key: `WEB-${issue.sequence_id}`,
      title: 'Keyed',
      description: '<p>why</p>',
      state: 'In Progress',
      stateId: fake.states().find((s) => s.name === 'In Progress')?.id,
      updatedAt: issue.updated_at,
    });
  });

  it('uses the work-items path when asked', async () => {
    const issue = fake.addIssue({ name: 'New name', state: 'Todo' });
    const tracker = trackerFor(fake, projectId, { resource: 'work-items' });
    expect((await tracker.getIssue(issue.id)).ok).toBe(true);
    expect(fake.requests.at(-1)?.path).toBe(apiPath(`work-items/${issue.id}/`));
  });

  it('says unauthorized with Plane’s message for a wrong key, never showing the key', async () => {
    const tracker = createPlaneTracker({
      baseUrl: fake.url,
      apiKey: `${API_KEY}-wrong`,
      workspaceSlug: SLUG,
      projectId,
      sleep: noSleep,
    });
    const result = await tracker.getIssue(randomUUID());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('unauthorized');
    expect(result.error.message).toContain('Given API token is not valid');
    expect(JSON.stringify(result.error.toJSON())).not.toContain(API_KEY);
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses bad options and bad paging input without a request', async () => {
    const bad = createPlaneTracker({ baseUrl: 'not a url', apiKey: '', workspaceSlug: SLUG, projectId });
    const result = await bad.getIssue('x');
    expect(!result.ok && result.error.code).toBe('invalid_config');
    expect(!result.ok && result.error.message).toMatch(/apiKey is empty.*baseUrl/);

    const tracker = trackerFor(fake, projectId);
    const cursor = await tracker.listIssuesByState('Todo', { cursor: 'page-two' });
    expect(!cursor.ok && cursor.error.message).toContain('"page-two" is not a Plane cursor');
    const big = await tracker.listIssuesByState('Todo', { perPage: 5000 });
    expect(!big.ok && big.error.code).toBe('invalid_input');
    const empty = await tracker.getIssue('  ');
    expect(!empty.ok && empty.error.code).toBe('invalid_input');
    const noComment = await tracker.comment(randomUUID(), '');
    expect(!noComment.ok && noComment.error.code).toBe('invalid_input');
    expect(fake.requests.filter((r) => r.path.includes('/issues/'))).toHaveLength(0);
  });

  it('encodes the issue id so it cannot leave the issues path', async () => {
    const tracker = trackerFor(fake, projectId);
    const result = await tracker.getIssue('../states');
    expect(!result.ok && result.error.code).toBe('not_found');
    expect(fake.requests.at(-1)?.path).toBe(apiPath('issues/..%2Fstates/'));
  });

  it('reports an answer it cannot understand as api_refused, naming the field', async () => {
    const issue = fake.addIssue({ name: 'Odd', state: 'Todo' });
    fake.inject({ kind: 'status', status: 200, body: { id: issue.id, name: 42 } });
    const tracker = trackerFor(fake, projectId);
    const result = await tracker.getIssue(issue.id);
    expect(!result.ok && result.error.code).toBe('api_refused');
    expect(!result.ok && result.error.message).toContain('body.name');
  });

  it('exposes the states and resolves a state id to its name', async () => {
    const tracker = trackerFor(fake, projectId);
    const states = await tracker.listStates();
    expect(states.ok && states.value.map((s) => s.name)).toEqual([
      'Backlog',
      'Todo',
      'In Progress',
      'Done',
      'Cancelled',
    ]);
    const done = fake.states().find((s) => s.name === 'Done');
    const name = await tracker.stateName(done?.id ?? '');
    expect(name.ok && name.value).toBe('Done');
    const missing = await tracker.stateName(randomUUID());
    expect(!missing.ok && missing.error.code).toBe('not_found');
  });

  it('forgets the cached states when Plane refuses a state uuid', async () => {
    const issue = fake.addIssue({ name: 'Stale', state: 'Todo' });
    const tracker = trackerFor(fake, projectId);
    await tracker.listStates();
    fake.inject({
      kind: 'status',
      status: 400,
      path: /issues/,
      body: { state: ['Invalid pk - object does not exist.'] },
    });
    const refused = await tracker.setState(issue.id, 'Done');
    expect(!refused.ok && refused.error.code).toBe('invalid_input');
    expect((await tracker.setState(issue.id, 'Done')).ok).toBe(true);
    expect(fake.requests.filter((r) => r.path === apiPath('states/'))).toHaveLength(2);
  });
});

const fixtures = sharedFixturesDir();
if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);

// Plane's documented REST answers live in ../shared/fixtures (not in the repo): skip without them.
describe.skipIf(!fixtures)('against Plane’s documented REST answers', () => {
  const read = (name: string): unknown => JSON.parse(readFileSync(join(fixtures ?? '', 'plane', name), 'utf8'));

  it('reads list-issues.json, list-states.json, update-issue.json and add-comment.json', async () => {
    const server = await startFakeHttpServer((req) => {
      if (req.path.endsWith('/states/')) return { status: 200, body: read('list-states.json') };
      if (req.path.endsWith('/comments/')) return { status: 201, body: read('add-comment.json') };
      if (req.method === 'PATCH') return { status: 200, body: read('update-issue.json') };
      if (req.path.endsWith('/issues/')) return { status: 200, body: read('list-issues.json') };
      return undefined;
    });
    try {
      const tracker = createPlaneTracker({
        baseUrl: `${server.url}/api/v1`,
        apiKey: API_KEY,
        workspaceSlug: 'my-workspace',
        projectId: 'project-uuid',
        sleep: noSleep,
      });
      const page = await tracker.listIssuesByState('Example Name');
      expect(page.ok && page.value).toEqual({
        items: [
          {
            id: '550e8400-e29b-41d4-a716-446655440000',
            project: 'project-uuid',
            title: 'Example Name',
            description: 'Example description',
            state: 'Example Name',
            stateId: '550e8400-e29b-41d4-a716-446655440000',
          },
        ],
        nextCursor: '20:1:0',
      });
      expect((await tracker.setState('550e8400-e29b-41d4-a716-446655440000', 'Example Name')).ok).toBe(true);
      expect((await tracker.comment('550e8400-e29b-41d4-a716-446655440000', '<p>Example content</p>')).ok).toBe(true);
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toContain(
        'GET /api/v1/workspaces/my-workspace/projects/project-uuid/issues/',
      );
    } finally {
      await server.close();
    }
  });
});
