import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createEventBus,
  createGateRegistry,
  createPipeline,
  createWorker,
  DEFAULT_STAGES,
  defineStages,
  err,
  ok,
  silentLogger,
  systemClock,
  type Task,
  TERMINAL_TASK_STATUSES,
  type Tracker,
  type TrackerIssue,
} from '@conveyor/core';
import { createMergeGate, createSecurityGate, withTaskCheckout } from '@conveyor/gates';
import { createLocalGitForge, createMemoryStore, type FakeTurnContext, startFakeAnthropic } from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';
import {
  type AgentJobOutcome,
  agentCommandFor,
  attachWorkspaceCleanup,
  createAgentLauncher,
  createClaudeCodeRunner,
  createCommandRunner,
  createWorkspaces,
} from '../src/index.js';
import { AGENT_PATH, createFixture, git } from './helpers.js';

const API_KEY = ['sk-ant-api03', 'EndToEndFakeKey', 'abcdef0123456789'].join('-');
// Assembled so no token-shaped literal sits in the source.
const LEAKED = ['ghp', '_', 'M3n5B7v9C1x3Z5a7S9d1F3g5H7j9K1l3P5o7'].join('');
const PLAN = 'PLAN: add src/farewell.js exporting farewell(name), and test/farewell.test.js.';

const FAREWELL = "export function farewell(name) {\n  return 'Goodbye, ' + name + '!';\n}\n";
const FAREWELL_TEST =
  "import assert from 'node:assert/strict';\nimport { farewell } from '../src/farewell.js';\nassert.equal(farewell('Ada'), 'Goodbye, Ada!');\n";

function createTracker(issue: TrackerIssue): Tracker & { comments: string[]; issue: () => TrackerIssue } {
  let current = issue;
  const comments: string[] = [];
  return {
    comments,
    issue: () => current,
    async getIssue(id) {
      return id === current.id ? ok(current) : err(new Error(`no issue ${id}`) as never);
    },
    async listIssuesByState(state) {
      return ok({ items: current.state === state ? [current] : [] });
    },
    async setState(_id, state) {
      current = { ...current, state };
      return ok(undefined);
    },
    async comment(_id, html) {
      comments.push(html);
      return ok(undefined);
    },
  };
}

/** The scripted model: what it answers depends on which prompt it got and how far the conversation is. */
function scriptedModel({ body, request, cwd }: FakeTurnContext) {
  const raw = request.body;
  const step = (Array.isArray(body.messages) ? body.messages : []).filter(
    (m) => (m as { role?: string }).role === 'assistant',
  ).length;
  if (raw.includes('# Plan the work for')) return { text: PLAN };
  if (raw.includes('# Fix what the gate found')) {
    // Claude Code's Write refuses to replace a file the agent has not read first.
    if (step === 0)
      return {
        text: 'The token must go; I will read it from the environment.',
        tool: { kind: 'raw' as const, name: 'Read', input: { file_path: join(cwd ?? '/', 'src/notify.js') } },
      };
    if (step === 1)
      return {
        tool: {
          kind: 'write' as const,
          path: 'src/notify.js',
          content: 'export const TOKEN = process.env.NOTIFY_TOKEN;\n',
        },
      };
    if (step === 2) return { tool: { kind: 'bash' as const, command: 'node run-tests.mjs' } };
    return { text: 'Removed the hard-coded token from src/notify.js; it now comes from NOTIFY_TOKEN.' };
  }
  if (raw.includes('# Implement')) {
    if (step === 0) return { tool: { kind: 'write' as const, path: 'src/farewell.js', content: FAREWELL } };
    if (step === 1) return { tool: { kind: 'write' as const, path: 'test/farewell.test.js', content: FAREWELL_TEST } };
    if (step === 2)
      return {
        tool: { kind: 'write' as const, path: 'src/notify.js', content: `export const TOKEN = '${LEAKED}';\n` },
      };
    if (step === 3) return { tool: { kind: 'bash' as const, command: 'node run-tests.mjs' } };
    return { text: 'Implemented farewell(name) with a test, and wired release notifications.' };
  }
  return { text: 'I do not know this prompt.' };
}

