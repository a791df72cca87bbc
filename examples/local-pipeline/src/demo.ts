import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createDaemons,
  createEventBus,
  createGateRegistry,
  createPipeline,
  createProcessLauncher,
  DEFAULT_STAGES,
  defineStages,
  type HistoryEntry,
  type Lease,
  silentLogger,
  systemClock,
  type Task,
  TERMINAL_TASK_STATUSES,
} from '@conveyor/core';
import { createMergeGate, createSecurityGate, withTaskCheckout } from '@conveyor/gates';
import { createSqliteStore } from '@conveyor/store-sqlite';
import { createLocalGitForge } from '@conveyor/testkit';
import { createLocalTracker } from './local-tracker.js';
import { createSampleRepository, DEMO_GIT_ENV, moveMain } from './sample-repo.js';
import { createTerminalNotifier } from './terminal-notifier.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** where the demo keeps its repositories, database and logs; a fresh temp folder by default */
  readonly dir?: string;
  /** keep `dir` afterwards (default: keep only when `dir` was given) */
  readonly keep?: boolean;
  /** where progress goes; default stdout */
  readonly print?: (line: string) => void;
  /** give up after this long (default 120 s) */
  readonly timeoutMs?: number;
}

/** One gate verdict as the demo saw it. */
export interface DemoVerdict {
  readonly edge: string;
  readonly gate: string;
  readonly status: string;
  readonly summary: string;
  readonly durationMs: number;
}

/** What the demo did, for the summary and the end-to-end test. */
export interface DemoResult {
  readonly dir: string;
  readonly origin: string;
  readonly task: Task;
  readonly history: readonly HistoryEntry[];
  readonly verdicts: readonly DemoVerdict[];
  readonly leases: readonly Lease[];
  /** the fake token the first attempt leaked */
  readonly leakedToken: string;
  /** `git log -p main` of origin: what main received */
  readonly mainLog: string;
  readonly mainFiles: readonly string[];
  readonly durationMs: number;
  /** the teammate's commit that moved main mid-flight */
  readonly mainMovedTo?: string;
}

const REPO = 'acme/shop';
const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
// The same parts the scripted agent assembles: the demo checks main never receives it.
const LEAKED_TOKEN = ['ghp', '_', 'R8x2Lq9Vt4Zk7Wm1Np3Hs6Jd0Fc5Gb8Ya2Ue'].join(''); // gitleaks:allow (the demo's fake leak)

