import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FakePlane,
  type FakeTelegram,
  type GitBackedGitea,
  sendPlaneWebhook,
  startFakePlane,
  startFakeTelegram,
  startGitBackedGitea,
} from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SECRET = 'plane-webhook-secret';
let plane: FakePlane;
let gitea: GitBackedGitea;
let telegram: FakeTelegram;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-delivery-crash-'));
  plane = await startFakePlane({
    apiKey: 'plane-key',
    workspaceSlug: 'acme',
    projectId: 'proj-1',
    states: ['Todo', 'Analysis', 'Approved', 'Done', 'Cancelled'].map((name) => ({ name })),
  });
  gitea = await startGitBackedGitea({ token: 'gitea-token', repos: ['acme/web'] });
  telegram = await startFakeTelegram({ token: '123456:fake-bot-token-for-tests' });
});

afterAll(async () => {
  await Promise.all([plane?.close(), gitea?.close(), telegram?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function startHost(): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      ORCH_PORT: '0',
      ORCH_DATA_DIR: dir,
      ORCH_HOST_REPO: 'acme/web',
      ORCH_PLANE_BASE_URL: plane.url,
      ORCH_PLANE_API_KEY: 'plane-key',
      ORCH_PLANE_WORKSPACE_SLUG: 'acme',
      ORCH_PLANE_PROJECT_ID: 'proj-1',
      ORCH_PLANE_WEBHOOK_SECRET: SECRET,
      ORCH_GITEA_BASE_URL: gitea.url,
      ORCH_GITEA_TOKEN: 'gitea-token',
      ORCH_GITEA_WEBHOOK_SECRET: 'gitea-secret',
      ORCH_TELEGRAM_BOT_TOKEN: '123456:fake-bot-token-for-tests',
      ORCH_TELEGRAM_CHAT_ID: '-1001',
      ORCH_TELEGRAM_BASE_URL: telegram.url,
      ORCH_AGENT_ANALYST_COMMAND: 'sleep 30',
      ORCH_AGENT_DEVELOPER_COMMAND: 'true',
      ORCH_AGENT_DEPLOYER_COMMAND: 'true',
      ORCH_MERGE_RETEST_COMMAND: 'true',
      ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false',
      ORCH_WORKER_ENABLED: 'false',
      ORCH_WEBHOOK_CLAIM_MS: '1000',
      ORCH_LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start: ${out}`)), 60_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(out) ?? /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
  });
  return { child, url };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('a host killed between recording a delivery and handling it', () => {
  it("processes the sender's retry once, after the dead host's claim ran out, and treats the next one as a duplicate", async () => {
    const issue = plane.addIssue({ name: 'Add a login page', state: 'Todo' });
    const payload = plane.issueWebhookPayload(issue.id, 'created');
    const deliveryId = 'delivery-crash-0001';

    const first = startHost();
    const firstUrl = await first.url;
    // The handling stalls on its first call to Plane: the delivery is recorded, its handling is not done.
    plane.inject({ kind: 'slow', delayMs: 60_000, times: 1 });
    const before = plane.requests.length;
    const inFlight = sendPlaneWebhook(`${firstUrl}/webhooks/plane`, payload, { secret: SECRET, deliveryId }).catch(
      () => undefined,
    );
    for (let i = 0; i < 200 && plane.requests.length === before; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(plane.requests.length).toBeGreaterThan(before);
    first.child.kill('SIGKILL');
    await exited(first.child);
    await inFlight;

    const second = startHost();
    const secondUrl = await second.url;
    try {
      await new Promise((r) => setTimeout(r, 1_200)); // the dead host's claim (ORCH_WEBHOOK_CLAIM_MS) runs out
      const retried = await sendPlaneWebhook(`${secondUrl}/webhooks/plane`, payload, { secret: SECRET, deliveryId });
      expect(retried.ok && retried.value.status).toBe(200);
      expect(retried.ok && JSON.parse(retried.value.text)).not.toHaveProperty('duplicate');
      const again = await sendPlaneWebhook(`${secondUrl}/webhooks/plane`, payload, { secret: SECRET, deliveryId });
      expect(again.ok && JSON.parse(again.value.text)).toMatchObject({ duplicate: true });
      const tasks = (await (await fetch(`${secondUrl}/api/tasks`)).json()) as { tasks: { issueId: string }[] };
      expect(tasks.tasks.filter((t) => t.issueId.endsWith(issue.id) || t.issueId === issue.id)).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  }, 120_000);
});
