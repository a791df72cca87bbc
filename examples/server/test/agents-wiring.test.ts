import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger, type Task } from '@conveyor/core';
import { type FakeModelServer, type FakeTurnContext, startFakeAnthropic } from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REPO, type LocalStack, startLocalStack } from '../src/dev/stack.js';
import { loadServerSettings } from '../src/settings.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]) =>
  (await exec('git', args, { cwd, encoding: 'utf8' })).stdout.trim();
const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const CLI_PATH = `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
// Assembled so no key-shaped literal sits in the source.
const API_KEY = ['sk-ant-api03', 'WiringFakeKey', '0123456789abcdef'].join('-');
const FEATURE = '# Login page\n\nA login page, written by the agent.\n';
const PLAN = 'PLAN: read README.md, then add features/login.md describing the login page.';

/** The scripted model: a plan for analysis; read a file, write the feature and finish for development. */
function scriptedModel({ body, request, cwd }: FakeTurnContext) {
  const step = (Array.isArray(body.messages) ? body.messages : []).filter(
    (m) => (m as { role?: string }).role === 'assistant',
  ).length;
  if (request.body.includes('# Plan the work for')) return { text: PLAN };
  if (request.body.includes('# Implement')) {
    if (step === 0)
      return { tool: { kind: 'raw' as const, name: 'Read', input: { file_path: join(cwd ?? '/', 'README.md') } } };
    if (step === 1) return { tool: { kind: 'write' as const, path: 'features/login.md', content: FEATURE } };
    return { text: 'Added features/login.md describing the login page.' };
  }
  return { text: 'I do not know this prompt.' };
}

let dir: string;
let model: FakeModelServer;
let stack: LocalStack;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-agents-wiring-'));
  model = await startFakeAnthropic({ apiKey: API_KEY, script: Array.from({ length: 40 }, () => scriptedModel) });
  stack = await startLocalStack({
    dir,
    logger: silentLogger,
    env: {
      ORCH_AGENT_RUNNER: 'claude-code',
      ORCH_AGENT_API_KEY: API_KEY,
      ORCH_AGENT_BASE_URL: model.url,
      ORCH_AGENT_MODEL: 'claude-sonnet-4-5',
      ORCH_AGENT_MAX_TURNS: '10',
      ORCH_AGENT_CLI_PATH: CLI_PATH,
    },
  });
});

afterAll(async () => {
  await stack?.close();
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function taskOf(issueId: string): Promise<Task | undefined> {
  const found = await stack.host.store.listTasks({ limit: 100 });
  return found.ok ? found.value.find((t) => t.issueId === issueId || t.issueId.endsWith(issueId)) : undefined;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 100_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('ORCH_AGENT_RUNNER settings', () => {
  const base = {
    ORCH_PLANE_BASE_URL: 'http://plane.invalid',
    ORCH_PLANE_API_KEY: 'k',
    ORCH_PLANE_WORKSPACE_SLUG: 'w',
    ORCH_PLANE_PROJECT_ID: 'p',
    ORCH_PLANE_WEBHOOK_SECRET: 's',
    ORCH_GITEA_BASE_URL: 'http://gitea.invalid',
    ORCH_GITEA_TOKEN: 't',
    ORCH_GITEA_WEBHOOK_SECRET: 's',
    ORCH_TELEGRAM_BOT_TOKEN: 'b',
    ORCH_TELEGRAM_CHAT_ID: '1',
    ORCH_AGENT_DEPLOYER_COMMAND: './deploy.sh',
    ORCH_MERGE_RETEST_COMMAND: 'npm test',
  };

  it('a CLI runner needs no analyst or developer command, but names the settings it lacks', () => {
    const claude = loadServerSettings({ ...base, ORCH_AGENT_RUNNER: 'claude-code', ORCH_AGENT_API_KEY: 'x' });
    expect(claude.ok).toBe(true);
    const codex = loadServerSettings({ ...base, ORCH_AGENT_RUNNER: 'codex' });
    expect(codex.ok).toBe(false);
    if (codex.ok) return;
    for (const name of ['ORCH_AGENT_API_KEY', 'ORCH_AGENT_BASE_URL', 'ORCH_AGENT_MODEL'])
      expect(codex.error.message).toContain(`${name}`);
    expect(codex.error.message).not.toContain('ORCH_AGENT_DEVELOPER_COMMAND');
    const command = loadServerSettings(base);
    expect(command.ok).toBe(false);
    if (!command.ok) expect(command.error.message).toContain('ORCH_AGENT_DEVELOPER_COMMAND');
    const unknown = loadServerSettings({ ...base, ORCH_AGENT_RUNNER: 'aider' });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.message).toContain('ORCH_AGENT_RUNNER');
  });
});

describe('the host with ORCH_AGENT_RUNNER=claude-code', () => {
  it('runs the real Claude Code CLI as analyst and developer; the runner commits and pushes; the change lands on main', async () => {
    const bare = stack.gitea.barePath(LOCAL_REPO);
    const mainBefore = (await stack.gitea.branchHead(LOCAL_REPO, 'main')) ?? '';
    const issueId = await stack.createIssue('Add a login page', 'A login page.');
    await until(
      'the analysis to wait for approval',
      async () => (await taskOf(issueId))?.snapshot.status === 'awaiting_approval',
    );
    await stack.setState(issueId, 'Approved');
    await until('the task to be done', async () => (await taskOf(issueId))?.snapshot.status === 'done', 150_000);
    const task = (await taskOf(issueId)) as Task;

    // the development job's outcome: the runner (not the model) committed and pushed the task branch
    const agentsDir = join(dir, 'host', 'agents');
    const outcomes = readdirSync(agentsDir)
      .filter((f) => f.endsWith('.outcome.json'))
      .map((f) => JSON.parse(readFileSync(join(agentsDir, f), 'utf8')));
    const development = outcomes.find((o) => o.stage === 'development');
    expect(development?.status).toBe('succeeded');
    expect(development?.push?.committed).toBe(true);
    expect(development?.push?.pushed).toBe(true);
    const head: string = development?.push?.head;
    expect(await git(bare, 'log', '-1', '--format=%an', head)).toBe('Conveyor agent');
    expect(await git(bare, 'log', '-1', '--format=%B', head)).toContain(task.id);
    // the file the agent wrote, byte for byte, in that commit and on main
    expect(await git(bare, 'show', `${head}:features/login.md`)).toBe(FEATURE.trim());
    const main = (await stack.gitea.branchHead(LOCAL_REPO, 'main')) ?? '';
    expect(main).not.toBe(mainBefore);
    expect(await git(bare, 'show', `${main}:features/login.md`)).toBe(FEATURE.trim());
    // the real CLI talked to the scripted model, and the transcript kept no key
    expect(model.calls.some((c) => c.raw.includes('# Implement'))).toBe(true);
    const transcript = readFileSync(join(agentsDir, `${development?.jobId}.jsonl`), 'utf8');
    expect(transcript).toContain('features/login.md');
    expect(transcript).not.toContain(API_KEY);
    // the analyst's plan reached the tracker as a comment
    expect(JSON.stringify(stack.plane.requests.map((r) => r.body))).toContain('PLAN: read README.md');
  }, 200_000);
});
