import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardWorld, REDACTED_FINDING, startDashboardWorld } from './dashboard-fixture.js';

const CHROMIUM = process.env.CONVEYOR_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'browser-dash-token-0123456789';
const HOST_SECRET = 'browser-host-secret-9a8b7c6d5e';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const available = existsSync(CHROMIUM);
// CI installs Chromium (.ci/run); a machine without it skips these tests, saying so, but CI never does.
if (!available && process.env.CI)
  throw new Error(`Chromium is not at ${CHROMIUM}: .ci/run must install it (apt-get install -y chromium)`);
if (!available)
  console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

let dir: string;
let world: DashboardWorld;
let browser: Browser;

beforeAll(async () => {
  if (!available) return;
  process.env.CONVEYOR_DASHBOARD_BROWSER_TOKEN = HOST_SECRET;
  dir = mkdtempSync(join(tmpdir(), 'conveyor-dash-browser-'));
  world = await startDashboardWorld(join(dir, 'conveyor.db'), 30, {
    token: TOKEN,
    artifactsFor: async () => [{ name: '17-security-report.md', text: `verdict: fail\nleaked ${HOST_SECRET}` }],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  delete process.env.CONVEYOR_DASHBOARD_BROWSER_TOKEN;
  await browser?.close();
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)('the dashboard in Chromium', () => {
  it('logs in, shows a rolled-back task with its verdicts and redacted finding, and updates live', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(world.url)) external.push(r.url());
    });
    await page.goto(`${world.url}/dashboard`);
    expect(page.url()).toBe(`${world.url}/dashboard/login`);
    await page.fill('input[name=token]', 'wrong-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('not right');
    await page.fill('input[name=token]', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${world.url}/dashboard`);
    await page.waitForSelector('#live.on');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-tasks.png'), fullPage: true });

    await page.click(`a[href="/dashboard/tasks/${world.rolledBack.id}"]`);
    await page.waitForSelector('#timeline li');
    const body = (await page.textContent('main')) ?? '';
    expect(body).toContain('security: 1 secret found');
    expect(body).toContain(REDACTED_FINDING);
    expect(await page.textContent('.verdicts')).toContain('412 ms');
    expect(body).not.toContain(HOST_SECRET);
    await page.waitForSelector('#live.on');
    const before = await page.locator('#timeline li').count();

    await world.move(world.rolledBack, { stage: 'deploy-staging', status: 'active' }, 'job.finished');
    await expect.poll(() => page.locator('#timeline li').count(), { timeout: 10_000 }).toBe(before + 1);
    expect(await page.textContent('#task-stage')).toBe('deploy-staging');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-live.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'dashboard-task-live.png')).size).toBeGreaterThan(1000);
    expect(external).toEqual([]);
    await context.close();
  });
});