describe('end to end: an issue through analysis, development, a security rollback, merge and done', () => {
  it('runs the real Claude Code CLI for every agent job and lands the fixed branch on main', async () => {
    const fixture = createFixture('e2e');
    const model = await startFakeAnthropic({
      apiKey: API_KEY,
      script: Array.from({ length: 40 }, () => scriptedModel),
    });
    try {
      const store = createMemoryStore();
      const events = createEventBus();
      const tracker = createTracker({
        id: 'SHOP-7',
        key: 'SHOP-7',
        project: 'shop',
        title: 'Add farewell(name)',
        description: 'Add a farewell(name) function that returns "Goodbye, <name>!", with a test.',
        state: 'Todo',
      });
      const forge = createLocalGitForge({ bareRepo: fixture.origin, stateFile: join(fixture.dir, 'forge.json') });
      const stages = defineStages({ stages: DEFAULT_STAGES.stages, maxDeveloperRetries: 2, deferDelayMs: 200 });
      if (!stages.ok) throw stages.error;
      const gates = createGateRegistry({ hostRepo: 'acme/shop', clock: systemClock, events });
      const checkout = { root: join(fixture.dir, 'gates'), remoteUrl: () => fixture.origin };
      const security = withTaskCheckout(createSecurityGate({ securityBaseRef: 'origin/main' }), checkout);
      const merge = createMergeGate({
        store,
        forge,
        remoteUrl: () => fixture.origin,
        settings: {
          mergeRetestCommand: `${JSON.stringify(process.execPath)} run-tests.mjs`,
          mergeWorktreeRoot: join(fixture.dir, 'merge'),
          mergeDeferMs: 200,
          mergeRetestTimeoutMs: 60_000,
        },
      });
      for (const [gate, order] of [
        [security, 10],
        [merge, 20],
      ] as const) {
        const registered = gates.register('deploy-staging->deploy', gate, { order });
        if (!registered.ok) throw registered.error;
      }
      const pipeline = createPipeline({
        store,
        stages: stages.value,
        gates,
        clock: systemClock,
        logger: silentLogger,
        tracker,
        forge,
        events,
        repo: 'acme/shop',
        reportDir: join(fixture.dir, 'reports'),
      });

      const workspaces = createWorkspaces({ root: join(fixture.dir, 'workspaces'), remoteUrl: () => fixture.origin });
      const claude = createClaudeCodeRunner({
        apiKey: API_KEY,
        baseUrl: model.url,
        model: 'claude-sonnet-4-5',
        path: AGENT_PATH,
        budget: { timeoutMs: 120_000, maxTurns: 20 },
      });
      const deployer = createCommandRunner({
        command: 'sh',
        args: ['-c', 'echo "deployed $(git rev-parse --short HEAD)"'],
      });
      const outcomes: AgentJobOutcome[] = [];
      const launcher = createAgentLauncher({
        store,
        workspaces,
        tracker,
        transcriptDir: join(fixture.dir, 'transcripts'),
        runnerFor: (job) => (job.agent === 'deployer' ? deployer : claude),
        deployCommand: 'echo deployed',
        onOutcome: (outcome) => outcomes.push(outcome),
      });
      attachWorkspaceCleanup({ events, store, workspaces, deleteBranchAfterMerge: true });
      // A person approves the plan.
      events.on('transition', async ({ taskId, to }) => {
        if (to.status === 'awaiting_approval') await pipeline.apply(taskId, { type: 'approved' });
      });
      const worker = createWorker({
        store,
        pipeline,
        launcher,
        commandFor: agentCommandFor,
        clock: systemClock,
        logger: silentLogger,
        events,
        maxConcurrency: 1,
        intervalMs: 100,
      });

      worker.start();
      const handled = await pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: tracker.issue() });
      if (!handled.ok) throw handled.error;
      let task: Task | undefined;
      const deadline = Date.now() + 150_000;
      for (;;) {
        const found = await store.findTaskByIssue('shop', 'SHOP-7');
        if (found.ok && found.value) task = found.value;
        if (task && TERMINAL_TASK_STATUSES.includes(task.snapshot.status) && worker.running() === 0) break;
        if (Date.now() > deadline) throw new Error(`not done in time: ${JSON.stringify(task?.snapshot)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await worker.stop();
      await new Promise((r) => setTimeout(r, 300)); // the cleanup listener

      expect(task?.snapshot.status).toBe('done');
      expect(task?.snapshot.developerRetries).toBe(1);
      // analysis → the plan on the tracker and in the developer's prompt
      expect(tracker.comments.some((c) => c.includes(PLAN))).toBe(true);
      expect(launcher.plan(task?.id as string)).toContain(PLAN);
      const developmentCalls = model.calls.filter((c) => c.raw.includes('# Implement'));
      expect(developmentCalls[0]?.raw).toContain(PLAN);
      // the rollback: the security gate's findings reached the real agent's prompt, redacted
      const rollbackCalls = model.calls.filter((c) => c.raw.includes('# Fix what the gate found'));
      expect(rollbackCalls.length).toBeGreaterThan(0);
      const rollbackPrompt = rollbackCalls[0]?.raw ?? '';
      expect(rollbackPrompt).toContain('src/notify.js');
      expect(rollbackPrompt).toContain('attempt 2');
      expect(rollbackPrompt).not.toContain(LEAKED);
      // main got the fixed feature, and no commit on main carries the token
      const mainFiles = git(fixture.origin, 'ls-tree', '-r', '--name-only', 'main').split('\n');
      expect(mainFiles).toEqual(expect.arrayContaining(['src/farewell.js', 'test/farewell.test.js', 'src/notify.js']));
      expect(git(fixture.origin, 'show', 'main:src/notify.js')).toContain('process.env.NOTIFY_TOKEN');
      expect(git(fixture.origin, 'log', '-p', 'main')).not.toContain(LEAKED);
      // done: the workspace is gone and the merged branch deleted
      expect(git(fixture.origin, 'branch', '--list', task?.branch ?? '')).toBe('');
      expect(() => readFileSync(join(fixture.dir, 'workspaces', task?.id as string, 'src', 'farewell.js'))).toThrow();
      // every job's outcome: stages, statuses, transcripts with tokens and cost, none leaking the token
      expect(outcomes.map((o) => `${o.stage}:${o.status}`)).toEqual([
        'analysis:succeeded',
        'development:succeeded',
        'deploy-staging:succeeded',
        'development:succeeded',
        'deploy-staging:succeeded',
        'deploy:succeeded',
      ]);
      for (const o of outcomes.filter((x) => x.stage === 'analysis' || x.stage === 'development')) {
        expect(o.usage.inputTokens).toBeGreaterThan(0);
        expect(o.costUsd).toBeGreaterThan(0);
        const transcript = readFileSync(o.transcriptFile, 'utf8');
        expect(transcript).not.toContain(LEAKED);
        expect(transcript).not.toContain(API_KEY);
      }
      const jobs = await store.listJobs({ taskId: task?.id as string });
      if (!jobs.ok) throw jobs.error;
      expect(jobs.value.find((j) => j.stage === 'analysis')?.reason).toContain(PLAN);
      // the findings the pipeline carried into the job reached the model verbatim (JSON-escaped on the wire)
      const findings = jobs.value.find((j) => j.stage === 'development' && j.input.findings)?.input.findings ?? '';
      expect(findings).toMatch(/github-pat src\/notify\.js:1/);
      expect(rollbackPrompt).toContain(JSON.stringify(findings).slice(1, -1));
    } finally {
      await model.close();
      fixture.cleanup();
    }
  }, 200_000);
});
