import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@conveyor/core';
import {
  POSTGRES_MISSING_MESSAGE,
  postgresForTests,
  queueProjectJobs,
  randomDatabaseName,
  type ThrowawayPostgres,
} from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../src/host.js';
import { loadServerSettings, type ServerSettings } from '../src/settings.js';
import { type HostStore, hostProjectLimits, openHostStore } from '../src/store.js';
import { sendIssueCreated, startTwoProjectFakes, type TwoProjectFakes } from './two-project-fakes.js';

const PROJECTS = `
projects:
  - name: web
    planeProjectId: proj-a
    repo: acme/web
    agents: { analyst: "echo web > \\"$OUT/web-$CONVEYOR_TASK_ID\\"", developer: "true", deployer: "true" }
    limits: { maxRunningJobs: 1 }
  - name: api
    planeProjectId: proj-b
    repo: acme/api
    agents: { analyst: "echo api > \\"$OUT/api-$CONVEYOR_TASK_ID\\"", developer: "true", deployer: "true" }
`;

const root = mkdtempSync(join(tmpdir(), 'conveyor-host-store-'));
const projectsFile = join(root, 'projects.yaml');
writeFileSync(projectsFile, PROJECTS);

function settingsWith(extra: Record<string, string>): ServerSettings {
  const loaded = loadServerSettings({
    ORCH_PORT: '0',
    ORCH_DATA_DIR: join(root, 'data'),
    ORCH_PROJECTS_FILE: projectsFile,
    ORCH_PLANE_BASE_URL: 'http://127.0.0.1:1',
    ORCH_PLANE_API_KEY: 'plane-key',
    ORCH_PLANE_WORKSPACE_SLUG: 'acme',
    ORCH_PLANE_WEBHOOK_SECRET: 'plane-secret',
    ORCH_GITEA_BASE_URL: 'http://127.0.0.1:1',
    ORCH_GITEA_TOKEN: 'gitea-token',
    ORCH_GITEA_WEBHOOK_SECRET: 'gitea-secret',
    ORCH_TELEGRAM_BOT_TOKEN: '1:tg',
    ORCH_TELEGRAM_CHAT_ID: '-1',
    ORCH_MERGE_RETEST_COMMAND: 'true',
    ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false',
    ...extra,
  });
  if (!loaded.ok) throw loaded.error;
  return loaded.value;
}

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the store settings', () => {
  it('ORCH_STORE=postgres needs ORCH_PG_URL; a bad store, schema or limit is named', () => {
    const base = { ORCH_PROJECTS_FILE: projectsFile };
    const noUrl = loadServerSettings({ ...base, ORCH_STORE: 'postgres' });
    expect(!noUrl.ok && noUrl.error.message).toContain('ORCH_PG_URL (pgUrl): required when ORCH_STORE=postgres');
    const bad = loadServerSettings({
      ...base,
      ORCH_STORE: 'mysql',
      ORCH_PG_SCHEMA: 'Bad-Schema',
      ORCH_PG_MAX_CONNECTIONS: '0',
      ORCH_DEFAULT_PROJECT_LIMIT: '-1',
    });
    expect(bad.ok).toBe(false);
    const message = bad.ok ? '' : bad.error.message;
    for (const name of ['ORCH_STORE', 'ORCH_PG_SCHEMA', 'ORCH_PG_MAX_CONNECTIONS', 'ORCH_DEFAULT_PROJECT_LIMIT']) {
      expect(message).toContain(name);
    }
    const file = join(root, 'bad-limit.yaml');
    writeFileSync(file, PROJECTS.replace('maxRunningJobs: 1', 'maxRunningJobs: -1'));
    const badLimit = loadServerSettings({ ORCH_PROJECTS_FILE: file });
    expect(!badLimit.ok && badLimit.error.message).toContain('project "web": limits.maxRunningJobs');
  });

  it("the projects' limits are keyed by Plane project, the tasks' project", () => {
    expect(hostProjectLimits(settingsWith({}))).toEqual({ projectLimits: { 'proj-a': 1 } });
    expect(hostProjectLimits(settingsWith({ ORCH_DEFAULT_PROJECT_LIMIT: '3' }))).toEqual({
      projectLimits: { 'proj-a': 1 },
      defaultProjectLimit: 3,
    });
  });

  it('createHost refuses ORCH_STORE=postgres without a store opened by openHostStore', () => {
    const settings = settingsWith({ ORCH_STORE: 'postgres', ORCH_PG_URL: 'postgres://u:pw@127.0.0.1:1/db' });
    expect(() => createHost(settings, { logger: silentLogger })).toThrow(/openHostStore/);
  });

  it('the SQLite store of the host keeps the project limits', async () => {
    const settings = settingsWith({ ORCH_DATA_DIR: join(root, 'sqlite-limits') });
    const opened = await openHostStore(settings);
    if (!opened.ok) throw opened.error;
    const store = opened.value;
    try {
      expect(store.onJobAvailable).toBeUndefined();
      expect(await claimedPerProject(store)).toEqual({ 'proj-a': 1, 'proj-b': 3 });
    } finally {
      await store.close();
    }
  });
});

