import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeLeaseName, type Task } from '@conveyor/core';
import { createSqliteStore } from '@conveyor/store-sqlite';
import { createLocalGitForge } from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';
import { createGitPinResolver } from '../src/git/pin.js';
import { createMergeGate } from '../src/merge/index.js';
import { GIT_TEST_ENV, gitSync, makeContext, makeTask } from './helpers/git-fixture.js';
import { REPO, runOnTree, runUntilDecided, setup } from './helpers/merge-setup.js';

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
    // each task's decision is pinned once, before any merge: it outlives the
    // deferrals while the others merge and main moves under it
    const resolvePin = createGitPinResolver({ remoteUrl: () => fx.origin, gitEnv: GIT_TEST_ENV });
    const pins = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const pin = await resolvePin(makeTask(`c${i}`, `task/c${i}`));
        if (!pin.ok) throw pin.error;
        return { decisionId: `dec_c${i}`, step: 3, ...pin.value };
      }),
    );
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const gate = makeGate({ mergeDeferMs: 150 }, undefined, `host-${i}`);
        const task: Task = makeTask(`c${i}`, `task/c${i}`);
        const decision = pins[i];
        if (decision === undefined) throw new Error(`no pin for task ${i}`);
        return runUntilDecided((deferrals) =>
          gate.run(makeContext({ ...task, snapshot: { ...task.snapshot, deferrals } }, { decision })),
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
    // every state main was ever in is a tree that passed the retest (fast-forwards, no merge commits)
    for (const commit of newCommits) {
      expect(passed.has(fx.tree(commit)), commit).toBe(true);
      expect(gitSync(fx.origin, 'rev-list', '--parents', '-n', '1', commit).split(' ')).toHaveLength(2);
    }
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
