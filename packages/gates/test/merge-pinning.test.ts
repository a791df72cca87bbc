import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGiteaForge } from '@conveyor/adapter-gitea';
import {
  conveyorError,
  type DecisionPin,
  err,
  type Forge,
  type Gate,
  type GateOutcome,
  mergeLeaseName,
  type Store,
  type Task,
} from '@conveyor/core';
import { createSqliteStore } from '@conveyor/store-sqlite';
import { type FakeGitea, startFakeGitea } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createGitPinResolver } from '../src/git/pin.js';
import { withTaskCheckout } from '../src/git/task-checkout.js';
import { createMergeGate } from '../src/merge/merge-gate.js';
import { GIT_TEST_ENV, gitSync, makeContext, makeTask } from './helpers/git-fixture.js';
import { REPO, runOnTree, setup } from './helpers/merge-setup.js';

// real git on a shared 2-core machine: generous timeouts, no timing assertions
const SUM_CHECK = 'echo "sum is $(( $(cat a.txt) + $(cat b.txt) ))"; test $(( $(cat a.txt) + $(cat b.txt) )) -le 1';

let decisions = 0;
/** A decision pinned to what the branch and main are on origin right now (as the pipeline's resolvePin does). */
async function decide(origin: string, task: Pick<Task, 'id' | 'repo' | 'branch'>): Promise<DecisionPin> {
  const resolved = await createGitPinResolver({ remoteUrl: () => origin, gitEnv: GIT_TEST_ENV })(task);
  if (!resolved.ok) throw resolved.error;
  decisions += 1;
  return { decisionId: `dec_${decisions}`, step: 3, ...resolved.value };
}

/** A "security scan": fails when the checkout it is given holds leak.txt; records the commit it judged. */
function fakeScan(judged: string[]): Gate {
  return {
    id: 'security',
    run: async (ctx) => {
      const head = gitSync(ctx.workdir ?? '.', 'rev-parse', 'HEAD');
      judged.push(head);
      const files = gitSync(ctx.workdir ?? '.', 'ls-files');
      return files.split('\n').includes('leak.txt')
        ? { status: 'fail', summary: 'a secret in leak.txt' }
        : { status: 'pass', summary: `clean at ${head.slice(0, 12)}` };
    },
  };
}

