import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../src/host.js';
import { loadServerSettings } from '../src/settings.js';

let root: string;

/** Every setting the host requires, pointing nowhere (these tests never reach Plane, Gitea or Telegram). */
const baseEnv = (dataDir: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  ORCH_PORT: '0',
  ORCH_DATA_DIR: dataDir,
  ORCH_HOST_REPO: 'acme/web',
  ORCH_PLANE_BASE_URL: 'http://127.0.0.1:9',
  ORCH_PLANE_API_KEY: 'k',
  ORCH_PLANE_WORKSPACE_SLUG: 'acme',
  ORCH_PLANE_PROJECT_ID: 'p',
  ORCH_PLANE_WEBHOOK_SECRET: 's',
  ORCH_GITEA_BASE_URL: 'http://127.0.0.1:9',
  ORCH_GITEA_TOKEN: 't',
  ORCH_GITEA_WEBHOOK_SECRET: 's',
  ORCH_TELEGRAM_BOT_TOKEN: '1:t',
  ORCH_TELEGRAM_CHAT_ID: '1',
  ORCH_AGENT_ANALYST_COMMAND: 'true',
  ORCH_AGENT_DEVELOPER_COMMAND: 'true',
  ORCH_AGENT_DEPLOYER_COMMAND: 'true',
  ORCH_MERGE_RETEST_COMMAND: 'true',
  ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false',
  ...overrides,
});

/** A client that sends a webhook's headers, then its body one byte every `everyMs`, forever. */
function trickler(url: string, everyMs: number, headersToo = false): { socket: Socket; closed: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk.toString();
  });
  socket.on('error', () => undefined);
  const head =
    'POST /webhooks/plane HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n';
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    if (headersToo && sent < head.length) socket.write(head[sent] ?? '');
    else if (!headersToo && sent === 0) socket.write(`${head}\r\n`);
    else socket.write('x');
    sent += 1;
  }, everyMs);
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    }),
  );
  return { socket, closed };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'conveyor-http-limits-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('slow clients', { timeout: 60_000 }, () => {
  it('a client trickling its body or its headers is cut off after the request timeout', async () => {
    const settings = loadServerSettings(
      baseEnv(join(root, 'cut'), { ORCH_HTTP_REQUEST_TIMEOUT_MS: '1500', ORCH_HTTP_HEADERS_TIMEOUT_MS: '1000' }),
    );
    if (!settings.ok) throw settings.error;
    const host = createHost(settings.value, { logger: silentLogger });
    await host.start();
    try {
      const body = trickler(host.url(), 100);
      const headers = trickler(host.url(), 100, true);
      const [bodyAnswer, headersAnswer] = await Promise.all([body.closed, headers.closed]);
      expect(bodyAnswer).toMatch(/^HTTP\/1\.1 408/);
      expect(headersAnswer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await host.stop('test over');
    }
  });

  it('SIGTERM with five clients trickling bytes: the host still stops within its HTTP grace and exits 0', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, ...baseEnv(join(root, 'sigterm'), { ORCH_HTTP_SHUTDOWN_GRACE_MS: '1000' }) },
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
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
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
    const clients = Array.from({ length: 5 }, (_, i) => trickler(url, 200, i === 4));
    await new Promise((r) => setTimeout(r, 800));
    const sent = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const tookMs = Date.now() - sent;
    for (const c of clients) c.socket.destroy();
    expect(code).toBe(0);
    // the bound: the HTTP grace (1 s) plus the daemons' stop, far below the request timeout (30 s)
    expect(tookMs).toBeLessThan(15_000);
    expect(stderr).toContain('requests still in flight when the HTTP grace ran out');
  });
});
