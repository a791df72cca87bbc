import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@conveyor/core';
import {
  type FakeGitea,
  type FakePlane,
  type FakeTelegram,
  sendPlaneWebhook,
  startFakeGitea,
  startFakePlane,
  startFakeTelegram,
} from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envExample } from '../src/env-example.js';
import { createHost, type Host } from '../src/host.js';
import { loadServerSettings } from '../src/settings.js';

const PLANE_SECRET = 'plane-webhook-secret';
const GITEA_SECRET = 'gitea-webhook-secret';
const TG_TOKEN = '123456:fake-bot-token-for-tests';
const STATES = ['Todo', 'Analysis', 'Approved', 'In Progress', 'Staging', 'Deploying', 'Done', 'Cancelled'];

let plane: FakePlane;
let gitea: FakeGitea;
let telegram: FakeTelegram;
let dataDir: string;

const envFor = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ORCH_PORT: '0',
  ORCH_DATA_DIR: dataDir,
  ORCH_HOST_REPO: 'acme/web',
  ORCH_PLANE_BASE_URL: plane.url,
  ORCH_PLANE_API_KEY: 'plane-key',
  ORCH_PLANE_WORKSPACE_SLUG: 'acme',
  ORCH_PLANE_PROJECT_ID: 'proj-1',
  ORCH_PLANE_WEBHOOK_SECRET: PLANE_SECRET,
  ORCH_GITEA_BASE_URL: gitea.url,
  ORCH_GITEA_TOKEN: 'gitea-token',
  ORCH_GITEA_WEBHOOK_SECRET: GITEA_SECRET,
  ORCH_TELEGRAM_BOT_TOKEN: TG_TOKEN,
  ORCH_TELEGRAM_CHAT_ID: '-1001',
  ORCH_TELEGRAM_BASE_URL: telegram.url,
  ORCH_AGENT_ANALYST_COMMAND: 'echo analysed',
  ORCH_AGENT_DEVELOPER_COMMAND: 'echo developed',
  ORCH_AGENT_DEPLOYER_COMMAND: 'echo deployed',
  ORCH_MERGE_RETEST_COMMAND: 'true',
  ORCH_WORKER_INTERVAL_MS: '100',
  ORCH_REAPER_INTERVAL_MS: '500',
  ORCH_RECONCILER_INTERVAL_MS: '60000',
  ...overrides,
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'conveyor-server-'));
  plane = await startFakePlane({
    apiKey: 'plane-key',
    workspaceSlug: 'acme',
    projectId: 'proj-1',
    states: STATES.map((name) => ({ name })),
  });
  gitea = await startFakeGitea({ token: 'gitea-token', repos: ['acme/web'] });
  telegram = await startFakeTelegram({ token: TG_TOKEN });
});

