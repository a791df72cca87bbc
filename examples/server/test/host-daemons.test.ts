import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlaneTracker } from '@conveyor/adapter-plane';
import { type Job, silentLogger, type TrackerIssue } from '@conveyor/core';
import {
  type FakeGitea,
  type FakePlane,
  type FakeTelegram,
  startFakeGitea,
  startFakePlane,
  startFakeTelegram,
} from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedAgentCommand } from '../src/agent-command.js';
import { createHost, type Host } from '../src/host.js';
import { loadServerSettings } from '../src/settings.js';

const TG_TOKEN = '123456:fake-bot-token-for-tests';
const STATES = ['Todo', 'Analysis', 'Approved', 'In Progress', 'Staging', 'Deploying', 'Done', 'Cancelled'];

let plane: FakePlane;
let gitea: FakeGitea;
let telegram: FakeTelegram;
let root: string;
let n = 0;

const envFor = (dataDir: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  ORCH_PORT: '0',
  ORCH_DATA_DIR: dataDir,
  ORCH_HOST_REPO: 'acme/web',
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
  ORCH_AGENT_ANALYST_COMMAND: 'echo analysed',
  ORCH_AGENT_DEVELOPER_COMMAND: 'echo developed',
  ORCH_AGENT_DEPLOYER_COMMAND: 'echo deployed',
  ORCH_MERGE_RETEST_COMMAND: 'true',
  ORCH_WORKER_INTERVAL_MS: '100',
  ORCH_REAPER_INTERVAL_MS: '200',
  ORCH_RECONCILER_INTERVAL_MS: '300',
  ...overrides,
});

function hostWith(overrides: Record<string, string>): { host: Host; dataDir: string } {
  n += 1;
  const dataDir = join(root, `host-${n}`);
  const settings = loadServerSettings(envFor(dataDir, overrides));
  if (!settings.ok) throw settings.error;
  return { host: createHost(settings.value, { logger: silentLogger }), dataDir };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const issueOf = (id: string): TrackerIssue => {
  const raw = plane.issue(id);
  if (!raw) throw new Error(`no issue ${id}`);
  return { id, project: 'proj-1', title: raw.name, description: '', state: 'Todo' };
};

/** Runs the host's agent shell for real and waits for it: the pid is dead, its exit record written (or not). */
async function runAgentShell(command: string, logFile: string, kill?: 'SIGKILL'): Promise<number> {
  const spec = recordedAgentCommand(command, logFile);
  const child = spawn(spec.command, [...spec.args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  if (kill) {
    await new Promise((r) => setTimeout(r, 200));
    child.kill(kill);
  }
  await exited;
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'conveyor-host-daemons-'));
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
  rmSync(root, { recursive: true, force: true });
});

