// The world of the adversarial suite: a real bare git origin in a temp dir,
// a real SQLite file, the real security and merge gates wired as a host wires
// them (checkout per task, the git pin resolver, the local git forge), the
// pipeline and a worker that runs agents as real processes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGateRegistry,
  createPipeline,
  createProcessLauncher,
  createReconciler,
  createWorker,
  type Daemon,
  DEFAULT_STAGES,
  defineStages,
  type Forge,
  type Gate,
  type GateRegistry,
  type Logger,
  ok,
  type Pipeline,
  type StagesSpec,
  systemClock,
  type Task,
  type TaskCard,
  type Tracker,
  type Worker,
} from '@conveyor/core';
import { createGitPinResolver, createMergeGate, createSecurityGate, withTaskCheckout } from '@conveyor/gates';
import { createSqliteStore, type SqliteStore } from '@conveyor/store-sqlite';
import { createLocalGitForge } from '@conveyor/testkit';

export const REPO = 'acme/web';
export const EDGE = 'deploy-staging->deploy';

/** git never reads the machine's config, and names its author. */
export const GIT_ENV: Readonly<Record<string, string>> = Object.freeze({
  GIT_AUTHOR_NAME: 'Adversary',
  GIT_AUTHOR_EMAIL: 'adversary@example.test',
  GIT_COMMITTER_NAME: 'Adversary',
  GIT_COMMITTER_EMAIL: 'adversary@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
});

