import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type FakePlane,
  FIXTURES_MISSING_MESSAGE,
  pythonJsonDumps,
  sendPlaneWebhook,
  sharedFixturesDir,
  signPlaneWebhook,
  startFakePlane,
} from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// A test-only key; .gitleaks.toml allowlists packages/*/test/.
const KEY = 'plane_api_fake_test_key_0001';

describe('startFakePlane', () => {
  let plane: FakePlane;
  let projectId: string;

  beforeEach(async () => {
    projectId = randomUUID();
    plane = await startFakePlane({ apiKey: KEY, workspaceSlug: 'acme', projectId });
  });
  afterEach(async () => {
    await plane.close();
  });

  const call = async (path: string, init: RequestInit = {}, key: string | null = KEY) => {
    const headers = new Headers(init.headers);
    if (key !== null) headers.set('X-API-Key', key);
    const res = await fetch(`${plane.apiBase}${path}`, { ...init, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const patch = (path: string, body: unknown, type = 'application/json') =>
    call(path, {
      method: 'PATCH',
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers 401 with Plane’s bodies for a missing or wrong X-API-Key', async () => {
    expect(await call('states/', {}, null)).toEqual({
      status: 401,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    expect(await call('states/', {}, 'nope')).toEqual({
      status: 401,
      body: { detail: 'Given API token is not valid' },
    });
  });

  it('answers 404 for an unknown workspace, project, issue or path, and 405 for a wrong method', async () => {
    const other = await fetch(`${plane.url}/api/v1/workspaces/other/projects/${projectId}/states/`, {
      headers: { 'X-API-Key': KEY },
    });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'The requested resource does not exist.' });
    expect((await call(`issues/${randomUUID()}/`)).status).toBe(404);
    expect((await call('issues')).status).toBe(404); // Plane's routes end with a slash
    expect(await call('issues/', { method: 'DELETE' })).toEqual({
      status: 405,
      body: { detail: 'Method "DELETE" not allowed.' },
    });
  });

  it('pages exactly like Plane’s OffsetPaginator', async () => {
    for (let i = 0; i < 5; i += 1) plane.addIssue({ name: `I${i}`, state: 'Todo' });
    const first = await call('issues/?per_page=2');
    expect(first.body).toMatchObject({
      grouped_by: null,
      sub_grouped_by: null,
      total_count: 5,
      next_cursor: '2:1:0',
      prev_cursor: '2:-1:1',
      next_page_results: true,
      prev_page_results: false,
      count: 2,
      total_pages: 3,
      total_results: 5,
      extra_stats: null,
    });
    const last = await call('issues/?per_page=2&cursor=2:2:0');
    expect(last.body).toMatchObject({
      next_cursor: '2:3:0', // always filled: the client stops on next_page_results
      prev_cursor: '2:1:1',
      next_page_results: false,
      prev_page_results: true,
      count: 1,
    });
    const names = [];
    for (const cursor of ['2:0:0', '2:1:0', '2:2:0']) {
      const page = await call(`issues/?per_page=2&cursor=${cursor}`);
      names.push(...(page.body.results as { name: string }[]).map((r) => r.name));
    }
    // Newest first, as Plane orders by -created_at.
    expect(names).toEqual(['I4', 'I3', 'I2', 'I1', 'I0']);
    const all = await call('issues/');
    expect(all.body.count).toBe(5); // default per_page is 1000
  });

  it('refuses a bad per_page or cursor with 400', async () => {
    expect(await call('issues/?per_page=abc')).toEqual({
      status: 400,
      body: { detail: 'Invalid per_page parameter.' },
    });
    expect(await call('issues/?per_page=1001')).toEqual({
      status: 400,
      body: { detail: 'Invalid per_page value. Cannot exceed 1000.' },
    });
    expect(await call('issues/?cursor=1:2')).toEqual({ status: 400, body: { detail: 'Invalid cursor parameter.' } });
    expect((await call('issues/?cursor=20:-1:1')).status).toBe(400);
  });

  it('filters by state uuids and expands the state on request', async () => {
    const todo = plane.states().find((s) => s.name === 'Todo');
    const done = plane.states().find((s) => s.name === 'Done');
    plane.addIssue({ name: 'T', state: 'Todo' });
    plane.addIssue({ name: 'D', state: 'Done' });
    const filtered = await call(`issues/?state=${done?.id}`);
    expect((filtered.body.results as { name: string }[]).map((r) => r.name)).toEqual(['D']);
    const both = await call(`issues/?state=${done?.id},${todo?.id}&expand=state`);
    const results = both.body.results as { state: unknown }[];
    expect(results).toHaveLength(2);
    expect(results[1]?.state).toEqual({ id: todo?.id, name: 'Todo', color: todo?.color, group: 'unstarted' });
    const plain = await call('issues/');
    expect((plain.body.results as { state: unknown }[])[0]?.state).toBe(done?.id);
  });

  it('validates PATCH bodies as Plane does', async () => {
    const issue = plane.addIssue({ name: 'P', state: 'Todo' });
    const ghost = randomUUID();
    expect(await patch(`issues/${issue.id}/`, { state: ghost })).toEqual({
      status: 400,
      body: { state: [`Invalid pk "${ghost}" - object does not exist.`] },
    });
    expect(await patch(`issues/${issue.id}/`, { state: 'Done' })).toEqual({
      status: 400,
      body: { state: ['“Done” is not a valid UUID.'] },
    });
    expect((await patch(`issues/${issue.id}/`, { name: '' })).body).toEqual({ name: ['This field may not be blank.'] });
    expect((await patch(`issues/${issue.id}/`, '{"state": ')).status).toBe(400);
    expect((await patch(`issues/${issue.id}/`, [1])).status).toBe(400);
    expect((await patch(`issues/${issue.id}/`, 'state=x', 'text/plain')).status).toBe(415);
    expect(plane.issue(issue.id)?.state).toBe(plane.states().find((s) => s.name === 'Todo')?.id);

    const done = plane.states().find((s) => s.name === 'Done');
    const ok = await patch(`work-items/${issue.id}/`, { state: done?.id, priority: 'high' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: issue.id, state: done?.id, priority: 'high' });
    expect(plane.issue(issue.id)?.state).toBe(done?.id);
  });

  it('creates comments (201) and lists them', async () => {
    const issue = plane.addIssue({ name: 'C', state: 'Todo' });
    const post = (body: unknown) =>
      call(`issues/${issue.id}/comments/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(await post({})).toEqual({ status: 400, body: { comment_html: ['This field is required.'] } });
    const created = await post({ comment_html: '<p>hello</p>' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ comment_html: '<p>hello</p>', comment_stripped: 'hello', issue: issue.id });
    const listed = await call(`issues/${issue.id}/comments/`);
    expect((listed.body.results as { id: string }[]).map((c) => c.id)).toEqual([created.body.id]);
    expect(plane.comments(issue.id)).toHaveLength(1);
  });

  it('injects faults through the shared base', async () => {
    plane.inject({ kind: 'status', status: 503, times: 1, path: '/states/' });
    expect((await call('states/')).status).toBe(503);
    expect((await call('states/')).status).toBe(200);
    expect(plane.requests).toHaveLength(2);
  });

  it('builds v1 webhook payloads in Plane’s key order', () => {
    const issue = plane.addIssue({ name: 'W', state: 'In Progress' });
    const payload = plane.issueWebhookPayload(issue.id, 'updated', { field: 'name', old_value: 'V', new_value: 'W' });
    expect(Object.keys(payload)).toEqual(['event', 'action', 'webhook_id', 'workspace_id', 'data', 'activity']);
    expect(payload.data).toMatchObject({ id: issue.id, project: projectId, state: { name: 'In Progress' } });
    expect(Object.keys(payload.activity ?? {})).toEqual([
      'field',
      'new_value',
      'old_value',
      'actor',
      'old_identifier',
      'new_identifier',
    ]);
    expect(plane.issueWebhookPayload(issue.id, 'deleted').data).toEqual({ id: issue.id });
  });
});

describe('Plane webhook helpers', () => {
  it('pythonJsonDumps writes what Python’s json.dumps writes', () => {
    // python3 -c 'import json; print(json.dumps({"a": "é–✓\x7f", "b": [1, None, True], "c": {"d": "q\"\\\n"}}))'
    expect(pythonJsonDumps({ a: 'é–✓\x7f', b: [1, null, true], c: { d: 'q"\\\n' } })).toBe(
      '{"a": "\\u00e9\\u2013\\u2713\\u007f", "b": [1, null, true], "c": {"d": "q\\"\\\\\\n"}}',
    );
    expect(pythonJsonDumps('😀')).toBe('"\\ud83d\\ude00"');
  });

  it('signPlaneWebhook is hex HMAC-SHA256 (RFC 4231-style vector)', () => {
    expect(signPlaneWebhook('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('sendPlaneWebhook posts Plane’s headers and the signed bytes', async () => {
    let seen: { headers: IncomingHttpHeaders; body: string } | undefined;
    const host = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        res.writeHead(202).end('queued');
      });
    });
    host.listen(0, '127.0.0.1');
    await new Promise((r) => host.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/hook`;
      const payload = {
        event: 'issue',
        action: 'created',
        webhook_id: 'w',
        workspace_id: 's',
        data: { id: 'i' },
        activity: null,
      };
      const sent = await sendPlaneWebhook(url, payload, { secret: 'topsecret' });
      expect(sent.ok && sent.value.status).toBe(202);
      expect(sent.ok && sent.value.text).toBe('queued');
      expect(seen?.body).toBe(
        '{"event": "issue", "action": "created", "webhook_id": "w", "workspace_id": "s", "data": {"id": "i"}, "activity": null}',
      );
      expect(seen?.headers['user-agent']).toBe('Autopilot');
      expect(seen?.headers['x-plane-event']).toBe('issue');
      expect(seen?.headers['x-plane-delivery']).toBe(sent.ok ? sent.value.deliveryId : '');
      expect(seen?.headers['x-plane-signature']).toBe(
        createHmac('sha256', 'topsecret')
          .update(seen?.body ?? '')
          .digest('hex'),
      );
      const down = await sendPlaneWebhook('http://127.0.0.1:1/hook', payload);
      expect(!down.ok && down.error.code).toBe('network');
    } finally {
      await new Promise((r) => host.close(r));
    }
  });
});

const fixtures = sharedFixturesDir();
if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);

// Plane's documented answers live in ../shared/fixtures (not in the repo): skip without them.
describe.skipIf(!fixtures)('the fake Plane against Plane’s documented answers', () => {
  const read = (name: string) =>
    JSON.parse(readFileSync(join(fixtures ?? '', 'plane', name), 'utf8')) as Record<string, unknown>;

  it('list envelopes have exactly the documented keys, in order', async () => {
    const plane = await startFakePlane({ apiKey: KEY, workspaceSlug: 'acme', projectId: randomUUID() });
    try {
      plane.addIssue({ name: 'x', state: 'Todo' });
      for (const [path, fixture] of [
        ['issues/?expand=state', 'list-issues.json'],
        ['states/', 'list-states.json'],
      ] as const) {
        const body = (await (
          await fetch(`${plane.apiBase}${path}`, { headers: { 'X-API-Key': KEY } })
        ).json()) as Record<string, unknown>;
        const documented = read(fixture);
        expect(Object.keys(body)).toEqual(Object.keys(documented));
        const docItem = (documented.results as Record<string, unknown>[])[0] ?? {};
        const ourItem = (body.results as Record<string, unknown>[])[0] ?? {};
        for (const key of Object.keys(docItem)) if (key !== 'description') expect(ourItem).toHaveProperty(key);
        if (fixture === 'list-issues.json') {
          expect(Object.keys(ourItem.state as object)).toEqual(expect.arrayContaining(['id', 'name', 'group']));
        }
      }
    } finally {
      await plane.close();
    }
  });

  it('comment and update answers carry the documented fields', async () => {
    const plane = await startFakePlane({ apiKey: KEY, workspaceSlug: 'acme', projectId: randomUUID() });
    try {
      const issue = plane.addIssue({ name: 'x', state: 'Todo' });
      const headers = { 'X-API-Key': KEY, 'content-type': 'application/json' };
      const comment = (await (
        await fetch(`${plane.apiBase}issues/${issue.id}/comments/`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ comment_html: '<p>x</p>' }),
        })
      ).json()) as Record<string, unknown>;
      for (const key of ['id', 'comment_html', 'created_at', 'updated_at']) expect(comment).toHaveProperty(key);
      const updated = (await (
        await fetch(`${plane.apiBase}issues/${issue.id}/`, { method: 'PATCH', headers, body: JSON.stringify({}) })
      ).json()) as Record<string, unknown>;
      for (const key of Object.keys(read('update-issue.json'))) {
        if (key !== 'description') expect(updated).toHaveProperty(key);
      }
    } finally {
      await plane.close();
    }
  });

  it('webhook payloads have the documented v1 keys', async () => {
    const plane = await startFakePlane({ apiKey: KEY, workspaceSlug: 'acme', projectId: randomUUID() });
    try {
      const issue = plane.addIssue({ name: 'x', state: 'Todo' });
      const documented = read('webhook-issue-updated.json');
      const ours = plane.issueWebhookPayload(issue.id, 'updated', { field: 'priority' });
      expect(Object.keys(ours)).toEqual(Object.keys(documented));
      for (const key of Object.keys(documented.data as object)) expect(ours.data).toHaveProperty(key);
    } finally {
      await plane.close();
    }
  });
});