describe('the reaper of the example host, after a worker died mid-job', { timeout: 60_000 }, () => {
  /** A job claimed and started by a worker that then died: running in the store, its pid gone. */
  async function orphanedJob(host: Host, dataDir: string, command: string, kill?: 'SIGKILL'): Promise<Job> {
    const issue = issueOf(plane.addIssue({ name: `orphan ${n}`, state: 'Todo' }).id);
    const created = await host.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue });
    if (!created.ok) throw created.error;
    const claimed = await host.store.claimJobs({ maxConcurrency: 10, now: Date.now() });
    if (!claimed.ok) throw claimed.error;
    const job = claimed.value[0];
    if (!job) throw new Error('nothing claimed');
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const pid = await runAgentShell(command, join(dataDir, 'logs', `${job.id}.log`), kill);
    const stamped = await host.store.setJobPid(job.id, pid);
    if (!stamped.ok) throw stamped.error;
    return job;
  }

  it('decides a job whose agent exited 0 at once from its exit record: the stage moves on, the agent is not run again', async () => {
    // No worker in this host: the job's own worker is the one that died.
    const { host, dataDir } = hostWith({
      ORCH_WORKER_ENABLED: 'false',
      ORCH_RECONCILER_ENABLED: 'false',
      ORCH_REAPER_DEAD_TICKS: '50',
    });
    const job = await orphanedJob(host, dataDir, 'echo analysed; exit 0');
    await host.start();
    try {
      const task = await until('awaiting approval', async () => {
        const t = (await host.store.getTask(job.taskId)).unwrapOr(undefined);
        return t?.snapshot.status === 'awaiting_approval' ? t : undefined;
      });
      const jobs = (await host.store.listJobs({ taskId: task.id })).unwrapOr([]);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(jobs[0]?.reason).toMatch(/exit code 0 and no worker recorded it/);
    } finally {
      await host.stop('test over');
    }
  });

  it('a known non-zero exit fails at once and the stage runs its next attempt', async () => {
    const { host, dataDir } = hostWith({
      ORCH_WORKER_ENABLED: 'false',
      ORCH_RECONCILER_ENABLED: 'false',
      ORCH_REAPER_DEAD_TICKS: '50',
    });
    const job = await orphanedJob(host, dataDir, 'exit 3');
    await host.start();
    try {
      const jobs = await until('a second attempt', async () => {
        const all = (await host.store.listJobs({ taskId: job.taskId })).unwrapOr([]);
        return all.length === 2 ? all : undefined;
      });
      expect(jobs.find((j) => j.id === job.id)).toMatchObject({ status: 'failed', exitCode: 3 });
      expect(jobs.find((j) => j.id !== job.id)).toMatchObject({ status: 'queued', attempt: 2 });
    } finally {
      await host.stop('test over');
    }
  });

  it('with no exit record (the agent shell was killed too), the pid must be dead for the dead ticks first', async () => {
    const { host, dataDir } = hostWith({
      ORCH_WORKER_ENABLED: 'false',
      ORCH_RECONCILER_ENABLED: 'false',
      ORCH_REAPER_DEAD_TICKS: '3',
    });
    const job = await orphanedJob(host, dataDir, 'sleep 30', 'SIGKILL');
    await host.start();
    try {
      const reaped = await until('the flip', async () => {
        const j = (await host.store.getJob(job.id)).unwrapOr(undefined);
        return j?.status === 'running' ? undefined : j;
      });
      expect(reaped).toMatchObject({ status: 'failed', exitCode: null });
      expect(reaped.reason).toMatch(/dead for 3 consecutive reaper ticks/);
    } finally {
      await host.stop('test over');
    }
  });
});

describe('tracker polling of the example host', { timeout: 60_000 }, () => {
  it('replays a Cancelled state no webhook delivered: the task is rejected', async () => {
    const { host } = hostWith({ ORCH_AGENT_ANALYST_COMMAND: 'sleep 0.2' });
    const seeded = plane.addIssue({ name: 'cancel me', state: 'Todo' });
    await host.start();
    try {
      // The start state is polled too: the issue becomes a task with no webhook at all.
      const task = await until('the task from polling', async () => {
        const t = (await host.store.findTaskByIssue('proj-1', seeded.id)).unwrapOr(undefined);
        return t?.snapshot.status === 'awaiting_approval' ? t : undefined;
      });
      const tracker = createPlaneTracker({
        baseUrl: plane.url,
        apiKey: 'plane-key',
        workspaceSlug: 'acme',
        projectId: 'proj-1',
      });
      // Someone cancels the issue in Plane; the webhook never arrives.
      const set = await tracker.setState(seeded.id, 'Cancelled');
      if (!set.ok) throw set.error;
      const rejected = await until('the rejection', async () => {
        const t = (await host.store.getTask(task.id)).unwrapOr(undefined);
        return t?.snapshot.status === 'rejected' ? t : undefined;
      });
      expect(rejected.snapshot.status).toBe('rejected');
    } finally {
      await host.stop('test over');
    }
  });
});
