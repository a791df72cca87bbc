import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CardLocale, createTelegramNotifier } from '@conveyor/adapter-telegram';
import { agentCommandFor, createAgentLauncher, createClaudeCodeRunner, createWorkspaces } from '@conveyor/agents';
import {
  ConveyorError,
  coreSettingsSchema,
  createDaemons,
  createEventBus,
  createGateRegistry,
  createPipeline,
  createProcessLauncher,
  createWorker,
  DEFAULT_STAGES,
  defineStages,
  err,
  type HistoryEntry,
  type Job,
  type Launcher,
  type Lease,
  readExitRecord,
  renderFinding,
  type Store,
  silentLogger,
  systemClock,
  type Task,
  TERMINAL_TASK_STATUSES,
  type TrackerIssue,
} from '@conveyor/core';
import { mergeSettingsSchema, securitySettingsSchema, stagingSettingsSchema } from '@conveyor/gates';
import { createSqliteStore } from '@conveyor/store-sqlite';
import { createLocalGitForge, type FakeModelServer, startFakeTelegram } from '@conveyor/testkit';
// The demo registers its gates exactly as the example host does.
import { DELIVERY_EDGE, registerHostGates, stagingChecksFile } from '../../server/src/gates.js';
import { AGENT_FILES, DEMO_MODEL_KEY, startScriptedClaude } from './claude-agent.js';
import { createLocalTracker } from './local-tracker.js';
import { createSampleRepository, DEMO_GIT_ENV, git, moveMain } from './sample-repo.js';

const PKG = '@conveyor/example-local-pipeline';

/** The parts of the story, each shown by its own task(s); `--only <part>` runs one. */
export const DEMO_PARTS = ['parallel', 'leak', 'staging', 'freshness', 'reaper', 'replay', 'card', 'agent'] as const;
/** One part of the demo. */
export type DemoPart = (typeof DEMO_PARTS)[number];

interface DemoTaskSpec {
  readonly key: string;
  readonly feature: string;
  readonly scenario: 'plain' | 'leak' | 'staging' | 'reaper' | 'agent';
  readonly title: string;
  readonly parts: readonly DemoPart[];
}

const TASKS: readonly DemoTaskSpec[] = [
  { key: 'DEMO-1', feature: 'farewell', scenario: 'leak', title: 'Add farewell(name)', parts: ['leak'] },
  { key: 'DEMO-2', feature: 'shout', scenario: 'plain', title: 'Add shout(name)', parts: ['parallel'] },
  { key: 'DEMO-3', feature: 'whisper', scenario: 'plain', title: 'Add whisper(name)', parts: ['parallel'] },
  { key: 'DEMO-4', feature: 'checkout', scenario: 'staging', title: 'Add checkout(name)', parts: ['staging'] },
  {
    key: 'DEMO-5',
    feature: 'badge',
    scenario: 'plain',
    title: 'Add badge(name)',
    parts: ['freshness', 'card'],
  },
  { key: 'DEMO-6', feature: 'retry', scenario: 'reaper', title: 'Add retry(name)', parts: ['reaper'] },
  { key: 'DEMO-7', feature: 'ping', scenario: 'plain', title: 'Add ping(name)', parts: ['replay'] },
  // its developer is the real Claude Code CLI, against a scripted model server on 127.0.0.1
  { key: 'DEMO-8', feature: 'hello', scenario: 'agent', title: 'Add hello(name)', parts: ['agent'] },
];

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** the parts to run (default all) */
  readonly parts?: readonly DemoPart[];
  /** the card's labels (default `en`) */
  readonly locale?: CardLocale;
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
  readonly warnings: readonly string[];
  readonly findings: readonly string[];
  readonly durationMs: number;
}

/** One task of the demo at the end. */
export interface DemoTask {
  readonly key: string;
  readonly task: Task;
  readonly history: readonly HistoryEntry[];
  readonly jobs: readonly Job[];
  readonly verdicts: readonly DemoVerdict[];
}