/**
 * Runs the whole pipeline on this machine with no network and no accounts: a
 * SQLite store, a bare git repository as the forge, a local tracker, the
 * Telegram card printed to the terminal, and a scripted agent that leaks a
 * token on its first attempt. Resolves when the task is terminal.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'conveyor-demo-'));
  const keep = options.keep ?? options.dir !== undefined;
  mkdirSync(dir, { recursive: true });
  const { origin, teammate } = createSampleRepository(dir);
  print(`▸ sample repository ${REPO} at ${origin}`);

  const opened = createSqliteStore({ path: join(dir, 'conveyor.db') });
  if (!opened.ok) throw opened.error;
  const store = opened.value;
  const clock = systemClock;
  const logger = silentLogger;
  const events = createEventBus();
  const forge = createLocalGitForge({ bareRepo: origin, stateFile: join(dir, 'forge.json'), env: DEMO_GIT_ENV });
  const tracker = createLocalTracker(
    [
      {
        id: 'DEMO-1',
        key: 'DEMO-1',
        project: 'shop',
        title: 'Add farewell(name) next to greet(name)',
        description: 'Add a farewell(name) function that returns "Goodbye, <name>!", with a test.',
        state: 'Todo',
      },
    ],
    print,
  );
  const notifier = createTerminalNotifier(print);

  const stagesResult = defineStages({
    stages: DEFAULT_STAGES.stages,
    maxDeveloperRetries: 2,
    maxDeferrals: 10,
    deferDelayMs: 250,
  });
  if (!stagesResult.ok) throw stagesResult.error;
  const stages = stagesResult.value;

  // Gates decide on their own fresh checkout of what was pushed, not on the agent's working copy.
  const checkout = { root: join(dir, 'gates'), remoteUrl: () => origin, gitEnv: DEMO_GIT_ENV };
  const security = withTaskCheckout(createSecurityGate({ securityBaseRef: 'origin/main' }), checkout);
  const merge = createMergeGate({
    store,
    forge,
    remoteUrl: () => origin,
    gitEnv: DEMO_GIT_ENV,
    settings: {
      mergeRetestCommand: `${JSON.stringify(process.execPath)} run-tests.mjs`,
      mergeWorktreeRoot: join(dir, 'worktrees'),
      mergeDeferMs: 250,
      mergeRetestTimeoutMs: 60_000,
    },
  });
  const gates = createGateRegistry({ hostRepo: REPO, clock, events });
  for (const [gate, order] of [
    [security, 10],
    [merge, 20],
  ] as const) {
    const registered = gates.register('deploy-staging->deploy', gate, { order });
    if (!registered.ok) throw registered.error;
  }

  const pipeline = createPipeline({
    store,
    stages,
    gates,
    clock,
    logger,
    tracker,
    forge,
    notifier,
    events,
    repo: REPO,
    reportDir: join(dir, 'reports'),
  });

  const daemons = createDaemons({
    store,
    pipeline,
    clock,
    logger,
    events,
    notifier,
    worker: {
      launcher: createProcessLauncher({ logDir: join(dir, 'logs') }),
      maxConcurrency: 1,
      intervalMs: 100,
      commandFor: (job, task) => ({
        command: process.execPath,
        args: [AGENT],
        env: {
          DEMO_STAGE: job.stage,
          DEMO_ORIGIN: origin,
          DEMO_WORKDIR: join(dir, 'agent', task.id),
          DEMO_BRANCH: task.branch,
          DEMO_FINDINGS: job.input.findings ?? '',
          ...DEMO_GIT_ENV,
        },
        logFile: join(dir, 'logs', `${job.id}.log`),
        timeoutMs: 60_000,
      }),
    },
    reaper: { intervalMs: 500 },
    reconciler: { intervalMs: 1_000, defaultGraceSeconds: 5, tracker, pollStates: ['Todo', 'Approved'] },
  });

  // Progress as it happens.
  const verdicts: DemoVerdict[] = [];
  let mainMovedTo: string | undefined;
  let developmentRuns = 0;
  events.on('transition', ({ from, to, cause }) => {
    print(`▸ ${from.stage}/${from.status} → ${to.stage}/${to.status}  (${cause})`);
  });
  events.on('verdict', ({ edge, verdict }) => {
    verdicts.push({
      edge,
      gate: verdict.gateId,
      status: verdict.status,
      summary: verdict.summary,
      durationMs: verdict.durationMs,
    });
    print(
      `  gate ${verdict.gateId} on ${edge}: ${verdict.status.toUpperCase()} — ${verdict.summary} (${verdict.durationMs} ms)`,
    );
  });
  events.on('job.finished', ({ jobId, exitCode }) => {
    try {
      const log = readFileSync(join(dir, 'logs', `${jobId}.log`), 'utf8').trim();
      for (const line of log.split('\n').filter(Boolean)) print(`  ${line}`);
    } catch {
      // no log: the job started no process
    }
    if (exitCode !== 0) print(`  job ${jobId} exited ${exitCode}`);
  });
  events.on('job.started', async ({ taskId }) => {
    const task = await store.getTask(taskId);
    if (!task.ok || !task.value || task.value.snapshot.stage !== 'development') return;
    developmentRuns += 1;
    if (developmentRuns === 1) {
      // While the developer works, a teammate lands a change on main.
      mainMovedTo = moveMain(teammate);
      print(`▸ meanwhile a teammate pushed ${mainMovedTo} to main (the merge gate will have to rebase)`);
    }
  });

  // A person approves the analysis: through the tracker, as a webhook would deliver it.
  events.on('transition', async ({ taskId, to }) => {
    if (to.status !== 'awaiting_approval') return;
    const task = await store.getTask(taskId);
    if (!task.ok || !task.value) return;
    await tracker.setState(task.value.issueId, 'Approved');
    const issue = await tracker.getIssue(task.value.issueId);
    if (issue.ok) await pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue.value });
  });

  daemons.start();
  const issue = await tracker.getIssue('DEMO-1');
  if (!issue.ok) throw issue.error;
  print(`▸ tracker: ${issue.value.key} "${issue.value.title}" is in Todo`);
  const handled = await pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue.value });
  if (!handled.ok) throw handled.error;

  const deadline = started + (options.timeoutMs ?? 120_000);
  let task: Task | undefined;
  try {
    for (;;) {
      const found = await store.findTaskByIssue('shop', 'DEMO-1');
      if (found.ok && found.value) task = found.value;
      const terminal = task !== undefined && TERMINAL_TASK_STATUSES.includes(task.snapshot.status);
      if (terminal && daemons.worker.running() === 0) break;
      if (Date.now() > deadline) throw new Error(`the demo did not finish within ${options.timeoutMs ?? 120_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await daemons.stop();
  }
  if (!task) throw new Error('the demo task was never created');

  const history = await store.listHistory(task.id);
  const leases = await store.listLeases();
  await store.close();
  const mainLog = execFileSync('git', ['log', '-p', '--no-color', 'main'], { cwd: origin, encoding: 'utf8' });
  const mainFiles = execFileSync('git', ['ls-tree', '-r', '--name-only', 'main'], { cwd: origin, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const result: DemoResult = {
    dir,
    origin,
    task,
    history: history.ok ? history.value : [],
    verdicts,
    leases: leases.ok ? leases.value : [],
    leakedToken: LEAKED_TOKEN,
    mainLog,
    mainFiles,
    durationMs: Date.now() - started,
    ...(mainMovedTo === undefined ? {} : { mainMovedTo }),
  };
  if (!keep) rmSync(dir, { recursive: true, force: true });
  return result;
}

/** The end-of-run summary: stages, verdicts, durations, and the safety checks. */
export function summarize(result: DemoResult): { lines: string[]; ok: boolean } {
  const lines: string[] = [];
  const checks: [string, boolean][] = [
    ['the task is done', result.task.snapshot.status === 'done'],
    ['main has the feature (src/farewell.js)', result.mainFiles.includes('src/farewell.js')],
    ["main has the teammate's change", result.mainFiles.includes('test/readme.test.js')],
    ['no commit on main contains the leaked token', !result.mainLog.includes(result.leakedToken)],
    [
      'the security gate failed once and rolled the task back',
      result.verdicts.some((v) => v.gate === 'security' && v.status === 'fail'),
    ],
    ['no lease is left held', result.leases.length === 0],
  ];
  lines.push('', '── summary ──────────────────────────────────────────────');
  lines.push(
    `task ${result.task.issueId} "${result.task.title}": ${result.task.snapshot.stage}/${result.task.snapshot.status}`,
  );
  lines.push('', 'history:');
  let previous = result.history[0]?.at ?? 0;
  for (const entry of result.history) {
    lines.push(
      `  ${String(entry.seq).padStart(2)}. ${entry.fromStage}/${entry.fromStatus} → ${entry.toStage}/${entry.toStatus}  ${entry.cause}  +${entry.at - previous} ms${entry.verdictSummary ? `  — ${entry.verdictSummary}` : ''}`,
    );
    previous = entry.at;
  }
  lines.push('', 'gate verdicts:');
  for (const v of result.verdicts)
    lines.push(`  ${v.edge}  ${v.gate}: ${v.status} (${v.durationMs} ms) — ${v.summary}`);
  lines.push('', 'checks:');
  for (const [label, passed] of checks) lines.push(`  ${passed ? '✔' : '✘'} ${label}`);
  lines.push('', `finished in ${(result.durationMs / 1000).toFixed(1)} s`);
  return { lines, ok: checks.every(([, passed]) => passed) };
}
