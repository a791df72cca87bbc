import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
import { loadServerSettings } from '../src/settings.js';

const REQUIRED = [
  'ORCH_PLANE_BASE_URL',
  'ORCH_PLANE_API_KEY',
  'ORCH_PLANE_WORKSPACE_SLUG',
  'ORCH_PLANE_PROJECT_ID',
  'ORCH_PLANE_WEBHOOK_SECRET',
  'ORCH_GITEA_BASE_URL',
  'ORCH_GITEA_TOKEN',
  'ORCH_GITEA_WEBHOOK_SECRET',
  'ORCH_TELEGRAM_BOT_TOKEN',
  'ORCH_TELEGRAM_CHAT_ID',
  'ORCH_AGENT_ANALYST_COMMAND',
  'ORCH_AGENT_DEVELOPER_COMMAND',
  'ORCH_AGENT_DEPLOYER_COMMAND',
  'ORCH_MERGE_RETEST_COMMAND',
];
const TG_TOKEN = '123456:fake-bot-token-for-tests';

let root: string;
let plane: FakePlane;
let gitea: FakeGitea;
let telegram: FakeTelegram;

const required = (): Record<string, string> => ({
  ORCH_PLANE_BASE_URL: plane.url,
  ORCH_PLANE_API_KEY: 'plane-key',
  ORCH_PLANE_WORKSPACE_SLUG: 'acme',
  ORCH_PLANE_PROJECT_ID: 'proj-1',
  ORCH_PLANE_WEBHOOK_SECRET: 'plane-secret',
  ORCH_GITEA_BASE_URL: gitea.url,
  ORCH_GITEA_TOKEN: 'gitea-token',
  ORCH_GITEA_WEBHOOK_SECRET: 'gitea-secret',
  ORCH_TELEGRAM_BOT_TOKEN: TG_TOKEN,
  ORCH_TELEGRAM_CHAT_ID: '-1001',
  ORCH_TELEGRAM_BASE_URL: telegram.url,
  ORCH_AGENT_ANALYST_COMMAND: 'true',
  ORCH_AGENT_DEVELOPER_COMMAND: 'true',
  ORCH_AGENT_DEPLOYER_COMMAND: 'true',
  ORCH_MERGE_RETEST_COMMAND: 'true',
});

