import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventBus, silentLogger } from '@conveyor/core';
import { createMemoryStore } from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../src/dashboard/dashboard.js';
import { type DashboardWorld, REDACTED_FINDING, startDashboardWorld } from './dashboard-fixture.js';

const HOST_SECRET = 'host-secret-value-4f1c9a7e2b';
const TOKEN = 'dash-token-for-tests-0123456789';

let dir: string;
let open: DashboardWorld;
let locked: DashboardWorld;

beforeAll(async () => {
  process.env.CONVEYOR_DASHBOARD_TEST_TOKEN = HOST_SECRET;
  dir = mkdtempSync(join(tmpdir(), 'conveyor-dashboard-'));
  open = await startDashboardWorld(join(dir, 'open.db'), 120, {
    artifactsFor: async (task) => [{ name: 'transcript.jsonl', text: `agent saw ${HOST_SECRET} in ${task.id}` }],
  });
  locked = await startDashboardWorld(join(dir, 'locked.db'), 3, { token: TOKEN });
});

afterAll(async () => {
  delete process.env.CONVEYOR_DASHBOARD_TEST_TOKEN;
  await open?.close();
  await locked?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function getJson(base: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

describe('GET /api/tasks', () => {
  it('pages through every task in id order with ISO-8601 times', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const { status, body } = await getJson(open.url, `/api/tasks?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      for (const t of body.tasks) seen.push(t.id);
      expect(body.tasks[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    expect([...seen].sort()).toEqual(seen);
  });

  it('filters by project, stage and status, and searches titles and issue ids', async () => {
    const shop = await getJson(open.url, '/api/tasks?project=shop&limit=500');
    expect(shop.body.tasks.length).toBe(40);
    expect(shop.body.tasks.every((t: { project: string }) => t.project === 'shop')).toBe(true);
    const dev = await getJson(open.url, '/api/tasks?stage=development&status=active');
    expect(dev.body.tasks.map((t: { issueId: string }) => t.issueId)).toEqual(['PLN-8']);
    const search = await getJson(open.url, '/api/tasks?q=LOGIN');
    expect(search.body.tasks.map((t: { title: string }) => t.title)).toEqual(['Add the login page']);
    const byIssue = await getJson(open.url, '/api/tasks?q=pln-119');
    expect(byIssue.body.tasks.map((t: { issueId: string }) => t.issueId)).toEqual(['PLN-119']);
  });

  it('a search pages too: the cursor continues after the last match shown', async () => {
    const first = await getJson(open.url, '/api/tasks?q=task%20number%201&limit=5');
    expect(first.body.tasks).toHaveLength(5);
    const second = await getJson(open.url, `/api/tasks?q=task%20number%201&limit=5&cursor=${first.body.nextCursor}`);
    const ids = [...first.body.tasks, ...second.body.tasks].map((t: { id: string }) => t.id);
    expect(new Set(ids).size).toBe(10);
  });

  it('refuses a bad status or limit with a message naming it', async () => {
    const status = await getJson(open.url, '/api/tasks?status=finished');
    expect(status.status).toBe(400);
    expect(status.body.error).toContain('"finished"');
    const limit = await getJson(open.url, '/api/tasks?limit=0');
    expect(limit.status).toBe(400);
    expect(limit.body.error).toContain('limit');
  });
});

describe('GET /api/tasks/:id', () => {
  it('shows the timeline, each decision with its gate verdicts, and redacted artifacts', async () => {
    const { status, body } = await getJson(open.url, `/api/tasks/${open.rolledBack.id}`);
    expect(status).toBe(200);
    expect(body.task.stage).toBe('development');
    expect(body.task.findings).toBe(REDACTED_FINDING);
    expect(body.timeline.map((h: { to: string }) => h.to)).toEqual([
      'development/active',
      'deploy-staging/active',
      'deploy-staging/gating',
      'development/active',
    ]);
    expect(body.timeline[3].verdictSummary).toBe('security: 1 secret found');
    expect(body.decisions[0].verdicts[0]).toMatchObject({ gateId: 'security', status: 'fail', durationMs: 412 });
    expect(body.decisions[0].at).toBe('2026-12-02T09:01:00.004Z');
    expect(body.artifacts[0].text).toContain('host…');
    expect(JSON.stringify(body)).not.toContain(HOST_SECRET);
  });

  it('answers 404 for a task that does not exist', async () => {
    const { status, body } = await getJson(open.url, '/api/tasks/task_999999999999');
    expect(status).toBe(404);
    expect(body.error).toContain('task_999999999999');
  });
});

describe('GET /api/queue', () => {
  it('lists running and queued jobs and the leases with ISO times', async () => {
    await open.store.enqueueJob({
      taskId: open.rolledBack.id,
      stage: 'development',
      agent: 'developer',
      kind: 'agent',
      stepKey: `${open.rolledBack.id}:9`,
      attempt: 1,
      input: { description: 'x' },
      availableAt: Date.UTC(2026, 11, 2, 9, 5),
      now: Date.UTC(2026, 11, 2, 9, 5),
    });
    await open.store.acquireLease({
      name: 'merge:acme/web',
      holder: 'h/task:x',
      ttlMs: 60_000,
      now: Date.UTC(2026, 11, 2, 9, 5),
    });
    const { body } = await getJson(open.url, '/api/queue');
    expect(body.queued[0]).toMatchObject({ taskId: open.rolledBack.id, availableAt: '2026-12-02T09:05:00.000Z' });
    expect(body.leases[0]).toMatchObject({ name: 'merge:acme/web', expiresAt: '2026-12-02T09:06:00.000Z' });
  });
});

describe('access', () => {
  it('with a token, the API needs it and pages redirect to the login', async () => {
    expect((await getJson(locked.url, '/api/tasks')).status).toBe(401);
    expect((await getJson(locked.url, '/api/tasks', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await getJson(locked.url, '/api/tasks', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const page = await getJson(locked.url, '/dashboard');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/dashboard/login');
  });

  it('a login with the right token sets a session cookie that opens the API; a wrong one does not', async () => {
    const wrong = await fetch(`${locked.url}/dashboard/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'nope' }),
      redirect: 'manual',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const right = await fetch(`${locked.url}/dashboard/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN }),
      redirect: 'manual',
    });
    expect(right.status).toBe(303);
    const cookie = right.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0] ?? '';
    expect((await getJson(locked.url, '/api/tasks', { cookie: session })).status).toBe(200);
    expect((await getJson(locked.url, '/api/tasks', { cookie: 'conveyor_dashboard=forged' })).status).toBe(401);
  });

  it('refuses to start without a token when the host listens beyond loopback', () => {
    const made = createDashboard({
      store: createMemoryStore(),
      events: createEventBus(),
      logger: silentLogger,
      listenHost: '0.0.0.0',
    });
    expect(made.ok).toBe(false);
    if (!made.ok) expect(made.error.message).toContain('ORCH_DASHBOARD_TOKEN');
  });

  it('the dashboard is read-only', async () => {
    const res = await fetch(`${open.url}/api/tasks`, { method: 'DELETE' });
    expect(res.status).toBe(405);
  });
});

describe('GET /api/events', () => {
  it('streams each transition to every client, redacted', async () => {
    const frames: string[][] = [[], []];
    const requests = frames.map(
      (sink) =>
        new Promise<() => void>((resolve) => {
          const req = request(`${open.url}/api/events`, (res) => {
            expect(res.headers['content-type']).toContain('text/event-stream');
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => sink.push(chunk));
            resolve(() => req.destroy());
          });
          req.end();
        }),
    );
    const closers = await Promise.all(requests);
    await new Promise((r) => setTimeout(r, 50));
    open.events.emit('transition', {
      taskId: open.rolledBack.id,
      from: { stage: 'development', status: 'active' },
      to: { stage: 'deploy-staging', status: 'active' },
      cause: `job.finished ${HOST_SECRET}`,
    });
    for (let i = 0; i < 50 && frames.some((f) => !f.join('').includes('event: transition')); i += 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const sink of frames) {
      const text = sink.join('');
      expect(text).toContain('event: transition');
      expect(text).toContain(open.rolledBack.id);
      expect(text).not.toContain(HOST_SECRET);
    }
    for (const close of closers) close();
  });
});