/** What the demo did, for the summary and the end-to-end test. */
export interface DemoResult {
  readonly dir: string;
  readonly origin: string;
  readonly parts: readonly DemoPart[];
  readonly locale: CardLocale;
  readonly tasks: Readonly<Record<string, DemoTask>>;
  readonly leases: readonly Lease[];
  /** the fake token the leaking attempt pasted */
  readonly leakedToken: string;
  /** `git log -p main` of origin: what main received */
  readonly mainLog: string;
  readonly mainFiles: readonly string[];
  /** the teammate's commit that moved main mid-flight */
  readonly mainMovedTo?: string;
  /** the chat of the fake Telegram at the end */
  readonly cards: {
    readonly visible: readonly { readonly messageId: number; readonly text: string }[];
    readonly sent: number;
    readonly deleted: number;
  };
  /** the approval webhook that was dropped, and whether the reconciler's tracker poll replayed it */
  readonly replay: { readonly dropped: boolean; readonly replayedByReconciler: boolean };
  /** the agent killed with its host mid-job */
  readonly reaper: { readonly killedPid?: number };
  /** the Claude Code developer of DEMO-8: its transcript, the commit the runner pushed, what it said */
  readonly agent: {
    readonly transcriptBytes?: number;
    readonly commit?: string;
    readonly commitAuthor?: string;
    readonly summary?: string;
    /** the author of the commit that brought `src/hello.js` to main (the merge gate may have rebased it) */
    readonly mainCommitAuthor?: string;
    /** the agent's files as main has them */
    readonly mainFiles?: Readonly<Record<string, string>>;
  };
  /** every line printed */
  readonly printed: readonly string[];
  readonly durationMs: number;
}

const REPO = 'acme/shop';
const CHAT = '-100200300';
const BOT_TOKEN = '4242:demo-bot-token';
const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
// The same parts the scripted agent assembles: the demo checks main never receives it.
const LEAKED_TOKEN = ['ghp', '_', 'R8x2Lq9Vt4Zk7Wm1Np3Hs6Jd0Fc5Gb8Ya2Ue'].join(''); // gitleaks:allow (the demo's fake leak)

// The merge gate's retest: waits (bounded) while the barrier is armed and not yet open, so a
// second task reaches the merge while the first holds the lease; then runs the repository's tests.
const RETEST = `import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
const [armed, open] = process.argv.slice(2);
const until = Date.now() + 15000;
while (existsSync(armed) && !existsSync(open) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
execFileSync(process.execPath, ['run-tests.mjs'], { stdio: 'inherit' });
`;