/** Queues three jobs for each project and claims with room for all; what each project got. */
async function claimedPerProject(store: HostStore): Promise<Record<string, number>> {
  for (const project of ['proj-a', 'proj-b']) await queueProjectJobs(store, project, 3);
  const claimed = await store.claimJobs({ maxConcurrency: 10, now: 2_000 });
  if (!claimed.ok) throw claimed.error;
  const tasks = await store.listTasks({});
  if (!tasks.ok) throw tasks.error;
  const projectOf = new Map(tasks.value.map((t) => [t.id, t.project]));
  const counts: Record<string, number> = {};
  for (const job of claimed.value) {
    const project = projectOf.get(job.taskId) ?? '?';
    counts[project] = (counts[project] ?? 0) + 1;
  }
  return counts;
}

// CONVEYOR_PG_URL, or a throwaway server; each test takes schemas of its own (random names)
let server: ThrowawayPostgres | undefined;
let pgUrl = '';
const schemaPrefix = randomDatabaseName('host');
beforeAll(async () => {
  server = await postgresForTests();
  if (server === undefined) console.warn(POSTGRES_MISSING_MESSAGE);
  else pgUrl = server.url;
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('a host on PostgreSQL (ORCH_STORE=postgres)', { timeout: 60_000 }, () => {
  let fakes: TwoProjectFakes;
  beforeAll(async () => {
    fakes = await startTwoProjectFakes();
  });
  afterAll(async () => {
    await fakes?.close();
  });

  it('opens the PostgreSQL store with the project limits and LISTEN wake-ups', async ({ skip }) => {
    if (pgUrl === '') return skip();
    const opened = await openHostStore(
      settingsWith({
        ORCH_STORE: 'postgres',
        ORCH_PG_URL: pgUrl,
        ORCH_PG_SCHEMA: `${schemaPrefix}_limits`,
        ORCH_PG_MAX_CONNECTIONS: '2',
      }),
    );
    if (!opened.ok) throw opened.error;
    const store = opened.value;
    try {
      expect(typeof store.onJobAvailable).toBe('function');
      expect(await claimedPerProject(store)).toEqual({ 'proj-a': 1, 'proj-b': 3 });
    } finally {
      await store.close();
    }
  });

  it('serves both projects from the database: webhooks become tasks, each project runs its agent', async ({ skip }) => {
    if (pgUrl === '') return skip();
    const { plane, gitea, telegram } = fakes;
    const out = mkdtempSync(join(root, 'out-'));
    const settings = settingsWith({
      ORCH_STORE: 'postgres',
      ORCH_PG_URL: pgUrl,
      ORCH_PG_SCHEMA: `${schemaPrefix}_host`,
      ORCH_DATA_DIR: join(root, 'pg-data'),
      ORCH_PLANE_BASE_URL: plane.url,
      ORCH_GITEA_BASE_URL: gitea.url,
      ORCH_TELEGRAM_BASE_URL: telegram.url,
      // the worker's poll is slow: the LISTEN wake-up starts the agents
      ORCH_WORKER_INTERVAL_MS: '60000',
    });
    const opened = await openHostStore(settings, silentLogger);
    if (!opened.ok) throw opened.error;
    const host = createHost(settings, { logger: silentLogger, agentEnv: { OUT: out }, store: opened.value });
    await host.start();
    try {
      const send = (issueId: string, project: string) => sendIssueCreated(plane, host.url(), issueId, project);
      const web = plane.addIssue({ name: 'web work', state: 'Todo' });
      const api = plane.addIssue({ name: 'api work', state: 'Todo' });
      expect((await send(web.id, 'proj-a')).outcome?.action).toBe('created');
      expect((await send(api.id, 'proj-b')).outcome?.action).toBe('created');
      const tasks = (await host.store.listTasks({})).unwrapOr([]);
      expect(tasks.map((t) => `${t.project}:${t.repo}`).sort()).toEqual(['proj-a:acme/web', 'proj-b:acme/api']);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && readdirSync(out).length < 2) await new Promise((r) => setTimeout(r, 100));
      const byRepo = Object.fromEntries(tasks.map((t) => [t.repo, t.id]));
      expect(readFileSync(join(out, `web-${byRepo['acme/web']}`), 'utf8').trim()).toBe('web');
      expect(readFileSync(join(out, `api-${byRepo['acme/api']}`), 'utf8').trim()).toBe('api');
    } finally {
      await host.stop('test over');
    }
  });
});