export const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** A GitHub token the default rules catch (random, so no two tasks leak the same one). */
export function leakedToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `ghp_${[...randomBytes(36)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** A bare origin with `main` holding a test script that fails when `BROKEN` exists; a scratch clone to commit from. */
export function createOrigin(root: string) {
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], {
      cwd,
      env: { ...process.env, ...GIT_ENV },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  git(root, 'init', '--bare', '--quiet', origin);
  git(root, 'clone', '--quiet', origin, work);
  writeFileSync(
    join(work, 'test.sh'),
    '#!/bin/sh\n# red when a BROKEN file is in the tree, or when pair-a and pair-b meet\n! ls BROKEN* >/dev/null 2>&1 || exit 1\n! { [ -f pair-a ] && [ -f pair-b ]; }\n',
  );
  writeFileSync(join(work, 'README.md'), '# web\n');
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  return {
    origin,
    /** commits `files` on `branch` (from its current head, else from main) and pushes; returns the sha */
    commit(branch: string, files: Readonly<Record<string, string>>, message = `change on ${branch}`): string {
      git(work, 'fetch', '--quiet', 'origin');
      const exists = git(work, 'ls-remote', '--heads', 'origin', branch) !== '';
      git(work, 'checkout', '--quiet', '-B', branch, exists ? `origin/${branch}` : 'origin/main');
      for (const [path, content] of Object.entries(files)) writeFileSync(join(work, path), content);
      git(work, 'add', '-A');
      git(work, 'commit', '--quiet', '-m', message);
      git(work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return git(work, 'rev-parse', 'HEAD');
    },
    /** the sha of `branch` in origin, or undefined */
    head(branch: string): string | undefined {
      const line = git(origin, 'for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`);
      return line === '' ? undefined : line;
    },
    /** the file names in `ref`'s tree */
    files(ref: string): string[] {
      return git(origin, 'ls-tree', '--name-only', '-r', ref).split('\n').filter(Boolean);
    },
    /** whether `sha` is an ancestor of (or is) `ref` */
    contains(ref: string, sha: string): boolean {
      try {
        git(origin, 'merge-base', '--is-ancestor', sha, ref);
        return true;
      } catch {
        return false;
      }
    },
    /** runs the test script on `ref`'s tree; true when green */
    green(ref: string): boolean {
      const dir = mkdtempSync(join(root, 'tree-'));
      try {
        git(root, 'clone', '--quiet', origin, dir);
        git(dir, 'checkout', '--quiet', '--detach', ref);
        execFileSync('sh', ['test.sh'], { cwd: dir, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    /** the content of `path` at `ref` */
    show(ref: string, path: string): string {
      return git(origin, 'show', `${ref}:${path}`);
    },
  };
}

export type Origin = ReturnType<typeof createOrigin>;

export interface WorldOptions {
  readonly root: string;
  readonly origin: Origin;
  /** default `<root>/conveyor.sqlite` */
  readonly dbPath?: string;
  readonly holderId?: string;
  readonly maxConcurrency?: number;
  readonly maxDeveloperRetries?: number;
  readonly maxDecisionErrors?: number;
  /** wraps the local forge (an outage, a hotfix racing the merge) */
  readonly forge?: (forge: Forge) => Forge;
  /** extra gates, by edge: `[edge, gate, order]` */
  readonly extraGates?: readonly (readonly [string, Gate, number])[];
  /** what the developer agent does on a rollback (a shell command; default `true`) */
  readonly developer?: (task: Task) => string;
  /** wraps the store every part of this host uses (a crash that cuts it off) */
  readonly wrapStore?: (store: SqliteStore) => SqliteStore;
}

/** One host: a SQLite connection, the gates, the pipeline, a worker and a reconciler. */
export interface World {
  readonly store: SqliteStore;
  readonly pipeline: Pipeline;
  readonly gates: GateRegistry;
  readonly worker: Worker;
  readonly reconciler: Daemon;
  readonly stages: StagesSpec;
  readonly comments: { issueId: string; html: string }[];
  readonly cards: TaskCard[];
  /** developer jobs this world's worker started */
  readonly developerRuns: string[];
  close(): Promise<void>;
}

function recordingTracker(comments: { issueId: string; html: string }[]): Tracker {
  return {
    getIssue: async (id) => ok({ id, project: 'web', title: '', description: '', state: 'Staging' }),
    listIssuesByState: async () => ok({ items: [] }),
    setState: async () => ok(),
    comment: async (issueId, html) => {
      comments.push({ issueId, html });
      return ok();
    },
  };
}

export function buildWorld(options: WorldOptions): World {
  const { root, origin } = options;
  const opened = createSqliteStore({ path: options.dbPath ?? join(root, 'conveyor.sqlite'), synchronous: 'NORMAL' });
  if (!opened.ok) throw opened.error;
  const store = options.wrapStore ? options.wrapStore(opened.value) : opened.value;
  const spec = defineStages({
    stages: DEFAULT_STAGES.stages,
    maxDeveloperRetries: options.maxDeveloperRetries ?? 0,
    deferDelayMs: 20,
    // a busy merge lease is waited out; every deferral waits at least 20 ms
    deferWaitMs: 20_000,
    maxDeferrals: 1_000,
    maxDecisionErrors: options.maxDecisionErrors ?? 3,
    decisionRetryDelayMs: 20,
  });
  if (!spec.ok) throw spec.error;
  const hostId = options.holderId ?? 'host-a';
  const localForge = createLocalGitForge({ bareRepo: origin.origin, env: GIT_ENV });
  const forge = options.forge ? options.forge(localForge) : localForge;
  const gates = createGateRegistry({ hostRepo: REPO, stages: spec.value, clock: systemClock });
  const checkoutRoot = join(root, `checkouts-${hostId}`);
  mkdirSync(checkoutRoot, { recursive: true });
  const registered = [
    gates.register(
      EDGE,
      withTaskCheckout(createSecurityGate({ securityDepAuditEnabled: false }), {
        root: checkoutRoot,
        remoteUrl: () => origin.origin,
        gitEnv: GIT_ENV,
      }),
      { order: 10 },
    ),
    gates.register(
      EDGE,
      createMergeGate({
        store,
        forge,
        remoteUrl: () => origin.origin,
        hostId,
        gitEnv: GIT_ENV,
        retestEnv: GIT_ENV,
        settings: {
          mergeRetestCommand: 'sh test.sh',
          mergeWorktreeRoot: join(root, `worktrees-${hostId}`),
          mergeDeferMs: 20,
          mergeLeaseTtlMs: 10_000,
          mergeHeadRetries: 0,
        },
      }),
      { order: 20 },
    ),
    ...(options.extraGates ?? []).map(([edge, gate, order]) => gates.register(edge, gate, { order })),
  ];
  for (const r of registered) if (!r.ok) throw r.error;
  const comments: { issueId: string; html: string }[] = [];
  const cards: TaskCard[] = [];
  const pipeline = createPipeline({
    store,
    stages: spec.value,
    gates,
    clock: systemClock,
    logger: silent,
    tracker: recordingTracker(comments),
    notifier: {
      upsertCard: async (card) => {
        cards.push(card);
        return ok();
      },
      removeCard: async () => ok(),
    },
    repo: REPO,
    reportDir: join(root, 'reports'),
    resolvePin: createGitPinResolver({ remoteUrl: () => origin.origin, baseBranch: 'main', gitEnv: GIT_ENV }),
    holderId: hostId,
    decisionLeaseTtlMs: 10_000,
  });
  const developerRuns: string[] = [];
  const logDir = join(root, `logs-${hostId}`);
  const worker = createWorker({
    store,
    pipeline,
    launcher: createProcessLauncher({ logDir }),
    clock: systemClock,
    logger: silent,
    maxConcurrency: options.maxConcurrency ?? 4,
    intervalMs: 20,
    commandFor: (job, task) => {
      if (job.agent === 'developer') developerRuns.push(task.id);
      const command = job.agent === 'developer' && options.developer ? options.developer(task) : 'true';
      return { command: '/bin/sh', args: ['-c', command] };
    },
  });
  const reconciler = createReconciler({
    store,
    pipeline,
    clock: systemClock,
    logger: silent,
    intervalMs: 50,
    defaultGraceSeconds: 0,
    graceSeconds: Object.fromEntries(spec.value.stages.map((s) => [s.id, 0])),
  });
  return {
    store,
    pipeline,
    gates,
    worker,
    reconciler,
    stages: spec.value,
    comments,
    cards,
    developerRuns,
    async close() {
      await worker.stop();
      await reconciler.stop();
      await opened.value.close();
    },
  };
}

/** A task for `branch`, at `deploy-staging` with its agent done: its next step is the edge's decision. */
export async function taskAtDeployGate(world: World, issueId: string, branch: string): Promise<string> {
  const made = await world.store.createTaskIfAbsent({
    project: 'web',
    issueId,
    repo: REPO,
    branch,
    title: `Task ${issueId}`,
    description: `Do ${issueId}`,
    snapshot: { stage: 'deploy-staging', status: 'active', step: 1, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
    now: Date.now(),
  });
  if (!made.ok) throw made.error;
  const applied = await world.pipeline.apply(made.value.task.id, {
    type: 'job.finished',
    stage: 'deploy-staging',
    exitCode: 0,
  });
  if (!applied.ok) throw applied.error;
  return made.value.task.id;
}

/** Runs the worlds' workers (and reconcilers, when asked) until `done` holds or the time runs out. */
export async function runUntil(
  worlds: readonly World[],
  done: () => Promise<boolean>,
  options: { readonly timeoutMs?: number; readonly reconcile?: boolean } = {},
): Promise<void> {
  for (const w of worlds) {
    w.worker.start();
    if (options.reconcile === true) w.reconciler.start();
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error('the worlds did not settle in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    for (const w of worlds) {
      await w.worker.stop();
      await w.reconciler.stop();
    }
  }
}

/** True when every task is terminal or blocked and no job is queued or running. */
export async function settled(world: World): Promise<boolean> {
  const tasks = (await world.store.listTasks({})).unwrapOr([]);
  const active = (await world.store.listJobs({ statuses: ['queued', 'running'] })).unwrapOr([]);
  return (
    active.length === 0 && tasks.every((t) => ['done', 'failed', 'rejected', 'blocked'].includes(t.snapshot.status))
  );
}

/** A temp root for one case, removed by `cleanup`. */
export function tempRoot(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-adversarial-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