/** Starts a host program with exactly `env` (plus PATH), collecting its output. */
function run(file: string, env: Record<string, string>, cwd = root) {
  const child = spawn(process.execPath, ['--import', TSX, file], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => {
    out.stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out.stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, what: string, timeoutMs = 30_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out.stdout + out.stderr);
        if (match) {
          clearInterval(timer);
          clearTimeout(deadline);
          resolve(match);
        }
      };
      const timer = setInterval(check, 50);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no ${what}: ${out.stderr}`));
      }, timeoutMs);
      check();
    });
  return { child, out, exited, waitFor };
}

// the hosts run from a temp folder, where `--import tsx` would not resolve
const TSX = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs'),
).href;
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const MINIMAL = fileURLToPath(new URL('../src/minimal-host.ts', import.meta.url));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'conveyor-config-'));
  plane = await startFakePlane({
    apiKey: 'plane-key',
    workspaceSlug: 'acme',
    projectId: 'proj-1',
    states: ['Todo', 'Analysis', 'Approved', 'In Progress', 'Done', 'Cancelled'].map((name) => ({ name })),
  });
  gitea = await startFakeGitea({ token: 'gitea-token', repos: ['acme/web'] });
  telegram = await startFakeTelegram({ token: TG_TOKEN });
});

afterAll(async () => {
  await Promise.all([plane.close(), gitea.close(), telegram.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe('a host that refuses bad configuration', { timeout: 60_000 }, () => {
  it('an empty environment lists every required variable, one per line', () => {
    const loaded = loadServerSettings({});
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    const lines = loaded.error.message.split('\n');
    for (const name of REQUIRED) {
      expect(lines.filter((l) => l.includes(`${name} (`) && l.includes('required but not set'))).toHaveLength(1);
    }
  });

  it('the host process stops at once on an empty environment, exit 2, naming each missing variable', async () => {
    const { exited, out } = run(MAIN, {});
    expect(await exited).toBe(2);
    for (const name of REQUIRED) expect(out.stderr).toContain(name);
    expect(out.stdout).not.toContain('listening');
  });

  it('card mode: bump is bump; anything else is edit, with a warning naming the value', () => {
    const mode = (value: string) => {
      const loaded = loadServerSettings({ ...required(), ORCH_TELEGRAM_MODE: value });
      if (!loaded.ok) throw loaded.error;
      return [loaded.value.host.telegramMode, loaded.value.warnings.join('\n')] as const;
    };
    expect(mode('bump')).toEqual(['bump', expect.not.stringContaining('ORCH_TELEGRAM_MODE')]);
    expect(mode(' BUMP ')[0]).toBe('bump');
    expect(mode('edit')).toEqual(['edit', expect.not.stringContaining('ORCH_TELEGRAM_MODE')]);
    const [fallback, warning] = mode('bumpp');
    expect(fallback).toBe('edit');
    expect(warning).toContain('ORCH_TELEGRAM_MODE="bumpp" is neither edit nor bump');
  });

  it('with no repository route the host warns at start; ORCH_LOG_LEVEL=warn drops the info lines', async () => {
    const { child, exited, out, waitFor } = run(MAIN, {
      ...required(),
      ORCH_PORT: '0',
      ORCH_DATA_DIR: join(root, 'no-route'),
      ORCH_LOG_LEVEL: 'warn',
      ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false',
    });
    await waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 'listening line');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.stderr).toContain('warning: ORCH_HOST_REPO is not set: no Plane issue has a repository route');
    const levels = out.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { level: string }).level);
    expect(levels).not.toContain('info');
  });
});

describe('the minimal host of the getting-started guide', { timeout: 60_000 }, () => {
  it('refuses an empty environment and names each variable it needs', async () => {
    const { exited, out } = run(MINIMAL, {});
    expect(await exited).toBe(2);
    for (const name of ['REPO', 'PLANE_URL', 'PLANE_KEY', 'PLANE_WEBHOOK_SECRET', 'GITEA_TOKEN', 'TG_CHAT']) {
      expect(out.stderr).toMatch(new RegExp(`^  ${name}$`, 'm'));
    }
  });

  it('listens on 127.0.0.1, turns a polled Plane issue and a Plane webhook into tasks, and gives agents CONVEYOR_*', async () => {
    const cwd = join(root, 'minimal');
    mkdirSync(join(cwd, 'agents'), { recursive: true });
    writeFileSync(
      join(cwd, 'agents', 'run.sh'),
      // written under a temporary name, then renamed: the test never reads a half-written file
      '#!/bin/sh\nenv | grep "^CONVEYOR_" | sort > "agents/$CONVEYOR_TASK_ID.tmp" && mv "agents/$CONVEYOR_TASK_ID.tmp" "agents/$CONVEYOR_TASK_ID.env"\n',
    );
    chmodSync(join(cwd, 'agents', 'run.sh'), 0o755);
    const polled = plane.addIssue({ name: 'found by polling', state: 'Todo' });
    const { child, exited, waitFor } = run(
      MINIMAL,
      {
        REPO: 'acme/web',
        PLANE_URL: plane.url,
        PLANE_KEY: 'plane-key',
        PLANE_WORKSPACE: 'acme',
        PLANE_PROJECT: 'proj-1',
        PLANE_WEBHOOK_SECRET: 'plane-secret',
        GITEA_URL: gitea.url,
        GITEA_TOKEN: 'gitea-token',
        GITEA_WEBHOOK_SECRET: 'gitea-secret',
        TG_TOKEN: TG_TOKEN,
        TG_CHAT: '-1001',
        PORT: '0',
      },
      cwd,
    );
    try {
      const listening = await waitFor(/"address":"([^"]+)","family":"[^"]+","port":(\d+)/, 'listening line');
      expect(listening[1]).toBe('127.0.0.1');
      const url = `http://127.0.0.1:${listening[2]}`;

      const hooked = plane.addIssue({ name: 'sent by webhook', state: 'Todo' });
      const sent = await sendPlaneWebhook(`${url}/webhooks/plane`, plane.issueWebhookPayload(hooked.id, 'created'), {
        secret: 'plane-secret',
      });
      expect(sent.ok && sent.value.status).toBe(200);
      const forged = await sendPlaneWebhook(`${url}/webhooks/plane`, plane.issueWebhookPayload(hooked.id, 'created'), {
        secret: 'wrong',
      });
      expect(forged.ok && forged.value.status).toBe(401);

      // Both issues reach the analyst: two agent runs, each with the task in its environment.
      const envs = await new Promise<string[]>((resolve, reject) => {
        const deadline = Date.now() + 30_000;
        const timer = setInterval(() => {
          const files = readdirSync(join(cwd, 'agents')).filter((f) => f.endsWith('.env'));
          if (files.length >= 2) {
            clearInterval(timer);
            resolve(files.map((f) => readFileSync(join(cwd, 'agents', f), 'utf8')));
          } else if (Date.now() > deadline) {
            clearInterval(timer);
            reject(new Error('the agents did not run'));
          }
        }, 100);
      });
      for (const env of envs) {
        for (const name of [
          'CONVEYOR_TASK_ID',
          'CONVEYOR_REPO=acme/web',
          'CONVEYOR_BRANCH=task/',
          'CONVEYOR_STAGE=analysis',
        ]) {
          expect(env).toContain(name);
        }
      }
      expect(envs.join('\n')).toContain('CONVEYOR_TASK_DESCRIPTION=');
      expect(envs.join('\n')).toContain(`CONVEYOR_BRANCH=task/${polled.id}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
