// Merge gate benchmark: the gate's overhead (lease, fetch, worktree, rebase,
// push, forge merge, cleanup — everything but the test command, which is
// `true`) for a branch 50 commits behind main, on a real bare "origin".
// Every run is a decision pinned by the git pin resolver (its ls-remote is
// timed apart). Prints the median of a few warm runs and the first (cold clone) run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AcquireLease, Lease, LeaseAcquisition, ReleaseLease, RenewLease, Store, Task } from '@conveyor/core';
import { ok } from '@conveyor/core';
import { createGitPinResolver, createMergeGate } from '@conveyor/gates';
import { createLocalGitForge } from '@conveyor/testkit';

const BEHIND = Number(process.env.MERGE_BENCH_BEHIND ?? 50);
const RUNS = Number(process.env.MERGE_BENCH_RUNS ?? 5);
const env: Record<string, string> = {
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.test',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const dir = mkdtempSync(join(tmpdir(), 'conveyor-merge-bench-'));
const origin = join(dir, 'origin.git');
const run = (args: string[], input?: string) =>
  execFileSync('git', args, {
    cwd: origin,
    env: { ...process.env, ...env, GIT_INDEX_FILE: join(dir, 'index') },
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  }).trim();

/** One commit on top of `parent` writing `files`, by plumbing. */
function commit(parent: string | undefined, files: Record<string, string>, message: string): string {
  if (parent === undefined) rmSync(join(dir, 'index'), { force: true });
  else run(['read-tree', parent]);
  const lines = Object.entries(files).map(
    ([name, content]) => `100644 ${run(['hash-object', '-w', '--stdin'], content)}\t${name}`,
  );
  run(['update-index', '--index-info'], `${lines.join('\n')}\n`);
  const tree = run(['write-tree']);
  return run(['commit-tree', tree, ...(parent === undefined ? [] : ['-p', parent]), '-m', message]);
}

/** A minimal in-process lease table (the bench measures git, not a store). */
function leaseStore(): Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease'> {
  const leases = new Map<string, Lease>();
  let token = 0;
  return {
    acquireLease: async (i: AcquireLease) => {
      const cur = leases.get(i.name);
      if (cur && cur.expiresAt > i.now) return ok<LeaseAcquisition>({ acquired: false, current: cur });
      token += 1;
      const lease = { name: i.name, holder: i.holder, token, acquiredAt: i.now, expiresAt: i.now + i.ttlMs };
      leases.set(i.name, lease);
      return ok<LeaseAcquisition>({ acquired: true, lease });
    },
    renewLease: async (i: RenewLease) => {
      const lease = { ...(leases.get(i.name) as Lease), expiresAt: i.now + i.ttlMs };
      leases.set(i.name, lease);
      return ok(lease);
    },
    releaseLease: async (i: ReleaseLease) => ok({ released: leases.delete(i.name) }),
  };
}

execFileSync('git', ['init', '--bare', '--quiet', origin], { env: { ...process.env, ...env } });
const files: Record<string, string> = {};
for (let f = 0; f < 200; f += 1) files[`src/file-${f}.txt`] = `file ${f}\n`.repeat(20);
const base = commit(undefined, files, 'initial');
let tip = base;
for (let i = 0; i < BEHIND; i += 1) tip = commit(tip, { [`src/file-${i}.txt`]: `main change ${i}\n` }, `main ${i}`);
run(['update-ref', 'refs/heads/main', tip]);

const gate = createMergeGate({
  store: leaseStore(),
  forge: createLocalGitForge({ bareRepo: origin, env }),
  remoteUrl: () => origin,
  gitEnv: env,
  settings: { mergeRetestCommand: 'true', mergeWorktreeRoot: join(dir, 'worktrees'), mergeHeadRetries: 0 },
});
const resolvePin = createGitPinResolver({ remoteUrl: () => origin, gitEnv: env });
const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
const times: number[] = [];
const pinTimes: number[] = [];
for (let r = 0; r <= RUNS; r += 1) {
  // a fresh task branch from the old base, 3 commits, BEHIND commits behind main
  run(['update-ref', 'refs/heads/main', tip]);
  let head = base;
  for (let c = 0; c < 3; c += 1)
    head = commit(head, { [`feature/run-${r}-${c}.txt`]: `${r} ${c}\n` }, `task ${r}.${c}`);
  const branch = `task/bench-${r}`;
  run(['update-ref', `refs/heads/${branch}`, head]);
  const task: Task = {
    id: `bench-${r}`,
    project: 'bench',
    issueId: `B-${r}`,
    repo: 'bench/app',
    branch,
    title: `bench ${r}`,
    description: '',
    snapshot: { stage: 'deploy-staging', status: 'gating', step: 1, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
  const pinStarted = performance.now();
  const pin = await resolvePin(task);
  if (!pin.ok) throw pin.error;
  pinTimes.push(performance.now() - pinStarted);
  const started = performance.now();
  const out = await gate.run({
    decision: { decisionId: `dec-${r}`, step: 1, ...pin.value },
    task,
    edge: 'deploy-staging->deploy',
    signal: new AbortController().signal,
    logger,
    now: () => Date.now(),
    readOnly: false,
  });
  const ms = performance.now() - started;
  if (out.status !== 'pass') throw new Error(`run ${r}: ${out.status}: ${out.summary}`);
  times.push(ms);
}
rmSync(dir, { recursive: true, force: true });
const [cold = 0, ...warm] = times;
const sorted = [...warm].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
console.log(`merge gate overhead, branch ${BEHIND} commits behind main, retest \`true\`, 200-file tree:`);
console.log(
  `  median of ${warm.length} warm runs: ${median.toFixed(0)} ms (min ${sorted[0]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms)`,
);
console.log(`  first run (cold local clone): ${cold.toFixed(0)} ms`);
const pins = [...pinTimes].sort((a, b) => a - b);
console.log(
  `  pin resolution (git ls-remote of branch and main): median ${pins[Math.floor(pins.length / 2)]?.toFixed(0)} ms`,
);
