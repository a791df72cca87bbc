import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeModelServer, startFakeOpenAI } from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentBudget, createAgentLauncher, createCodexRunner, createWorkspaces } from '../src/index.js';
import { AGENT_PATH, createFixture, git, readTranscript, storeWithJob } from './helpers.js';

const API_KEY = ['sk-proj', 'FakeOpenAIKeyForTests', '0123456789'].join('-');

let fixture: ReturnType<typeof createFixture>;
let model: FakeModelServer;

beforeEach(async () => {
  fixture = createFixture('codex');
  model = await startFakeOpenAI({ apiKey: API_KEY });
});
afterEach(async () => {
  await model.close();
  fixture.cleanup();
});

async function runDevelopment(options: { budget?: AgentBudget; apiKey?: string; command?: string } = {}) {
  const { store, task, job } = await storeWithJob('development', 'developer');
  const runner = createCodexRunner({
    apiKey: options.apiKey ?? API_KEY,
    baseUrl: `${model.url}/v1`,
    model: 'gpt-5-codex',
    path: AGENT_PATH,
    cliRetries: 1,
    pricing: { inputPerMTok: 1.25, outputPerMTok: 10 },
    ...(options.command === undefined ? {} : { command: options.command }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  });
  const launcher = createAgentLauncher({
    store,
    workspaces: createWorkspaces({ root: join(fixture.dir, 'workspaces'), remoteUrl: () => fixture.origin }),
    runnerFor: () => runner,
    transcriptDir: join(fixture.dir, 'transcripts'),
  });
  const launched = await launcher.launch({ jobId: job.id, command: 'ignored', args: [] });
  if (!launched.ok) return { launched, task, job } as const;
  const exit = await launched.value.exited;
  return {
    launched,
    exit,
    outcome: launcher.outcome(job.id),
    task,
    job,
    workspace: join(fixture.dir, 'workspaces', task.id),
  } as const;
}

describe('Codex runner (the real codex CLI against a fake Responses API)', () => {
  it('writes a file, runs the tests, reports tokens and a priced cost; the runner commits and pushes', async () => {
    model.script([
      {
        text: 'Adding farewell.',
        tool: { kind: 'write', path: 'src/farewell.js', content: "export const farewell = (n) => 'Bye ' + n;\n" },
      },
      { tool: { kind: 'bash', command: 'node run-tests.mjs' }, usage: { inputTokens: 1000, outputTokens: 200 } },
      { text: 'Added src/farewell.js; the tests pass.' },
    ]);
    const run = await runDevelopment();
    if (!run.launched.ok) throw run.launched.error;
    const { outcome, workspace } = run;
    expect(outcome?.status).toBe('succeeded');
    expect(outcome?.summary).toBe('Added src/farewell.js; the tests pass.');
    expect(readFileSync(join(workspace as string, 'src/farewell.js'), 'utf8')).toContain("'Bye '");
    expect(model.received('all tests passed')).toBe(true);
    expect(git(fixture.origin, 'rev-list', '--count', 'main..task/SHOP-1')).toBe('1');
    expect(git(fixture.origin, 'show', 'task/SHOP-1:src/farewell.js')).toContain("'Bye '");
    expect(git(fixture.origin, 'log', '-1', '--format=%s', 'task/SHOP-1')).toBe('SHOP-1: Add farewell(name)');
    expect(outcome?.usage).toEqual({ inputTokens: 1200, outputTokens: 240, cachedInputTokens: 0 });
    expect(outcome?.costUsd).toBeCloseTo((1200 * 1.25 + 240 * 10) / 1_000_000, 9);
    const records = readTranscript(outcome?.transcriptFile as string);
    expect(records.filter((r) => r.type === 'tool_call').length).toBeGreaterThanOrEqual(2);
    expect(records.some((r) => r.type === 'tool_result' && String(r.output).includes('all tests passed'))).toBe(true);
    expect(readFileSync(outcome?.transcriptFile as string, 'utf8')).not.toContain(API_KEY);
    // the provider config the runner wrote for the CLI
    const config = readFileSync(
      join(fixture.dir, 'transcripts', 'state', 'jobs', run.job.id, 'codex', 'config.toml'),
      'utf8',
    );
    expect(config).toContain('wire_api = "responses"');
    expect(config).not.toContain(API_KEY);
    expect(model.unknownRoutes).toEqual([]);
  });

  it('fails a run that goes over its cost budget', async () => {
    model.script(
      Array.from({ length: 5 }, (_, i) => ({
        tool: { kind: 'bash' as const, command: `echo step ${i}` },
        usage: { inputTokens: 400_000, outputTokens: 10_000 },
      })),
    );
    const run = await runDevelopment({ budget: { maxCostUsd: 0.5 } });
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('budget_exceeded');
    expect(run.outcome?.reason).toMatch(/budget exceeded: spent \$\d/);
  });

  it('maps a 401 to a clear failure although codex exits 0', async () => {
    const run = await runDevelopment({ apiKey: 'sk-proj-wrong-key-00000000000000' });
    if (!run.launched.ok) throw run.launched.error;
    expect(run.outcome?.status).toBe('failed');
    expect(run.outcome?.modelError).toBe('unauthorized');
    expect(run.outcome?.reason).toMatch(/rejected the API key/);
  });

  it('rides out two 429s (the CLI retries) and succeeds', async () => {
    model.failNext(429, 2);
    model.script([{ tool: { kind: 'write', path: 'a.txt', content: 'a\n' } }, { text: 'Wrote a.txt.' }]);
    const { store, job } = await storeWithJob('development', 'developer');
    const runner = createCodexRunner({
      apiKey: API_KEY,
      baseUrl: `${model.url}/v1`,
      model: 'gpt-5-codex',
      path: AGENT_PATH,
      cliRetries: 3,
    });
    const launcher = createAgentLauncher({
      store,
      workspaces: createWorkspaces({ root: join(fixture.dir, 'workspaces'), remoteUrl: () => fixture.origin }),
      runnerFor: () => runner,
      transcriptDir: join(fixture.dir, 'transcripts'),
    });
    const launched = await launcher.launch({ jobId: job.id, command: 'ignored', args: [] });
    if (!launched.ok) throw launched.error;
    await launched.value.exited;
    expect(launcher.outcome(job.id)?.status).toBe('succeeded');
    expect(model.requests.filter((r) => r.path === '/v1/responses').length).toBe(4);
  });

  it('names the npm package when the CLI is missing', async () => {
    const run = await runDevelopment({ command: 'codex-not-installed-here' });
    expect(run.launched.ok).toBe(false);
    if (!run.launched.ok) expect(run.launched.error.message).toContain('@openai/codex');
  });
});
