import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AcquireLease, Forge, GateOutcome, ReleaseLease, RenewLease, Store, Task } from '@conveyor/core';
import { conveyorError, err, parseEnvSettings } from '@conveyor/core';
import { createSqliteStore } from '@conveyor/store-sqlite';
import { createMemoryStore } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createLocalGitForge,
  createMergeGate,
  type MergeSettingsInput,
  mergeLeaseHolder,
  mergeLeaseName,
  mergeSettingsSchema,
  parseMergeSettings,
  releaseMergeLease,
} from '../src/merge/index.js';
import {
  createGitFixture,
  GIT_TEST_ENV,
  type GitFixture,
  gitSync,
  makeContext,
  makeTask,
} from './helpers/git-fixture.js';

const REPO = 'acme/app';
const fixtures: GitFixture[] = [];
afterAll(() => {
  for (const fx of fixtures) fx.cleanup();
});

interface LeaseEvent {
  readonly kind: 'acquire' | 'release';
  readonly holder: string;
  readonly token: number;
}

/** Records every granted acquire and every effective release, in order. */
function trackLeases(store: Store) {
  const events: LeaseEvent[] = [];
  let acquireCalls = 0;
  const tracked = {
    acquireLease: async (input: AcquireLease) => {
      acquireCalls += 1;
      const out = await store.acquireLease(input);
      if (out.ok && out.value.acquired)
        events.push({ kind: 'acquire', holder: input.holder, token: out.value.lease.token });
      return out;
    },
    renewLease: (input: RenewLease) => store.renewLease(input),
    releaseLease: async (input: ReleaseLease) => {
      const out = await store.releaseLease(input);
      if (out.ok && out.value.released)
        events.push({ kind: 'release', holder: input.holder, token: input.token ?? -1 });
      return out;
    },
  };
  return { tracked, events, acquireCalls: () => acquireCalls };
}

function setup(
  initial: Record<string, string>,
  settings: Partial<MergeSettingsInput> & { mergeRetestCommand: string },
  retestEnv: Record<string, string> = {},
) {
  const fx = createGitFixture(initial, 'conveyor-merge-');
  fixtures.push(fx);
  const store = createMemoryStore();
  const leases = trackLeases(store);
  const forge = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV });
  const makeGate = (over: Partial<MergeSettingsInput> = {}, forgeOverride: Forge = forge, hostId = 'host-a') =>
    createMergeGate({
      store: leases.tracked,
      forge: forgeOverride,
      remoteUrl: () => fx.origin,
      hostId,
      gitEnv: GIT_TEST_ENV,
      retestEnv: { ...GIT_TEST_ENV, ...retestEnv },
      settings: {
        mergeWorktreeRoot: join(fx.root, 'worktrees'),
        mergeDeferMs: 10,
        mergeLeaseTtlMs: 5_000,
        mergeHeadRetries: 0,
        ...settings,
        ...over,
      },
    });
  return { fx, store, leases, forge, gate: makeGate(), makeGate };
}