/**
 * Runs the pipeline on this machine with no network and no accounts, wired
 * like the example host: a SQLite store, a bare git repository as the forge,
 * a local tracker, the Telegram card in `bump` mode against a fake Bot API,
 * all four gates on `deploy-staging -> deploy`, the worker, reaper and
 * reconciler. Each part of the story is a task; resolves when all are terminal.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const printed: string[] = [];
  const out = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const print = (line: string) => {
    printed.push(line);
    out(line);
  };
  const parts = options.parts ?? DEMO_PARTS;
  const locale = options.locale ?? 'en';
  const specs = TASKS.filter((t) => t.parts.some((p) => parts.includes(p)));
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'conveyor-demo-'));
  const keep = options.keep ?? options.dir !== undefined;
  mkdirSync(dir, { recursive: true });
  const { origin, teammate } = createSampleRepository(dir);
  print(`▸ sample repository ${REPO} at ${origin}; parts: ${parts.join(', ')}; card locale: ${locale}`);

  const opened = createSqliteStore({ path: join(dir, 'conveyor.db') });
  if (!opened.ok) throw opened.error;
  const store = opened.value;
  const clock = systemClock;
  const logger = silentLogger;
  const events = createEventBus();
  const forge = createLocalGitForge({ bareRepo: origin, env: DEMO_GIT_ENV });
  const tracker = createLocalTracker(
    specs.map(
      (t): TrackerIssue => ({
        id: t.key,
        key: t.key,
        project: 'shop',
        title: t.title,
        description: `${t.title}, with a test.`,
        state: 'Todo',
      }),
    ),
  );
  const telegram = await startFakeTelegram({ token: BOT_TOKEN });
  const notifier = createTelegramNotifier({
    botToken: BOT_TOKEN,
    chatId: CHAT,
    cards: store,
    mode: 'bump',
    locale,
    baseUrl: telegram.url,
  });

  const stagesResult = defineStages({
    stages: DEFAULT_STAGES.stages,
    maxDeveloperRetries: 2,
    // waiting for a lease or an image build never costs an agent run: the cap is generous
    maxDeferrals: 500,
    deferDelayMs: 1_000,
  });
  if (!stagesResult.ok) throw stagesResult.error;
  const stages = stagesResult.value;

  const retest = join(dir, 'retest.mjs');
  const barrier = { armed: join(dir, 'barrier-armed'), open: join(dir, 'barrier-open') };
  writeFileSync(retest, RETEST);
  if (parts.includes('parallel')) writeFileSync(barrier.armed, '');
  const registry = createGateRegistry({ hostRepo: REPO, clock, events });
  const registered = registerHostGates({
    registry,
    store,
    forge,
    core: coreSettingsSchema.parse({ hostRepo: REPO }),
    security: securitySettingsSchema.parse({ securityBaseRef: 'origin/main' }),
    merge: mergeSettingsSchema.parse({
      mergeRetestCommand: [process.execPath, retest, barrier.armed, barrier.open]
        .map((a) => JSON.stringify(a))
        .join(' '),
      mergeWorktreeRoot: join(dir, 'worktrees'),
      mergeDeferMs: 1_000,
      mergeMaxDeferrals: 500,
      mergeRetestTimeoutMs: 60_000,
    }),
    staging: stagingSettingsSchema.parse({ stagingInfraAllowlist: ['sandbox-dns'] }),
    dataDir: dir,
    remoteUrl: () => origin,
    freshnessStatusContext: 'image/build',
    freshnessDeferMs: 500,
    gitEnv: DEMO_GIT_ENV,
  });
  if (!registered.ok) throw registered.error;

  const pipeline = createPipeline({
    store,
    stages,
    gates: registry,
    clock,
    logger,
    tracker,
    forge,
    notifier,
    events,
    repo: REPO,
    reportDir: join(dir, 'reports'),
  });

  // DEMO-8's developer: the real Claude Code CLI in a per-task workspace, against the scripted model.
  let model: FakeModelServer | undefined;
  let agents: ReturnType<typeof createAgentLauncher> | undefined;
  const agentTranscripts = join(dir, 'agent-transcripts');
  if (specs.some((s) => s.scenario === 'agent')) {
    model = await startScriptedClaude();
    agents = createAgentLauncher({
      store,
      workspaces: createWorkspaces({
        root: join(dir, 'workspaces'),
        remoteUrl: () => origin,
        // the runner's commits carry this identity (the teammate's env would override it)
        identity: { name: 'Claude Code (demo)', email: 'claude@conveyor.invalid' },
        gitEnv: { GIT_CONFIG_NOSYSTEM: '1' },
      }),
      transcriptDir: agentTranscripts,
      runnerFor: () =>
        createClaudeCodeRunner({
          apiKey: DEMO_MODEL_KEY,
          baseUrl: model?.url ?? '',
          model: 'claude-sonnet-4-5',
          path: `${fileURLToPath(new URL('../../../node_modules/.bin', import.meta.url))}:${process.env.PATH ?? ''}`,
          budget: { timeoutMs: 90_000, maxTurns: 10 },
        }),
    });
  }
  const processes = createProcessLauncher({ logDir: join(dir, 'logs') });
  // the agent launcher takes the jobs `agentCommandFor` marked; the scripted agent every other
  const launcher: Launcher = {
    launch: (spec) =>
      agents !== undefined && spec.command === agentCommandFor().command ? agents.launch(spec) : processes.launch(spec),
  };
  mkdirSync(join(dir, 'agent'), { recursive: true });

  const keyOf = new Map<string, string>();
  const specOf = (task: Task) => specs.find((s) => s.key === task.issueId) ?? specs[0];
  const logFileOf = (job: Pick<Job, 'id'>) => join(dir, 'logs', `${job.id}.log`);
  const commandFor = (job: Job, task: Task) => {
    const spec = specOf(task);
    const checks = stagingChecksFile(dir, task.id);
    if (job.stage === DELIVERY_EDGE.split('->')[0]) rmSync(checks, { force: true });
    if (spec?.scenario === 'agent' && job.stage === 'development') return { ...agentCommandFor(), timeoutMs: 90_000 };
    return {
      command: process.execPath,
      args: [AGENT],
      env: {
        DEMO_STAGE: job.stage,
        DEMO_SCENARIO: spec?.scenario ?? 'plain',
        DEMO_FEATURE: spec?.feature ?? 'feature',
        DEMO_ATTEMPT: String(job.attempt),
        DEMO_ORIGIN: origin,
        DEMO_WORKDIR: join(dir, 'agent', task.id),
        DEMO_BRANCH: task.branch,
        DEMO_FINDINGS: job.input.findings ?? '',
        CONVEYOR_STAGING_CHECKS: checks,
        ...DEMO_GIT_ENV,
      },
      timeoutMs: 90_000,
    };
  };

  // Progress as it happens.
  const verdicts = new Map<string, DemoVerdict[]>();
  const tag = (taskId: string) => keyOf.get(taskId) ?? taskId;
  events.on('transition', ({ taskId, from, to, cause }) => {
    print(`▸ ${tag(taskId)}: ${from.stage}/${from.status} → ${to.stage}/${to.status}  (${cause})`);
  });
  events.on('verdict', ({ taskId: maybeTask, edge, verdict }) => {
    const taskId = maybeTask ?? '';
    const list = verdicts.get(taskId) ?? [];
    list.push({
      edge,
      gate: verdict.gateId,
      status: verdict.status,
      summary: verdict.summary,
      warnings: verdict.warnings,
      findings: verdict.findings.map(renderFinding),
      durationMs: verdict.durationMs,
    });
    verdicts.set(taskId, list);
    print(
      `  ${tag(taskId)} gate ${verdict.gateId}: ${verdict.status.toUpperCase()} — ${verdict.summary} (${verdict.durationMs} ms)`,
    );
    for (const f of verdict.findings) print(`    ${renderFinding(f)}`);
    // the barrier is the parallel pair's: another task deferring on the held lease does not open it
    const pair = ['DEMO-2', 'DEMO-3'].includes(tag(taskId));
    if (pair && verdict.gateId === 'merge' && verdict.status === 'defer' && !existsSync(barrier.open)) {
      print(`▸ ${tag(taskId)} waits for the merge lease another task holds: deferred, not rolled back`);
      writeFileSync(barrier.open, '');
    }
  });
  events.on('job.finished', ({ jobId, taskId, exitCode }) => {
    const outcome = agents?.outcome(jobId);
    if (outcome !== undefined) {
      print(
        `  ${tag(taskId)} [claude-code] ${outcome.status} in ${outcome.turns} turns (${outcome.usage.inputTokens} in / ${outcome.usage.outputTokens} out tokens): ${outcome.summary}`,
      );
      if (outcome.push?.pushed)
        print(`  ${tag(taskId)} [runner] committed and pushed the task branch at ${outcome.push.head.slice(0, 7)}`);
      print(`  ${tag(taskId)} [transcript] ${outcome.transcriptFile}`);
    }
    try {
      for (const line of readFileSync(join(dir, 'logs', `${jobId}.log`), 'utf8')
        .split('\n')
        .filter(Boolean))
        print(`  ${tag(taskId)} ${line}`);
    } catch {
      // no log: the job started no process
    }
    if (exitCode !== 0) print(`  ${tag(taskId)} job ${jobId} exited ${exitCode}`);
  });

  // The teammate lands a change on main while the leaking task's developer works.
  let mainMovedTo: string | undefined;
  events.on('job.started', async ({ taskId }) => {
    if (mainMovedTo !== undefined || tag(taskId) !== 'DEMO-1') return;
    const task = await store.getTask(taskId);
    if (!task.ok || task.value?.snapshot.stage !== 'development') return;
    mainMovedTo = moveMain(teammate);
    print(`▸ meanwhile a teammate pushed ${mainMovedTo} to main (the merge gate will have to rebase)`);
  });

  // A person approves each analysis in the tracker; the webhook of DEMO-7's approval is lost.
  let dropped = false;
  let replayedByReconciler = false;
  events.on('transition', async ({ taskId, to }) => {
    if (to.status !== 'awaiting_approval') return;
    const task = await store.getTask(taskId);
    if (!task.ok || !task.value) return;
    await tracker.setState(task.value.issueId, 'Approved');
    if (tag(taskId) === 'DEMO-7') {
      dropped = true;
      print(`▸ ${tag(taskId)} approved in the tracker; its webhook is dropped on purpose (the reconciler must notice)`);
      return;
    }
    const issue = await tracker.getIssue(task.value.issueId);
    if (issue.ok) await pipeline.handle({ kind: 'tracker.issue', action: 'updated', issue: issue.value });
  });
  events.on('daemon.tick', ({ daemon, summary }) => {
    if (daemon === 'reaper' && (summary.reaped ?? 0) > 0)
      print(`▸ the reaper finished ${summary.reaped} job(s) whose process died with no worker to record it`);
  });
  events.on('daemon.tick', async ({ daemon, summary }) => {
    if (daemon !== 'reconciler' || !dropped || replayedByReconciler || !((summary.replayed ?? 0) > 0)) return;
    const found = await store.findTaskByIssue('shop', 'DEMO-7');
    if (found.ok && found.value && found.value.snapshot.status !== 'awaiting_approval') {
      replayedByReconciler = true;
      print('▸ DEMO-7: the reconciler polled the tracker and replayed the lost approval');
    }
  });

  // The CI builds the release image of a task once the merge gate merged it (it takes a moment):
  // until then the freshness gate sees no image of the head and defers.
  const built = new Set<string>();
  events.on('verdict', async ({ taskId, verdict }) => {
    if (verdict.gateId !== 'merge' || verdict.status !== 'pass') return;
    const task = await store.getTask(taskId ?? '');
    if (!task.ok || !task.value) return;
    const { branch } = task.value;
    const sha = git(origin, 'rev-parse', `refs/heads/${branch}`);
    if (built.has(sha)) return;
    built.add(sha);
    await forge.setCommitStatus(REPO, sha, { context: 'image/build', state: 'pending', description: 'building' });
    print(`  ci: building the release image of ${branch} at ${sha.slice(0, 7)}`);
    setTimeout(() => {
      void forge.setCommitStatus(REPO, sha, { context: 'image/build', state: 'success', description: 'built' });
      print(`  ci: the image of ${branch} at ${sha.slice(0, 7)} is built`);
    }, 1_500);
  });

  const created = async (spec: DemoTaskSpec) => {
    const issue = await tracker.getIssue(spec.key);
    if (!issue.ok) throw issue.error;
    const handled = await pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue.value });
    if (!handled.ok) throw handled.error;
    if (handled.value.taskId) keyOf.set(handled.value.taskId, spec.key);
  };

  // The reaper part: a host whose worker starts DEMO-6's analyst, then dies with it.
  let killedPid: number | undefined;
  const reaperSpec = specs.find((s) => s.scenario === 'reaper');
  if (reaperSpec) {
    await created(reaperSpec);
    let crashed = false;
    const gone = () => Promise.resolve(err(new ConveyorError(PKG, 'network', 'the host is gone')));
    const doomedStore = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => (crashed ? gone() : (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    }) as Store;
    const doomed = createWorker({
      store: doomedStore,
      pipeline,
      launcher: createProcessLauncher(),
      commandFor: (job, task) => ({ ...commandFor(job, task) }),
      clock,
      logger,
      maxConcurrency: 1,
      intervalMs: 100,
    });
    doomed.start();
    const deadline = Date.now() + 20_000;
    let job: Job | undefined;
    while (job?.pid === undefined) {
      if (Date.now() > deadline) throw new Error('the doomed host never started its agent');
      await new Promise((r) => setTimeout(r, 50));
      job = (await store.listJobs({ statuses: ['running'] })).unwrapOr([])[0];
    }
    await new Promise((r) => setTimeout(r, 300));
    crashed = true;
    killedPid = job.pid;
    process.kill(job.pid, 'SIGKILL');
    await doomed.stop();
    print(
      `▸ DEMO-6: the host running its analyst (pid ${job.pid}) died mid-job; the job is still "running" in the store`,
    );
  }

  const daemons = createDaemons({
    store,
    pipeline,
    clock,
    logger,
    events,
    notifier,
    worker: {
      launcher,
      maxConcurrency: 3,
      intervalMs: 100,
      commandFor: (job, task) => ({ ...commandFor(job, task), logFile: logFileOf(job) }),
    },
    reaper: { intervalMs: 200, exitCodeOf: (job) => readExitRecord(logFileOf(job))?.exitCode },
    reconciler: { intervalMs: 1_000, tracker, pollStates: ['Todo', 'Approved', 'Cancelled', 'Rejected'] },
  });
  daemons.start();
  for (const spec of specs) if (spec !== reaperSpec) await created(spec);

  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = started + timeoutMs;
  const tasks: Task[] = [];
  try {
    for (;;) {
      tasks.length = 0;
      for (const spec of specs) {
        const found = await store.findTaskByIssue('shop', spec.key);
        if (found.ok && found.value) tasks.push(found.value);
      }
      const allTerminal =
        tasks.length === specs.length && tasks.every((t) => TERMINAL_TASK_STATUSES.includes(t.snapshot.status));
      if (allTerminal && daemons.worker.running() === 0) break;
      if (Date.now() > deadline) throw new Error(`the demo did not finish within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await daemons.stop();
    await model?.close();
  }

  const result: Record<string, DemoTask> = {};
  for (const task of tasks) {
    const history = await store.listHistory(task.id);
    const jobs = await store.listJobs({ taskId: task.id });
    result[task.issueId] = {
      key: task.issueId,
      task,
      history: history.ok ? history.value : [],
      jobs: jobs.ok ? jobs.value : [],
      verdicts: verdicts.get(task.id) ?? [],
    };
  }
  const leases = await store.listLeases();
  await store.close();
  const visible = telegram.visibleMessages(CHAT).map((m) => ({ messageId: m.messageId, text: m.text }));
  const cards = { visible, sent: telegram.callCount('sendMessage'), deleted: telegram.callCount('deleteMessage') };
  await telegram.close();
  print('');
  print(`▸ the chat now (bump mode: each card was re-sent at the bottom on every change; locale ${locale}):`);
  for (const card of visible) {
    for (const line of card.text.split('\n')) print(`  │ ${line}`);
    print('');
  }

  const mainLog = execFileSync('git', ['log', '-p', '--no-color', 'main'], { cwd: origin, encoding: 'utf8' });
  const mainFiles = execFileSync('git', ['ls-tree', '-r', '--name-only', 'main'], { cwd: origin, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const agent = agentResult(origin, result['DEMO-8'], agents);
  if (!keep) rmSync(dir, { recursive: true, force: true });
  return {
    dir,
    origin,
    parts,
    locale,
    tasks: result,
    leases: leases.ok ? leases.value : [],
    leakedToken: LEAKED_TOKEN,
    mainLog,
    mainFiles,
    ...(mainMovedTo === undefined ? {} : { mainMovedTo }),
    cards,
    replay: { dropped, replayedByReconciler },
    reaper: killedPid === undefined ? {} : { killedPid },
    agent,
    printed,
    durationMs: Date.now() - started,
  };
}

/** What DEMO-8's Claude Code developer left: its transcript, the runner's commit, and the files main has. */
function agentResult(
  origin: string,
  entry: DemoTask | undefined,
  agents: ReturnType<typeof createAgentLauncher> | undefined,
): DemoResult['agent'] {
  const job = entry?.jobs.find((j) => j.stage === 'development' && j.kind === 'agent' && j.status === 'succeeded');
  const outcome = job === undefined ? undefined : agents?.outcome(job.id);
  if (outcome === undefined) return {};
  const show = (ref: string) => {
    try {
      return execFileSync('git', ['show', ref], { cwd: origin, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const mainFiles: Record<string, string> = {};
  for (const file of Object.keys(AGENT_FILES)) {
    const text = show(`main:${file}`);
    if (text !== undefined) mainFiles[file] = text;
  }
  const commit = outcome.push?.pushed ? outcome.push.head : undefined;
  const [firstFile] = Object.keys(AGENT_FILES);
  const mainCommitAuthor = execFileSync(
    'git',
    ['log', '--diff-filter=A', '--format=%an', 'main', '--', firstFile ?? ''],
    { cwd: origin, encoding: 'utf8' },
  ).trim();
  return {
    ...(existsSync(outcome.transcriptFile) ? { transcriptBytes: readFileSync(outcome.transcriptFile).length } : {}),
    ...(commit === undefined
      ? {}
      : {
          commit,
          commitAuthor: execFileSync('git', ['log', '-1', '--format=%an', commit], {
            cwd: origin,
            encoding: 'utf8',
          }).trim(),
        }),
    summary: outcome.summary,
    ...(mainCommitAuthor === '' ? {} : { mainCommitAuthor }),
    mainFiles,
  };
}

/** One end-of-run check: which part it belongs to, what it says, whether it held. */
export interface DemoCheck {
  readonly part: DemoPart | 'all';
  readonly label: string;
  readonly ok: boolean;
}

const moves = (t: DemoTask | undefined) => (t?.history ?? []).map((h) => `${h.fromStage}->${h.toStage}:${h.cause}`);
const rolledBack = (t: DemoTask | undefined) => moves(t).includes('deploy-staging->development:gates.decided');
const isDone = (t: DemoTask | undefined) => t?.task.snapshot.status === 'done';
const gates = (t: DemoTask | undefined, gate: string, status: string) =>
  (t?.verdicts ?? []).filter((v) => v.gate === gate && v.status === status);

/** The checks of every part that ran, each asserted by the demo test. */
export function demoChecks(result: DemoResult): DemoCheck[] {
  const t = result.tasks;
  const checks: DemoCheck[] = [];
  const add = (part: DemoCheck['part'], label: string, ok: boolean) => checks.push({ part, label, ok });
  const on = (part: DemoPart) => result.parts.includes(part);
  const print = result.printed.join('\n');

  add('all', 'every task is done', Object.values(t).length > 0 && Object.values(t).every(isDone));
  add('all', 'no lease is left held', result.leases.length === 0);
  add('all', 'the leaked token never appears in the output', !print.includes(result.leakedToken));
  if (on('parallel')) {
    const pair = [t['DEMO-2'], t['DEMO-3']];
    add(
      'parallel',
      'DEMO-2 and DEMO-3 ran side by side; one waited for a merge lease another task held (defer)',
      pair.some((x) => gates(x, 'merge', 'defer').some((v) => /merge lease .* is held by/.test(v.summary))),
    );
    add(
      'parallel',
      'the waiting task was deferred, not rolled back',
      pair.every((x) => isDone(x) && !rolledBack(x)),
    );
    add(
      'parallel',
      'main has both features',
      result.mainFiles.includes('src/shout.js') && result.mainFiles.includes('src/whisper.js'),
    );
  }
  if (on('leak')) {
    const leak = t['DEMO-1'];
    add('leak', 'the security gate failed on the leaked token and rolled DEMO-1 back', rolledBack(leak));
    add(
      'leak',
      'the findings name the rule and file, redacted',
      gates(leak, 'security', 'fail').some(
        (v) =>
          v.findings.some((f) => f.includes('github-pat') && f.includes('src/notify.js')) &&
          !JSON.stringify(v).includes(result.leakedToken),
      ),
    );
    add('leak', 'no commit on main contains the leaked token', !result.mainLog.includes(result.leakedToken));
    add(
      'leak',
      "main has the fix and the teammate's change, not the token's file",
      result.mainFiles.includes('src/farewell.js') &&
        result.mainFiles.includes('test/readme.test.js') &&
        !result.mainFiles.includes('src/notify.js'),
    );
  }
  if (on('staging')) {
    const staging = t['DEMO-4'];
    add(
      'staging',
      'a real staging failure (e2e) failed the gate and rolled DEMO-4 back',
      gates(staging, 'staging', 'fail').some((v) => v.findings.some((f) => f.includes('e2e'))) && rolledBack(staging),
    );
    add(
      'staging',
      'the sandbox-infrastructure failure alone (sandbox-dns) was waived',
      gates(staging, 'staging', 'pass').some((v) => v.warnings.some((w) => w.includes('sandbox-dns'))),
    );
  }
  if (on('freshness')) {
    const fresh = t['DEMO-5'];
    add(
      'freshness',
      'the freshness gate deferred while the image built, then passed',
      gates(fresh, 'freshness', 'defer').length > 0 && gates(fresh, 'freshness', 'pass').length > 0,
    );
    add('freshness', 'waiting for the image cost no agent run (no rollback)', isDone(fresh) && !rolledBack(fresh));
  }
  if (on('reaper')) {
    const reaped = t['DEMO-6'];
    const first = reaped?.jobs.find((j) => j.stage === 'analysis' && j.attempt === 1);
    add(
      'reaper',
      "the killed agent's job was reaped (pid dead for the reaper's ticks) and run again",
      result.reaper.killedPid !== undefined &&
        first?.status === 'failed' &&
        /dead for \d+ consecutive reaper ticks/.test(first.reason ?? '') &&
        (reaped?.jobs ?? []).some((j) => j.stage === 'analysis' && j.attempt === 2 && j.status === 'succeeded'),
    );
  }
  if (on('replay')) {
    add(
      'replay',
      'the dropped approval webhook was replayed by the reconciler',
      result.replay.dropped && result.replay.replayedByReconciler && isDone(t['DEMO-7']),
    );
  }
  if (on('agent')) {
    const agent = result.agent;
    add('agent', 'the real Claude Code CLI wrote a transcript of its run', (agent.transcriptBytes ?? 0) > 0);
    add(
      'agent',
      "the runner (not the model) committed the agent's work and pushed the task branch",
      agent.commit !== undefined && agent.commitAuthor === 'Claude Code (demo)',
    );
    add(
      'agent',
      "main has the agent's files, byte for byte, from the runner's commit (rebased by the merge gate if main moved)",
      Object.entries(AGENT_FILES).every(([file, text]) => agent.mainFiles?.[file] === text) &&
        agent.mainCommitAuthor === 'Claude Code (demo)',
    );
  }
  if (on('card')) {
    const labels = result.locale === 'ru' ? ['Статус', 'Разработка'] : ['Status', 'Development'];
    add('card', 'one card per task is visible in the chat', result.cards.visible.length === Object.keys(t).length);
    add(
      'card',
      'bump mode: cards were deleted and re-sent at the bottom',
      result.cards.deleted > 0 && result.cards.sent > result.cards.visible.length,
    );
    add(
      'card',
      `the card's labels are in ${result.locale === 'ru' ? 'Russian' : 'English'}`,
      result.cards.visible.length > 0 && result.cards.visible.every((c) => labels.every((l) => c.text.includes(l))),
    );
  }
  return checks;
}

/** The end-of-run summary: each task's path, its verdicts, and the checks. */
export function summarize(result: DemoResult): { lines: string[]; ok: boolean } {
  const lines: string[] = ['', '── summary ──────────────────────────────────────────────'];
  for (const entry of Object.values(result.tasks)) {
    lines.push(
      `${entry.key} "${entry.task.title}": ${entry.task.snapshot.stage}/${entry.task.snapshot.status}, ` +
        `${entry.jobs.length} jobs, ${entry.task.snapshot.developerRetries} rollbacks`,
    );
    for (const v of entry.verdicts) lines.push(`    ${v.gate}: ${v.status} — ${v.summary}`);
  }
  const checks = demoChecks(result);
  lines.push('', 'checks:');
  for (const c of checks) lines.push(`  ${c.ok ? '✔' : '✘'} [${c.part}] ${c.label}`);
  lines.push('', `finished in ${(result.durationMs / 1000).toFixed(1)} s`);
  return { lines, ok: checks.every((c) => c.ok) };
}
