import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeModelServer, startFakeAnthropic } from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentBudget, createAgentLauncher, createClaudeCodeRunner, createWorkspaces } from '../src/index.js';
import { AGENT_PATH, commitToMain, createFixture, git, readTranscript, storeWithJob } from './helpers.js';

const API_KEY = ['sk-ant-api03', 'FakeKeyForTests', '0123456789abcdef'].join('-');
// Assembled so no token-shaped literal sits in the source.
const LEAKED = ['ghp', '_', 'Q7w9Er2Ty5Ui8Op1As4Df6Gh3Jk0Lz9Xc2Vb'].join('');

let fixture: ReturnType<typeof createFixture>;
let model: FakeModelServer;

beforeEach(async () => {
  fixture = createFixture('claude');
  model = await startFakeAnthropic({ apiKey: API_KEY });
});
afterEach(async () => {
  await model.close();
  fixture.cleanup();
});

async function runDevelopment(
  options: { budget?: AgentBudget; apiKey?: string; command?: string; stage?: string } = {},
) {
  const { store, task, job } = await storeWithJob(options.stage ?? 'development', 'developer');
  const workspaces = createWorkspaces({ root: join(fixture.dir, 'workspaces'), remoteUrl: () => fixture.origin });
  const runner = createClaudeCodeRunner({
    apiKey: options.apiKey ?? API_KEY,
    baseUrl: model.url,
    model: 'claude-sonnet-4-5',
    path: AGENT_PATH,
    cliRetries: 3,
    ...(options.command === undefined ? {} : { command: options.command }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  });
  const launcher = createAgentLauncher({
    store,
    workspaces,
    runnerFor: () => runner,
    transcriptDir: join(fixture.dir, 'transcripts'),
  });
  const launched = await launcher.launch({ jobId: job.id, command: 'ignored', args: [] });
  if (!launched.ok) return { launched, task, job, launcher } as const;
  const exit = await launched.value.exited;
  const outcome = launcher.outcome(job.id);
  if (!outcome) throw new Error('no outcome recorded');
  return { launched, exit, outcome, task, job, launcher, workspace: join(fixture.dir, 'workspaces', task.id) } as const;
}

describe('Claude Code runner (the real claude CLI against a fake Anthropic API)', () => {
  it('writes files, runs the tests, and the runner commits and pushes the task branch', async () => {
    model.script([
      {
        text: 'I will add farewell().',
        tool: {
          kind: 'write',
          path: 'src/farewell.js',
          content: "export const farewell = (n) => 'Goodbye, ' + n + '!';\n",
        },
      },
      {
        tool: {
          kind: 'write',
          path: 'test/farewell.test.js',
          content:
            "import assert from 'node:assert/strict';\nimport { farewell } from '../src/farewell.js';\nassert.equal(farewell('Ada'), 'Goodbye, Ada!');\n",
        },
      },
      { tool: { kind: 'bash', command: 'node run-tests.mjs' }, usage: { inputTokens: 300, outputTokens: 40 } },
      { text: 'Added farewell(name) in src/farewell.js with a test; all tests pass.' },
    ]);
    const run = await runDevelopment();
    if (!run.launched.ok) throw run.launched.error;
    const { outcome, exit, workspace, task } = run;
    expect(outcome?.status).toBe('succeeded');
    expect(exit?.exitCode).toBe(0);
    expect(outcome?.summary).toBe('Added farewell(name) in src/farewell.js with a test; all tests pass.');
    expect(exit?.reason).toContain('Added farewell(name)');
    // the files the agent wrote, in its workspace
    expect(readFileSync(join(workspace as string, 'src/farewell.js'), 'utf8')).toContain('Goodbye');
    // the model saw the real test run's output
    expect(model.received('all tests passed')).toBe(true);
    // one commit on top of main, on the task branch of the real remote, naming the task
    const head = git(fixture.origin, 'rev-parse', 'refs/heads/task/SHOP-1');
    expect(outcome?.push?.head).toBe(head);
    expect(git(fixture.origin, 'rev-list', '--count', 'main..task/SHOP-1')).toBe('1');
    expect(git(fixture.origin, 'log', '-1', '--format=%B', 'task/SHOP-1')).toContain(`SHOP-1: Add farewell(name)`);
    expect(git(fixture.origin, 'log', '-1', '--format=%B', 'task/SHOP-1')).toContain(`Conveyor task ${task.id}`);
    expect(git(fixture.origin, 'ls-tree', '-r', '--name-only', 'task/SHOP-1').split('\n')).toEqual(
      expect.arrayContaining(['src/farewell.js', 'test/farewell.test.js']),
    );
    expect(git(fixture.origin, 'rev-parse', 'main')).toBe(git(fixture.seed, 'rev-parse', 'HEAD'));
    // tokens and cost: 100+100+300+100 in, 20+20+40+20 out, as the CLI summed them
    expect(outcome?.usage).toEqual({ inputTokens: 600, outputTokens: 100, cachedInputTokens: 0 });
    expect(outcome?.costUsd).toBeGreaterThan(0);
    expect(outcome?.turns).toBe(4);
    // the transcript: typed events, tool calls and results
    const records = readTranscript(outcome?.transcriptFile as string);
    const types = records.map((r) => r.type);
    expect(types).toContain('start');
    expect(records.filter((r) => r.type === 'tool_call').map((r) => r.name)).toEqual(['Write', 'Write', 'Bash']);
    expect(records.some((r) => r.type === 'tool_result' && String(r.output).includes('all tests passed'))).toBe(true);
    expect(records.at(-1)?.type).toBe('outcome');
    expect(readFileSync(outcome?.transcriptFile as string, 'utf8')).not.toContain(API_KEY);
    expect(model.unknownRoutes).toEqual([]);
  });

  it('redacts a leaked token from the transcript and the summary', async () => {
    model.script([
      { tool: { kind: 'write', path: 'src/notify.js', content: `export const TOKEN = '${LEAKED}';\n` } },
      { tool: { kind: 'bash', command: 'cat src/notify.js' } },
      { text: `Wired notifications with ${LEAKED}.` },
    ]);
    const run = await runDevelopment();
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('succeeded');
    const transcript = readFileSync(run.outcome?.transcriptFile as string, 'utf8');
    expect(transcript).not.toContain(LEAKED);
    expect(transcript).toContain('[redacted]');
    expect(run.outcome?.summary).toBe('Wired notifications with [redacted].');
    // the file itself is the gate's business: the runner commits what the agent wrote
    expect(git(fixture.origin, 'show', 'task/SHOP-1:src/notify.js')).toContain(LEAKED);
  });

  it('rides out two 429s (the CLI retries with backoff) and succeeds', async () => {
    model.failNext(429, 2);
    model.script([{ tool: { kind: 'write', path: 'a.txt', content: 'a\n' } }, { text: 'Wrote a.txt.' }]);
    const run = await runDevelopment();
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('succeeded');
    const retries = readTranscript(run.outcome?.transcriptFile as string).filter((r) => r.type === 'model_error');
    expect(retries).toHaveLength(2);
    expect(retries.every((r) => r.kind === 'rate_limited' && r.retrying === true)).toBe(true);
    expect(model.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(4);
  });

  it('maps a 5xx that outlasts the retries to a clear failure', async () => {
    model.failNext(500, 50);
    const run = await runDevelopment({ budget: { maxModelRetries: 2 } });
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('failed');
    expect(run.outcome?.modelError).toBe('server_error');
    expect(run.outcome?.reason).toMatch(/model server kept failing \(5xx\)/);
    expect(run.exit?.exitCode).not.toBe(0);
  });

  it('stops at once on a 401 (the CLI would retry it for minutes)', async () => {
    const started = Date.now();
    const run = await runDevelopment({ apiKey: 'sk-ant-wrong-key-0000000000000000' });
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('failed');
    expect(run.outcome?.modelError).toBe('unauthorized');
    expect(run.outcome?.reason).toMatch(/rejected the API key/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(readFileSync(run.outcome?.transcriptFile as string, 'utf8')).not.toContain('sk-ant-wrong-key');
  });

  it('fails a job over its turn budget with that reason', async () => {
    model.script(
      Array.from({ length: 6 }, (_, i) => ({ tool: { kind: 'write' as const, path: `f${i}.txt`, content: `${i}\n` } })),
    );
    const run = await runDevelopment({ budget: { maxTurns: 2 } });
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('budget_exceeded');
    expect(run.outcome?.reason).toMatch(/budget exceeded/);
    expect(run.exit?.exitCode).not.toBe(0);
    expect(run.exit?.reason).toMatch(/^budget_exceeded: budget exceeded/);
  });

  it('fails a job over its cost budget (the CLI stops at --max-budget-usd)', async () => {
    model.script(
      Array.from({ length: 6 }, (_, i) => ({
        tool: { kind: 'write' as const, path: `g${i}.txt`, content: `${i}\n` },
        usage: { inputTokens: 200_000, outputTokens: 5_000 },
      })),
    );
    const run = await runDevelopment({ budget: { maxCostUsd: 0.5 } });
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('budget_exceeded');
    expect(run.outcome?.reason).toMatch(/budget exceeded/);
    expect(run.outcome?.turns).toBeLessThan(6);
  });

  it('fails a development job that changed nothing, with a clear note', async () => {
    model.script([{ text: 'Nothing to do, it all looks fine.' }]);
    const run = await runDevelopment();
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('failed');
    expect(run.outcome?.reason).toMatch(/the development job changed nothing on task\/SHOP-1/);
    expect(run.outcome?.reason).toContain('Nothing to do');
  });

  it('a repository cannot widen the permissions of its agent with a .claude/settings.json', async () => {
    // The runner also passes --setting-sources user (a private, empty config dir), so even a CLI
    // that trusted project settings would not read this file.
    commitToMain(fixture.seed, '.claude/settings.json', `${JSON.stringify({ permissions: { allow: ['Bash'] } })}\n`);
    model.script([
      // not in the runner's allowed tools, and not a file edit acceptEdits would approve
      { tool: { kind: 'bash', command: `python3 -c "open('pwned.txt', 'w').write('x')"` } },
      { tool: { kind: 'write', path: 'ok.txt', content: 'ok\n' } },
      { text: 'Tried.' },
    ]);
    const run = await runDevelopment();
    if (!run.launched.ok) throw run.launched.error;
    expect(existsSync(join(run.workspace as string, 'pwned.txt'))).toBe(false);
    expect(existsSync(join(run.workspace as string, 'ok.txt'))).toBe(true);
    const denied = readTranscript(run.outcome?.transcriptFile as string).find(
      (r) => r.type === 'tool_result' && r.isError === true,
    );
    expect(denied?.output).toMatch(/requires approval/);
  });

  it('names the npm package when the CLI is missing', async () => {
    const run = await runDevelopment({ command: 'claude-not-installed-here' });
    expect(run.launched.ok).toBe(false);
    if (run.launched.ok) return;
    expect(run.launched.error.message).toContain('@anthropic-ai/claude-code');
    expect(existsSync(join(fixture.dir, 'transcripts', `${run.job.id}.jsonl`))).toBe(false);
  });
});