/** Runs the check script on `ref`'s tree in a fresh checkout; returns its exit code. */
function runOnTree(fx: GitFixture, ref: string, command: string, env: Record<string, string> = {}): number {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-tree-'));
  try {
    gitSync(fx.root, 'clone', '--quiet', '--no-checkout', fx.origin, dir);
    gitSync(dir, 'checkout', '--quiet', '--detach', `origin/${ref}`);
    execFileSync('sh', ['-c', command], {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, ...GIT_TEST_ENV, ...env },
    });
    return 0;
  } catch (thrown) {
    return (thrown as { status?: number }).status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runUntilDecided(run: (deferrals: number) => Promise<GateOutcome>): Promise<GateOutcome> {
  for (let deferrals = 0; ; deferrals += 1) {
    const out = await run(deferrals);
    if (out.status !== 'defer') return out;
    await new Promise((r) => setTimeout(r, out.deferMs ?? 10));
  }
}

const SUM_CHECK = 'echo "sum is $(( $(cat a.txt) + $(cat b.txt) ))"; test $(( $(cat a.txt) + $(cat b.txt) )) -le 1';

// real git on a shared 2-core machine: generous timeouts, no timing assertions
describe('merge gate on real git', { timeout: 60_000 }, () => {
  it('rebases a branch that is behind, retests, pushes, merges, releases the lease; a re-run does nothing', async () => {
    const { fx, store, leases, forge, gate } = setup(
      { 'a.txt': '0\n', 'b.txt': '0\n' },
      { mergeRetestCommand: SUM_CHECK },
    );
    fx.commit('task/one', { 'one.txt': 'one\n' });
    fx.commit('main', { 'main.txt': 'main moved\n' });
    const task = makeTask('t1', 'task/one');

    const out = await gate.run(makeContext(task));
    expect(out.status, out.summary).toBe('pass');
    expect(fx.show('main', 'one.txt')).toBe('one');
    expect(fx.show('main', 'main.txt')).toBe('main moved');
    // the branch on origin is the rebased head, and main's tree is that head's tree
    const branchHead = fx.head('task/one') ?? '';
    expect(gitSync(fx.origin, 'merge-base', '--is-ancestor', `${branchHead}~1`, 'main')).toBe('');
    expect(fx.tree('main')).toBe(fx.tree(branchHead));
    const prs = await forge.listPullRequests(REPO);
    expect(prs.map((p) => [p.number, p.merged, p.headSha])).toEqual([[1, true, branchHead]]);
    expect((await store.getLease(mergeLeaseName(REPO))).unwrapOr('x')).toBeUndefined();
    expect(leases.events).toEqual([
      { kind: 'acquire', holder: mergeLeaseHolder('host-a', 't1'), token: 1 },
      { kind: 'release', holder: mergeLeaseHolder('host-a', 't1'), token: 1 },
    ]);

    const mainBefore = fx.head('main');
    const calls = leases.acquireCalls();
    const again = await gate.run(makeContext(task));
    expect(again.status).toBe('pass');
    expect(again.summary).toMatch(/already merged/);
    expect(leases.acquireCalls()).toBe(calls);
    expect(fx.head('main')).toBe(mainBefore);
  });

  it('two branches green alone that break each other: the second is rebased, fails its retest, main stays green', async () => {
    const { fx, gate } = setup({ 'a.txt': '0\n', 'b.txt': '0\n' }, { mergeRetestCommand: SUM_CHECK });
    fx.commit('task/a', { 'a.txt': '1\n' });
    const bSha = fx.commit('task/b', { 'b.txt': '1\n' });
    expect(runOnTree(fx, 'task/a', SUM_CHECK)).toBe(0);
    expect(runOnTree(fx, 'task/b', SUM_CHECK)).toBe(0);

    const first = await gate.run(makeContext(makeTask('ta', 'task/a')));
    expect(first.status, first.summary).toBe('pass');
    const mainAfterA = fx.head('main');

    const second = await gate.run(makeContext(makeTask('tb', 'task/b')));
    expect(second.status).toBe('fail');
    expect(second.summary).toMatch(/retest of task\/b rebased on main exited 1/);
    expect(second.findings?.[0]?.rule).toBe('merge/retest-failed');
    expect(second.findings?.[0]?.message).toContain('sum is 2');

    expect(fx.head('main')).toBe(mainAfterA);
    expect(fx.head('task/b')).toBe(bSha);
    expect(runOnTree(fx, 'main', SUM_CHECK)).toBe(0);
  });

  it('a rebase conflict fails with the conflicting files, releases the lease and leaves main alone', async () => {
    const { fx, store, gate } = setup({ 'a.txt': '0\n', 'b.txt': '0\n' }, { mergeRetestCommand: 'true' });
    const branchSha = fx.commit('task/c', { 'a.txt': 'branch\n' });
    const mainSha = fx.commit('main', { 'a.txt': 'main\n' });
    const out = await gate.run(makeContext(makeTask('tc', 'task/c')));
    expect(out.status).toBe('fail');
    expect(out.findings).toEqual([
      {
        rule: 'merge/rebase-conflict',
        file: 'a.txt',
        message: 'a.txt conflicts with the current main',
        severity: 'error',
      },
    ]);
    expect(fx.head('main')).toBe(mainSha);
    expect(fx.head('task/c')).toBe(branchSha);
    expect((await store.getLease(mergeLeaseName(REPO))).unwrapOr('x')).toBeUndefined();
  });

  it('defers while another holder has the lease, and fails once the deferral cap is reached', async () => {
    const { fx, store, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/d', { 'd.txt': 'd\n' });
    const held = await store.acquireLease({
      name: mergeLeaseName(REPO),
      holder: 'other-host/t9',
      ttlMs: 60_000,
      now: Date.now(),
    });
    expect(held.ok && held.value.acquired).toBe(true);
    const gate = makeGate({ mergeDeferMs: 1234, mergeMaxDeferrals: 3 });

    const deferred = await gate.run(makeContext(makeTask('td', 'task/d')));
    expect(deferred).toMatchObject({ status: 'defer', deferMs: 1234 });
    expect(deferred.summary).toContain('other-host/t9');

    const capped = await gate.run(
      makeContext(makeTask('td', 'task/d', { snapshot: { ...makeTask('x', 'y').snapshot, deferrals: 3 } })),
    );
    expect(capped.status).toBe('fail');
    const lease = await store.getLease(mergeLeaseName(REPO));
    expect(lease.ok && lease.value?.holder).toBe('other-host/t9');

    // only the holder can release it
    expect((await releaseMergeLease(store, REPO, mergeLeaseHolder('host-a', 'td'))).unwrapOr(undefined)).toEqual({
      released: false,
    });
    expect((await releaseMergeLease(store, REPO, 'other-host/t9')).unwrapOr(undefined)).toEqual({ released: true });
    const after = await gate.run(makeContext(makeTask('td', 'task/d')));
    expect(after.status, after.summary).toBe('pass');
  });

  it('someone pushes to the task branch during the retest: the push is refused, the gate fails safe, their commit stays', async () => {
    const fxInit = { 'a.txt': '0\n' };
    const { fx, makeGate } = setup(fxInit, { mergeRetestCommand: 'true' });
    fx.commit('task/e', { 'e.txt': 'mine\n' });
    fx.commit('main', { 'm.txt': 'main moved\n' });
    // their commit, prepared now and pushed by the retest command itself
    gitSync(fx.work, 'fetch', '--quiet', 'origin', '+refs/heads/*:refs/remotes/origin/*');
    gitSync(fx.work, 'checkout', '--quiet', '--detach', 'origin/task/e');
    writeFileSync(join(fx.work, 'e.txt'), 'theirs\n');
    gitSync(fx.work, 'commit', '--quiet', '-am', 'their change');
    const theirs = gitSync(fx.work, 'rev-parse', 'HEAD');
    const mainBefore = fx.head('main');
    const gate = makeGate({
      mergeRetestCommand: `git -C '${fx.work}' push --quiet origin ${theirs}:refs/heads/task/e && echo pushed`,
    });

    const out = await gate.run(makeContext(makeTask('te', 'task/e')));
    expect(out.status).toBe('fail');
    expect(out.summary).toMatch(/changed on origin while the gate ran; nothing was overwritten/);
    expect(fx.head('task/e')).toBe(theirs);
    expect(fx.head('main')).toBe(mainBefore);
  });

  it('a branch that needs no rebase but moves before the merge is refused by the forge (head pinned)', async () => {
    const { fx, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/f', { 'f.txt': 'mine\n' });
    gitSync(fx.work, 'fetch', '--quiet', 'origin', '+refs/heads/*:refs/remotes/origin/*');
    gitSync(fx.work, 'checkout', '--quiet', '--detach', 'origin/task/f');
    writeFileSync(join(fx.work, 'f.txt'), 'theirs\n');
    gitSync(fx.work, 'commit', '--quiet', '-am', 'their change');
    const theirs = gitSync(fx.work, 'rev-parse', 'HEAD');
    const mainBefore = fx.head('main');
    const gate = makeGate({
      mergeRetestCommand: `git -C '${fx.work}' push --quiet origin ${theirs}:refs/heads/task/f`,
    });
    const out = await gate.run(makeContext(makeTask('tf', 'task/f')));
    expect(out.status).toBe('fail');
    expect(out.findings?.[0]?.rule).toBe('merge/branch-moved');
    expect(fx.head('main')).toBe(mainBefore);
    expect(fx.head('task/f')).toBe(theirs);
  });

  it('a re-run at a head already retested green skips the retest', async () => {
    const counter = join(mkdtempSync(join(tmpdir(), 'conveyor-count-')), 'runs');
    writeFileSync(counter, '');
    const { fx, forge, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: `echo run >> '${counter}'` });
    fx.commit('task/g', { 'g.txt': 'g\n' });
    fx.commit('main', { 'm.txt': 'moved\n' });
    let failMerge = true;
    const flaky: Forge = {
      ...forge,
      mergePullRequest: async (repo, number, input) => {
        if (failMerge) {
          failMerge = false;
          return err(conveyorError('@conveyor/gates', 'network', 'forge unreachable'));
        }
        return forge.mergePullRequest(repo, number, input);
      },
    };
    const gate = makeGate({}, flaky);
    const first = await gate.run(makeContext(makeTask('tg', 'task/g')));
    expect(first.status).toBe('error');
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
    const second = await gate.run(makeContext(makeTask('tg', 'task/g')));
    expect(second.status, second.summary).toBe('pass');
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
    expect(fx.show('main', 'g.txt')).toBe('g');
  });

  it('read-only mode only asks the forge, and invalid settings answer error', async () => {
    const { fx, gate, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/h', { 'h.txt': 'h\n' });
    const task = makeTask('th', 'task/h');
    const mainBefore = fx.head('main');
    const ro = await gate.run(makeContext(task, { readOnly: true }));
    expect(ro.status).toBe('fail');
    expect(fx.head('main')).toBe(mainBefore);
    expect((await gate.run(makeContext(task))).status).toBe('pass');
    expect((await gate.run(makeContext(task, { readOnly: true }))).status).toBe('pass');

    expect(gate.timeoutMs).toBe(600_000 + 3 * 120_000);
    const bad = makeGate({ mergeLeaseTtlMs: -1, mergeRetestCommand: '' });
    expect(bad.timeoutMs).toBeUndefined();
    const out = await bad.run(makeContext(task));
    expect(out.status).toBe('error');
    expect(out.summary).toMatch(/mergeRetestCommand/);
    expect(out.summary).toMatch(/mergeLeaseTtlMs/);
    const parsed = parseMergeSettings({ mergeRetestCommand: 'npm test', mergeWorktreeRoot: '/tmp/x' });
    expect(parsed.ok && parsed.value).toMatchObject({
      mergeBaseBranch: 'main',
      mergeLeaseTtlMs: 120_000,
      mergeMethod: 'merge',
    });
    const fromEnv = parseEnvSettings(mergeSettingsSchema, {
      ORCH_MERGE_RETEST_COMMAND: 'npm test',
      ORCH_MERGE_WORKTREE_ROOT: '/srv/wt',
      ORCH_MERGE_LEASE_TTL_MS: '5000',
      ORCH_MERGE_METHOD: 'fast-forward-only',
    });
    expect(fromEnv.ok && fromEnv.value.settings).toMatchObject({
      mergeRetestCommand: 'npm test',
      mergeLeaseTtlMs: 5000,
      mergeMethod: 'fast-forward-only',
    });
  });

  it('a gate aborted mid-retest (its timeout) stops the retest, pushes and merges nothing, and releases the lease', async () => {
    const { fx, store, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'sleep 20' });
    const branchSha = fx.commit('task/slow', { 's.txt': 's\n' });
    fx.commit('main', { 'm.txt': 'moved\n' });
    const mainBefore = fx.head('main');
    const controller = new AbortController();
    const gate = makeGate();
    const running = gate.run(makeContext(makeTask('ts', 'task/slow'), { signal: controller.signal }));
    setTimeout(() => controller.abort(), 1500);
    const out = await running;
    expect(out.status).not.toBe('pass');
    expect(fx.head('main')).toBe(mainBefore);
    expect(fx.head('task/slow')).toBe(branchSha);
    expect((await store.getLease(mergeLeaseName(REPO))).unwrapOr('x')).toBeUndefined();
  });

  it('a host killed while holding the lease: the lease is reclaimed after its TTL, the gate re-runs and finishes idempotently', async () => {
    const { fx, store, leases, gate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/k', { 'k.txt': 'k\n' });
    const dead = await store.acquireLease({
      name: mergeLeaseName(REPO),
      holder: 'dead-host/tk',
      ttlMs: 300,
      now: Date.now(),
    });
    expect(dead.ok && dead.value.acquired).toBe(true);
    const task = makeTask('tk', 'task/k');

    expect((await gate.run(makeContext(task))).status).toBe('defer');
    await new Promise((r) => setTimeout(r, 350));
    const out = await gate.run(makeContext(task));
    expect(out.status, out.summary).toBe('pass');
    expect(fx.show('main', 'k.txt')).toBe('k');
    expect(leases.events).toEqual([
      { kind: 'acquire', holder: mergeLeaseHolder('host-a', 'tk'), token: 2 },
      { kind: 'release', holder: mergeLeaseHolder('host-a', 'tk'), token: 2 },
    ]);
    const mainAfter = fx.head('main');
    const again = await gate.run(makeContext(task));
    expect(again.status).toBe('pass');
    expect(again.summary).toMatch(/already merged/);
    expect(fx.head('main')).toBe(mainAfter);
    expect(leases.events).toHaveLength(2);
  });
});

const HOLDER_SCRIPT = `
import { createSqliteStore } from '@conveyor/store-sqlite';
const [path, name, holder, ttl] = process.argv.slice(2);
const store = createSqliteStore({ path });
if (!store.ok) { console.log(JSON.stringify({ error: store.error.message })); process.exit(2); }
const got = await store.value.acquireLease({ name, holder, ttlMs: Number(ttl), now: Date.now() });
console.log(JSON.stringify(got.ok ? got.value : { error: got.error.message }));
setInterval(() => undefined, 1000);
`;

describe('merge gate with a SQLite store shared with a killed host', { timeout: 90_000 }, () => {
  it('a real process holding the lease is SIGKILLed: the lease expires, the gate re-runs and finishes idempotently', async () => {
    const { fx } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/z', { 'z.txt': 'z\n' });
    const dbPath = join(fx.root, 'conveyor.db');
    const script = join(fx.root, 'hold-lease.mts');
    writeFileSync(script, HOLDER_SCRIPT);
    const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, dbPath, mergeLeaseName(REPO), 'killed-host/tz', '1500'],
      {
        cwd: repoRoot,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const firstLine = await new Promise<string>((resolve, reject) => {
      let out = '';
      let errText = '';
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      child.stderr?.on('data', (c: Buffer) => {
        errText += c.toString();
      });
      child.on('exit', (code) => reject(new Error(`holder exited ${code}: ${errText}`)));
    });
    const held = JSON.parse(firstLine) as { acquired?: boolean; lease?: { token: number } };
    expect(held.acquired).toBe(true);
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const opened = createSqliteStore({ path: dbPath });
    if (!opened.ok) throw opened.error;
    const store = opened.value;
    try {
      const gate = createMergeGate({
        store,
        forge: createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV }),
        remoteUrl: () => fx.origin,
        hostId: 'host-b',
        gitEnv: GIT_TEST_ENV,
        settings: { mergeRetestCommand: 'true', mergeWorktreeRoot: join(fx.root, 'wt-b'), mergeDeferMs: 100 },
      });
      const task = makeTask('tz', 'task/z');
      const busy = await gate.run(makeContext(task));
      // the dead holder's lease may already have expired on a slow machine; either way it never blocks for good
      if (busy.status === 'defer') expect(busy.summary).toContain('killed-host/tz');
      const done = await runUntilDecided(() => gate.run(makeContext(task)));
      expect(done.status, done.summary).toBe('pass');
      expect(fx.show('main', 'z.txt')).toBe('z');
      const lease = await store.getLease(mergeLeaseName(REPO));
      expect(lease.ok && lease.value).toBeUndefined();
      const mainAfter = fx.head('main');
      const again = await gate.run(makeContext(task));
      expect(again.summary).toMatch(/already merged/);
      expect(fx.head('main')).toBe(mainAfter);
    } finally {
      await store.close();
    }
  });
});

describe('merge gate under concurrency', { timeout: 180_000 }, () => {
  it('N callers merging N overlapping branches: main only receives retested trees, the lease is never shared', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'conveyor-conc-'));
    const passedLog = join(scratch, 'passed');
    const overlapLog = join(scratch, 'overlap');
    writeFileSync(passedLog, '');
    writeFileSync(overlapLog, '');
    const check = [
      "const fs = require('node:fs');",
      "const cp = require('node:child_process');",
      'const lock = process.env.CRIT_LOCK;',
      "try { fs.mkdirSync(lock); } catch { fs.appendFileSync(process.env.OVERLAP_LOG, 'overlap\\n'); }",
      "const lines = fs.readFileSync('shared.txt', 'utf8').trim().split('\\n');",
      "let green = lines.length === 30 && !(fs.existsSync('f1.txt') && fs.existsSync('f4.txt'));",
      "if (green) fs.appendFileSync(process.env.PASSED_LOG, cp.execFileSync('git', ['rev-parse', 'HEAD^{tree}']).toString());",
      'setTimeout(() => { fs.rmdirSync(lock); process.exit(green ? 0 : 1); }, 20);',
    ].join('\n');
    const shared = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const { fx, leases, makeGate } = setup(
      { 'shared.txt': `${shared}\n`, 'check.cjs': `${check}\n` },
      { mergeRetestCommand: 'node check.cjs' },
      { CRIT_LOCK: join(scratch, 'lock'), PASSED_LOG: passedLog, OVERLAP_LOG: overlapLog },
    );
    const start = fx.head('main') ?? '';
    const n = 5;
    for (let i = 0; i < n; i += 1) {
      const lines = shared.split('\n');
      lines[i * 5] = `line ${i * 5} edited by branch ${i}`;
      fx.commit(`task/c${i}`, { 'shared.txt': `${lines.join('\n')}\n`, [`f${i}.txt`]: `${i}\n` });
    }
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const gate = makeGate({ mergeMaxDeferrals: 10_000, mergeDeferMs: 150 }, undefined, `host-${i}`);
        const task: Task = makeTask(`c${i}`, `task/c${i}`);
        return runUntilDecided((deferrals) =>
          gate.run(makeContext({ ...task, snapshot: { ...task.snapshot, deferrals } })),
        );
      }),
    );
    const passed = new Set(readFileSync(passedLog, 'utf8').split('\n').filter(Boolean));
    // f1 and f4 break each other: exactly one of them fails, everything else merges
    expect(outcomes.filter((o) => o.status === 'pass')).toHaveLength(n - 1);
    expect(outcomes.filter((o) => o.status === 'fail')).toHaveLength(1);

    const chain = fx.firstParents('main');
    const newCommits = chain.slice(0, chain.indexOf(start));
    expect(newCommits).toHaveLength(n - 1);
    for (const commit of newCommits) expect(passed.has(fx.tree(commit)), commit).toBe(true);
    const verify = join(scratch, 'verify');
    expect(
      runOnTree(fx, 'main', 'node check.cjs', { CRIT_LOCK: `${verify}-lock`, PASSED_LOG: verify, OVERLAP_LOG: verify }),
    ).toBe(0);

    expect(readFileSync(overlapLog, 'utf8')).toBe('');
    // acquire/release strictly alternate, by the same holder with the same token, tokens growing
    for (let i = 0; i < leases.events.length; i += 2) {
      const acquire = leases.events[i];
      const release = leases.events[i + 1];
      expect(acquire?.kind).toBe('acquire');
      expect(release).toEqual({ kind: 'release', holder: acquire?.holder, token: acquire?.token });
      if (i > 0) expect(acquire?.token).toBeGreaterThan(leases.events[i - 2]?.token ?? 0);
    }
    rmSync(scratch, { recursive: true, force: true });
  });
});