afterAll(async () => {
  await Promise.all([plane.close(), gitea.close(), telegram.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('settings', () => {
  it('lists every missing or bad variable in one error', () => {
    const loaded = loadServerSettings({ ORCH_PORT: 'eighty', ORCH_MAX_CONCURRENCY: '0' });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    for (const name of [
      'ORCH_PORT',
      'ORCH_PLANE_API_KEY',
      'ORCH_GITEA_TOKEN',
      'ORCH_TELEGRAM_BOT_TOKEN',
      'ORCH_MAX_CONCURRENCY',
      'ORCH_MERGE_RETEST_COMMAND',
    ]) {
      expect(loaded.error.message).toContain(name);
    }
  });

  it('warns about unknown ORCH_ variables (a typo in a kill-switch must not go unnoticed)', () => {
    const loaded = loadServerSettings(envFor({ ORCH_SECURTY_GATE_ENABLED: 'false' }));
    expect(loaded.ok && loaded.value.warnings.join('\n')).toContain('ORCH_SECURTY_GATE_ENABLED');
  });

  it('keeps .env.example in step with the schemas', () => {
    const committed = readFileSync(fileURLToPath(new URL('../.env.example', import.meta.url)), 'utf8');
    expect(committed).toBe(envExample());
    expect(committed).toContain('ORCH_SECURITY_GATE_ENABLED');
    expect(committed).toContain('ORCH_REAPER_DEAD_TICKS');
  });
});

describe('the host over HTTP', () => {
  let host: Host;
  let issueId: string;

  beforeAll(async () => {
    // Polling off: these tests drive the host by webhooks only (polling is tested below).
    const settings = loadServerSettings(envFor({ ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false' }));
    if (!settings.ok) throw settings.error;
    host = createHost(settings.value, { logger: silentLogger });
    await host.start();
    issueId = plane.addIssue({ name: 'Add a login page', state: 'Todo' }).id;
  });

  afterAll(async () => {
    await host.stop('test over');
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${host.url()}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('answers health and refuses unknown routes', async () => {
    const health = await fetch(`${host.url()}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { ok: boolean }).ok).toBe(true);
    expect((await fetch(`${host.url()}/nope`)).status).toBe(404);
    expect((await fetch(`${host.url()}/webhooks/plane`)).status).toBe(405);
    expect((await post('/webhooks/jira', '{}')).status).toBe(404);
  });

  it('refuses a bad or missing signature with 401 and does nothing', async () => {
    const payload = plane.issueWebhookPayload(issueId, 'created');
    const unsigned = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, payload);
    const forged = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, payload, { secret: 'wrong-secret' });
    expect(unsigned.ok && unsigned.value.status).toBe(401);
    expect(forged.ok && forged.value.status).toBe(401);
    const gitea401 = await post('/webhooks/gitea', '{}', {
      'x-gitea-event': 'push',
      'x-gitea-signature': 'ab'.repeat(32),
    });
    expect(gitea401.status).toBe(401);
    expect((await host.store.listTasks({})).unwrapOr([])).toEqual([]);
  });

  it('answers 400 with a message for malformed input and 413 for a body too large', async () => {
    const malformed = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, '{"event": "issue", "action": ', {
      secret: PLANE_SECRET,
    });
    expect(malformed.ok && malformed.value.status).toBe(400);
    expect(malformed.ok && malformed.value.text).toMatch(/JSON/i);
    const huge = await post('/webhooks/plane', JSON.stringify({ pad: 'x'.repeat(1_100_000) }));
    expect(huge.status).toBe(413);
  });

  it('creates one task per issue; a repeated delivery answers 200 and does nothing twice', async () => {
    const payload = plane.issueWebhookPayload(issueId, 'created');
    const first = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, payload, {
      secret: PLANE_SECRET,
      deliveryId: 'delivery-1',
    });
    expect(first.ok && first.value.status).toBe(200);
    expect(first.ok && JSON.parse(first.value.text).outcome.action).toBe('created');
    const again = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, payload, {
      secret: PLANE_SECRET,
      deliveryId: 'delivery-1',
    });
    expect(again.ok && again.value.status).toBe(200);
    expect(again.ok && JSON.parse(again.value.text).duplicate).toBe(true);

    // Plane retries a delivery with a fresh delivery id: the body fingerprint catches it.
    const retried = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, first.ok ? first.value.body : '', {
      secret: PLANE_SECRET,
      deliveryId: 'delivery-1-retry',
    });
    expect(retried.ok && JSON.parse(retried.value.text).duplicate).toBe(true);

    const tasks = (await host.store.listTasks({})).unwrapOr([]);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.issueId).toBe(issueId);
    expect(tasks[0]?.repo).toBe('acme/web');
    const jobs = (await host.store.listJobs({ taskId: tasks[0]?.id ?? '' })).unwrapOr([]);
    expect(jobs.map((j) => j.stage)).toEqual(['analysis']);
  });

  it('runs the analyst, shows one live card in Telegram, and moves the Plane issue', async () => {
    const deadline = Date.now() + 20_000;
    let status = '';
    while (Date.now() < deadline) {
      const task = (await host.store.listTasks({})).unwrapOr([])[0];
      status = task?.snapshot.status ?? '';
      if (status === 'awaiting_approval') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('awaiting_approval');
    const cards = telegram.visibleMessages('-1001');
    expect(cards).toHaveLength(1);
    expect(cards[0]?.text).toContain('Add a login page');
    expect(plane.issue(issueId)?.state).toBe(plane.states().find((s) => s.name === 'Analysis')?.id);
  });

  it('shows jobs, leases and the daemons on /queue', async () => {
    const res = await fetch(`${host.url()}/queue`);
    const body = (await res.json()) as {
      jobs: unknown[];
      leases: unknown[];
      daemons: { name: string; ticks: number }[];
    };
    expect(res.status).toBe(200);
    expect(Array.isArray(body.jobs)).toBe(true);
    expect(body.leases).toEqual([]);
    expect(body.daemons.map((d) => d.name).sort()).toEqual(['reaper', 'reconciler', 'worker']);
    expect(body.daemons.find((d) => d.name === 'worker')?.ticks).toBeGreaterThan(0);
  });
});

describe('the host process', () => {
  it('starts, and on SIGTERM stops accepting, stops the daemons in order and exits 0', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-server-proc-'));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, ...envFor({ ORCH_DATA_DIR: dir, ORCH_LOG_FORMAT: 'json' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 30_000);
      child.stdout.on('data', () => {
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
    const messages = stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    const order = ['conveyor host listening', 'conveyor host stopping', 'http server closed', 'conveyor host stopped'];
    const positions = order.map((m) => messages.indexOf(m));
    expect(positions.every((i) => i >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  }, 60_000);
});
