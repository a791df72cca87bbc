import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Forge } from '@conveyor/core';
import { conveyorError, err, mergeLeaseHolder, mergeLeaseName, parseEnvSettings } from '@conveyor/core';
import { describe, expect, it } from 'vitest';
import { mergeSettingsSchema, parseMergeSettings, releaseMergeLease } from '../src/merge/index.js';
import { gitSync, makeContext, makeTask } from './helpers/git-fixture.js';
import { REPO, runOnTree, setup } from './helpers/merge-setup.js';

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

  it('defers while another holder has the lease, however often it deferred (the stage machine owns the cap)', async () => {
    const { fx, store, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/d', { 'd.txt': 'd\n' });
    const held = await store.acquireLease({
      name: mergeLeaseName(REPO),
      holder: 'other-host/t9',
      ttlMs: 60_000,
      now: Date.now(),
    });
    expect(held.ok && held.value.acquired).toBe(true);
    const gate = makeGate({ mergeDeferMs: 1234 });

    const deferred = await gate.run(makeContext(makeTask('td', 'task/d')));
    expect(deferred).toMatchObject({ status: 'defer', deferMs: 1234 });
    expect(deferred.summary).toContain('other-host/t9');

    const often = await gate.run(
      makeContext(makeTask('td', 'task/d', { snapshot: { ...makeTask('x', 'y').snapshot, deferrals: 1000 } })),
    );
    expect(often).toMatchObject({ status: 'defer', deferMs: 1234 });
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

  it('someone pushes to the task branch during the retest: nothing is pushed over it, the decision defers, their commit stays', async () => {
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
    expect(out.status).toBe('defer');
    expect(out.summary).toMatch(
      /branch task\/e moved from [0-9a-f]{12} to [0-9a-f]{12}; a new decision starts on the new head/,
    );
    expect(fx.head('task/e')).toBe(theirs);
    expect(fx.head('main')).toBe(mainBefore);
  });

  it('a branch that needs no rebase but moves during the retest: the decision defers, nothing is merged', async () => {
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
    expect(out.status).toBe('defer');
    expect(out.summary).toContain(`to ${theirs.slice(0, 12)}`);
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

    const mainNow = fx.head('main');
    const onMain = await gate.run(makeContext(makeTask('tm', 'main')));
    expect(onMain.status).toBe('error');
    expect(fx.head('main')).toBe(mainNow);
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
      mergeMethod: 'fast-forward-only',
      mergeBaseRetries: 2,
    });
    expect(parsed.ok && 'mergeMaxDeferrals' in parsed.value).toBe(false);
    const fromEnv = parseEnvSettings(mergeSettingsSchema, {
      ORCH_MERGE_RETEST_COMMAND: 'npm test',
      ORCH_MERGE_WORKTREE_ROOT: '/srv/wt',
      ORCH_MERGE_LEASE_TTL_MS: '5000',
      ORCH_MERGE_METHOD: 'merge',
    });
    expect(fromEnv.ok && fromEnv.value.settings).toMatchObject({
      mergeRetestCommand: 'npm test',
      mergeLeaseTtlMs: 5000,
      mergeMethod: 'merge',
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