describe('pinning: every gate of a decision judges and merges exactly the decided head', { timeout: 90_000 }, () => {
  it('the pin resolver reads the task branch and the default branch; a missing branch is a clear error', async () => {
    const { fx } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    const head = fx.commit('task/p', { 'p.txt': 'p\n' });
    const resolve = createGitPinResolver({ remoteUrl: () => fx.origin, gitEnv: GIT_TEST_ENV });
    const pin = await resolve(makeTask('tp', 'task/p'));
    expect(pin.ok && pin.value).toEqual({ headSha: head, baseSha: fx.head('main'), baseBranch: 'main' });

    const missing = await resolve(makeTask('tq', 'task/gone'));
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.error.code).toBe('not_found');
      expect(missing.error.message).toContain('task branch task/gone is not on acme/app');
    }
    const onBase = await resolve(makeTask('tr', 'main'));
    expect(!onBase.ok && onBase.error.code).toBe('invalid_input');
    const noBase = await createGitPinResolver({
      remoteUrl: () => fx.origin,
      baseBranch: 'trunk',
      gitEnv: GIT_TEST_ENV,
    })(makeTask('tp', 'task/p'));
    expect(!noBase.ok && noBase.error.message).toContain('default branch trunk is not on acme/app');
    const aborted = await resolve(makeTask('tp', 'task/p'), AbortSignal.abort());
    expect(aborted.ok).toBe(false);
  });

  it('a push to the task branch between the security scan and the merge: nothing unscanned reaches main; the new head is what a new decision judges', async () => {
    const { fx, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/leak', { 'feature.txt': 'clean\n' });
    const task = makeTask('tl', 'task/leak');
    const judged: string[] = [];
    const scan = withTaskCheckout(fakeScan(judged), {
      root: join(fx.root, 'checkouts'),
      remoteUrl: () => fx.origin,
      gitEnv: GIT_TEST_ENV,
    });
    const merge = makeGate();
    const mainBefore = fx.head('main') ?? '';

    const first = await decide(fx.origin, task);
    const scanned = await scan.run(makeContext(task, { decision: first }));
    expect(scanned.status, scanned.summary).toBe('pass');
    expect(judged).toEqual([first.headSha]);

    // the agent pushes a secret after the scan passed
    const leaky = fx.commit('task/leak', { 'leak.txt': 'token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n' });
    const merged = await merge.run(makeContext(task, { decision: first }));
    expect(merged.status).toBe('defer');
    expect(merged.summary).toBe(
      `branch task/leak moved from ${first.headSha.slice(0, 12)} to ${leaky.slice(0, 12)}; a new decision starts on the new head`,
    );
    expect(fx.head('main')).toBe(mainBefore);
    expect(fx.head('task/leak')).toBe(leaky);
    // a gate of the old decision that runs after the push judges nothing
    const late = await scan.run(makeContext(task, { decision: first }));
    expect(late.status).toBe('defer');
    expect(judged).toHaveLength(1);

    // the new decision judges the new head: the scan sees the secret and stops the edge
    const second = await decide(fx.origin, task);
    expect(second.headSha).toBe(leaky);
    const rescanned = await scan.run(makeContext(task, { decision: second }));
    expect(rescanned.status).toBe('fail');
    expect(judged).toEqual([first.headSha, leaky]);
    expect(gitSync(fx.origin, 'ls-tree', '-r', '--name-only', 'main')).not.toContain('leak.txt');
  });

  for (const method of ['fast-forward-only', 'merge'] as const) {
    it(`a hotfix lands on main after the retest (${method}): the gate retests on the new main and main is never red`, async () => {
      const { fx, forge, makeGate } = setup({ 'a.txt': '0\n', 'b.txt': '0\n' }, { mergeRetestCommand: 'true' });
      fx.commit('task/a', { 'a.txt': '1\n' });
      const main0 = fx.head('main') ?? '';
      const hotfix = fx.commit('hotfix', { 'b.txt': '1\n' }, 'hotfix', 'main');
      const mark = join(fx.root, 'hotfix-landed');
      // the first retest is green on main0; while it runs, the hotfix lands on main
      const retest = `if [ ! -e '${mark}' ]; then touch '${mark}'; git --git-dir='${fx.origin}' update-ref refs/heads/main ${hotfix} ${main0}; fi; ${SUM_CHECK}`;
      const gate = makeGate({ mergeRetestCommand: retest, mergeMethod: method });
      const task = makeTask('ta', 'task/a');
      const out = await gate.run(makeContext(task, { decision: await decide(fx.origin, task) }));
      // retested again on main + hotfix: a=1, b=1 is red → the task fails, main keeps the hotfix only
      expect(out.status, out.summary).toBe('fail');
      expect(out.findings?.[0]?.message).toContain('sum is 2');
      expect(fx.head('main')).toBe(hotfix);
      expect(runOnTree(fx, 'main', SUM_CHECK)).toBe(0);
      expect((await forge.listPullRequests(REPO)).filter((p) => p.merged)).toHaveLength(0);
    });
  }

  it('a compatible hotfix after the retest: retested again on the new main, and main receives exactly that tree', async () => {
    const { fx, makeGate } = setup({ 'a.txt': '0\n', 'b.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/c', { 'c.txt': 'c\n' });
    const main0 = fx.head('main') ?? '';
    const hotfix = fx.commit('hotfix', { 'h.txt': 'h\n' }, 'hotfix', 'main');
    const mark = join(fx.root, 'landed');
    const trees = join(fx.root, 'tested-trees');
    writeFileSync(trees, '');
    const retest = `git rev-parse HEAD^{tree} >> '${trees}'; if [ ! -e '${mark}' ]; then touch '${mark}'; git --git-dir='${fx.origin}' update-ref refs/heads/main ${hotfix} ${main0}; fi`;
    const task = makeTask('tc', 'task/c');
    const out = await makeGate({ mergeRetestCommand: retest }).run(
      makeContext(task, { decision: await decide(fx.origin, task) }),
    );
    expect(out.status, out.summary).toBe('pass');
    const tested = readFileSync(trees, 'utf8').trim().split('\n');
    expect(tested).toHaveLength(2);
    expect(fx.tree('main')).toBe(tested[1]);
    expect(fx.show('main', 'h.txt')).toBe('h');
    expect(fx.show('main', 'c.txt')).toBe('c');
    // fast-forward: main's parent is the hotfix, no merge commit of untested combinations
    expect(gitSync(fx.origin, 'rev-parse', 'main~1')).toBe(hotfix);
  });

  it('main keeps moving after every retest: past mergeBaseRetries the gate defers and merges nothing', async () => {
    const { fx, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/m', { 'm.txt': 'm\n' });
    // every retest lands one more commit on main
    const retest = `git --git-dir='${fx.origin}' update-ref refs/heads/main $(git --git-dir='${fx.origin}' commit-tree main^{tree} -p main -m moved)`;
    const task = makeTask('tm', 'task/m');
    const out = await makeGate({ mergeRetestCommand: retest, mergeBaseRetries: 1 }).run(
      makeContext(task, { decision: await decide(fx.origin, task) }),
    );
    expect(out.status).toBe('defer');
    expect(out.summary).toMatch(/main moved 2 time\(s\) after the retest/);
    expect(gitSync(fx.origin, 'ls-tree', '-r', '--name-only', 'main')).not.toContain('m.txt');
  });

  it('a hotfix in the instant before the forge merges: fast-forward-only refuses it, the gate retests on the new main', async () => {
    const { fx, forge, makeGate } = setup({ 'a.txt': '0\n', 'b.txt': '0\n' }, { mergeRetestCommand: SUM_CHECK });
    fx.commit('task/i', { 'a.txt': '1\n' });
    const main0 = fx.head('main') ?? '';
    const hotfix = fx.commit('hotfix', { 'b.txt': '1\n' }, 'hotfix', 'main');
    let raced = false;
    const racing: Forge = {
      ...forge,
      mergePullRequest: async (repo, number, input) => {
        if (!raced) {
          raced = true;
          gitSync(fx.origin, 'update-ref', 'refs/heads/main', hotfix, main0);
        }
        return forge.mergePullRequest(repo, number, input);
      },
    };
    const task = makeTask('ti', 'task/i');
    const out = await makeGate({}, racing).run(makeContext(task, { decision: await decide(fx.origin, task) }));
    expect(raced).toBe(true);
    expect(out.status, out.summary).toBe('fail');
    expect(out.findings?.[0]?.rule).toBe('merge/retest-failed');
    expect(fx.head('main')).toBe(hotfix);
    expect(runOnTree(fx, 'main', SUM_CHECK)).toBe(0);
  });

  it('method merge: a hotfix after the push and before the merge is caught by the check right before the merge', async () => {
    const { fx, forge, makeGate } = setup({ 'a.txt': '0\n', 'b.txt': '0\n' }, { mergeRetestCommand: SUM_CHECK });
    fx.commit('task/j', { 'a.txt': '1\n' });
    fx.commit('main', { 'm.txt': 'moved\n' });
    const main0 = fx.head('main') ?? '';
    const hotfix = fx.commit('hotfix', { 'b.txt': '1\n' }, 'hotfix', 'main');
    let opened = 0;
    const racing: Forge = {
      ...forge,
      createPullRequest: async (repo, input) => {
        opened += 1;
        // the gate has pushed its retested head; a hotfix lands before it merges
        gitSync(fx.origin, 'update-ref', 'refs/heads/main', hotfix, main0);
        return forge.createPullRequest(repo, input);
      },
    };
    const task = makeTask('tj', 'task/j');
    const out = await makeGate({ mergeMethod: 'merge' }, racing).run(
      makeContext(task, { decision: await decide(fx.origin, task) }),
    );
    expect(opened).toBe(1);
    expect(out.status, out.summary).toBe('fail');
    expect(out.findings?.[0]?.message).toContain('sum is 2');
    expect(fx.head('main')).toBe(hotfix);
    expect(runOnTree(fx, 'main', SUM_CHECK)).toBe(0);
    expect((await forge.listPullRequests(REPO)).filter((p) => p.merged)).toHaveLength(0);
  });

  it('merged, rolled back, fixed: the fix reaches main; an older merge of the branch is not "already merged"', async () => {
    const { fx, forge, gate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/r', { 'r.txt': 'first\n' });
    fx.commit('main', { 'other.txt': 'moved\n' });
    const task = makeTask('tr', 'task/r');
    const first = await gate.run(makeContext(task, { decision: await decide(fx.origin, task) }));
    expect(first.status, first.summary).toBe('pass');
    const rebased = fx.head('task/r') ?? '';
    expect(fx.head('main')).toBe(rebased);

    // a later gate rolled the task back; the developer pushes a fix on the branch
    const fix = fx.commit('task/r', { 'r.txt': 'fixed\n' });
    const fixed = await decide(fx.origin, task);
    expect(fixed.headSha).toBe(fix);
    const second = await gate.run(makeContext(task, { decision: fixed }));
    expect(second.status, second.summary).toBe('pass');
    expect(second.summary).not.toMatch(/already/);
    expect(fx.show('main', 'r.txt')).toBe('fixed');
    expect(fx.head('main')).toBe(fix);
    const prs = await forge.listPullRequests(REPO);
    expect(prs.map((p) => [p.number, p.merged, p.headSha])).toEqual([
      [1, true, rebased],
      [2, true, fix],
    ]);

    // the same decision again: main contains exactly its head now
    const again = await gate.run(makeContext(task, { decision: fixed }));
    expect(again.status).toBe('pass');
    expect(again.summary).toMatch(/already merged/);
    expect(fx.head('main')).toBe(fix);
    // read-only (the reconciler): the fixed head is merged, a newer unmerged head is not
    expect((await gate.run(makeContext(task, { decision: fixed, readOnly: true }))).status).toBe('pass');
    fx.commit('task/r', { 'r.txt': 'third\n' });
    const third = await decide(fx.origin, task);
    expect((await gate.run(makeContext(task, { decision: third, readOnly: true }))).status).toBe('fail');
  });

  it('a crash after the push and before the merge: the re-run of the same decision merges the rebase it recorded instead of making another', async () => {
    const { fx, forge, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/k', { 'k.txt': 'k\n' });
    fx.commit('main', { 'm.txt': 'moved\n' });
    const task = makeTask('tk', 'task/k');
    const pin = await decide(fx.origin, task);
    let down = true;
    const crashing: Forge = {
      ...forge,
      mergePullRequest: async (repo, number, input) =>
        down
          ? err(conveyorError('@conveyor/adapter-gitea', 'network', 'connection reset'))
          : forge.mergePullRequest(repo, number, input),
    };
    const first = await makeGate({}, crashing).run(makeContext(task, { decision: pin }));
    expect(first.status).toBe('error');
    const pushed = fx.head('task/k') ?? '';
    expect(pushed).not.toBe(pin.headSha);
    down = false;
    const counter = join(fx.root, 'runs');
    writeFileSync(counter, '');
    const second = await makeGate({ mergeRetestCommand: `echo run >> '${counter}'` }, crashing).run(
      makeContext(task, { decision: pin }),
    );
    expect(second.status, second.summary).toBe('pass');
    expect(fx.head('main')).toBe(pushed);
    // 'true' passed the tree before; the marker is per command, so the new command ran once
    expect(readFileSync(counter, 'utf8').trim()).toBe('run');
  });
});

describe('forge and lease failures are errors, never a verdict on the code', { timeout: 90_000 }, () => {
  let gitea: FakeGitea | undefined;
  afterAll(async () => {
    await gitea?.close();
  });

  async function giteaForge(timeoutMs = 5_000) {
    gitea ??= await startFakeGitea({ token: 'secret-token', repos: [REPO], spec: 'builtin' });
    gitea.reset();
    return createGiteaForge({
      baseUrl: gitea.url,
      token: 'secret-token',
      retries: 0,
      timeoutMs,
      sleep: async () => undefined,
    });
  }

  async function expectError(
    fx: ReturnType<typeof setup>['fx'],
    store: Store,
    out: GateOutcome,
    pattern: RegExp,
    mainBefore: string | undefined,
  ) {
    expect(out.status, out.summary).toBe('error');
    expect(out.summary).toMatch(pattern);
    expect(out.summary).not.toContain('secret-token');
    expect(fx.head('main')).toBe(mainBefore);
    expect((await store.getLease(mergeLeaseName(REPO))).unwrapOr('x')).toBeUndefined();
  }

  it('a 404 creating the pull request, a 503 merging it and a timeout are `error`, main untouched, the lease released', async () => {
    const { fx, store, forge, makeGate } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    fx.commit('task/f', { 'f.txt': 'f\n' });
    const task = makeTask('tf', 'task/f');
    const mainBefore = fx.head('main');

    const remote = await giteaForge();
    gitea?.inject({ kind: 'status', status: 404, path: '/pulls', times: 5 });
    const notFound = await makeGate({}, { ...forge, createPullRequest: remote.createPullRequest }).run(
      makeContext(task, { decision: await decide(fx.origin, task) }),
    );
    await expectError(fx, store, notFound, /cannot open the pull request/, mainBefore);

    const remote503 = await giteaForge();
    gitea?.inject({ kind: 'status', status: 503, path: '/merge', times: 5 });
    const unavailable = await makeGate({}, { ...forge, mergePullRequest: remote503.mergePullRequest }).run(
      makeContext(task, { decision: await decide(fx.origin, task) }),
    );
    await expectError(fx, store, unavailable, /cannot merge PR #1/, mainBefore);
    // on the wire: a fast-forward pinned to the branch head the gate retested
    const mergeCall = gitea?.requests.find((r) => r.path.endsWith('/pulls/1/merge'));
    expect(mergeCall?.json).toMatchObject({ Do: 'fast-forward-only', head_commit_id: fx.head('task/f') });

    const slow = await giteaForge(200);
    gitea?.inject({ kind: 'slow', delayMs: 2_000, path: '/pulls', times: 5 });
    const timedOut = await makeGate({}, { ...forge, findPullRequest: slow.findPullRequest }).run(
      makeContext(task, { decision: await decide(fx.origin, task) }),
    );
    await expectError(fx, store, timedOut, /cannot look up the pull request/, mainBefore);

    // the forge is back: the same task merges
    const done = await makeGate().run(makeContext(task, { decision: await decide(fx.origin, task) }));
    expect(done.status, done.summary).toBe('pass');
    expect(fx.show('main', 'f.txt')).toBe('f');
  });

  it('the lease lost during the retest (a real SQLite store, taken over after expiry): the retest is stopped, nothing pushed or merged', async () => {
    const { fx, forge } = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    const branchSha = fx.commit('task/l', { 'l.txt': 'l\n' });
    fx.commit('main', { 'm.txt': 'moved\n' });
    const mainBefore = fx.head('main');
    const opened = createSqliteStore({ path: join(fx.root, 'conveyor.db') });
    if (!opened.ok) throw opened.error;
    const store = opened.value;
    try {
      // the clock jumps past the TTL before the first renewal: another host takes the lease over
      let skew = 0;
      const other = async () => {
        skew = 60_000;
        await store.acquireLease({
          name: mergeLeaseName(REPO),
          holder: 'other-host/tx',
          ttlMs: 120_000,
          now: Date.now() + skew,
        });
      };
      const task = makeTask('tl', 'task/l');
      const gate = createGateOn(fx, store, forge, 'sleep 20');
      setTimeout(() => void other(), 300);
      const out = await gate.run(
        makeContext(task, { decision: await decide(fx.origin, task), now: () => Date.now() + skew }),
      );
      expect(out.status, out.summary).toBe('defer');
      expect(out.summary).toMatch(/^merge lease lost while merging/);
      expect(fx.head('main')).toBe(mainBefore);
      expect(fx.head('task/l')).toBe(branchSha);
      const lease = await store.getLease(mergeLeaseName(REPO));
      expect(lease.ok && lease.value?.holder).toBe('other-host/tx');
    } finally {
      await store.close();
    }
  });
});

function createGateOn(fx: ReturnType<typeof setup>['fx'], store: Store, forge: Forge, command: string): Gate {
  return createMergeGate({
    store,
    forge,
    remoteUrl: () => fx.origin,
    hostId: 'host-l',
    gitEnv: GIT_TEST_ENV,
    settings: {
      mergeRetestCommand: command,
      mergeWorktreeRoot: join(fx.root, 'wt-l'),
      mergeLeaseTtlMs: 600,
      mergeHeadRetries: 0,
    },
  });
}
