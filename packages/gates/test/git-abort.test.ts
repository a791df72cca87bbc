import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeLeaseName } from '@conveyor/core';
import { afterAll, describe, expect, it } from 'vitest';
import { syncTaskCheckout } from '../src/git/task-checkout.js';
import { createGitFixture, GIT_TEST_ENV, makeContext, makeTask } from './helpers/git-fixture.js';
import { REPO, setup } from './helpers/merge-setup.js';

/** True while `pid` runs (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * An environment in which every fetch from `origin` runs a fake upload-pack
 * that writes its pid to `pidFile` and hangs: a remote that never answers.
 */
function hangingFetchEnv(pidFile: string): Record<string, string> {
  return {
    ...GIT_TEST_ENV,
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'remote.origin.uploadpack',
    GIT_CONFIG_VALUE_0: `echo $$ > '${pidFile}'; exec sleep 60; :`,
  };
}

describe('every git child process gets the gate signal and dies with it', { timeout: 60_000 }, () => {
  const fx = createGitFixture({ 'a.txt': 'a\n' }, 'conveyor-abort-');
  afterAll(() => fx.cleanup());

  it('an aborted checkout kills the helper git started (not only git itself)', async () => {
    fx.commit('task/x', { 'x.txt': 'x\n' });
    const pidFile = join(fx.root, 'checkout.pid');
    const controller = new AbortController();
    const running = syncTaskCheckout(
      makeTask('tx', 'task/x'),
      { root: join(fx.root, 'checkouts'), remoteUrl: () => fx.origin, gitEnv: hangingFetchEnv(pidFile) },
      controller.signal,
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the upload-pack pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(pid)).toBe(true);
    controller.abort();
    const out = await running;
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error.message).toMatch(/aborted/);
    await waitFor(() => !alive(pid), `pid ${pid} to die`);
  });

  it('the merge gate aborted during its fetch: the helper dies, nothing merged, the lease released', async () => {
    const pidFile = join(fx.root, 'merge.pid');
    const m = setup({ 'a.txt': '0\n' }, { mergeRetestCommand: 'true' });
    m.fx.commit('task/y', { 'y.txt': 'y\n' });
    const mainBefore = m.fx.head('main');
    // the gate's clone names its remote origin too: its fetch hangs the same way
    const { createMergeGate } = await import('../src/merge/merge-gate.js');
    const gate = createMergeGate({
      store: m.store,
      forge: m.forge,
      remoteUrl: () => m.fx.origin,
      hostId: 'host-a',
      gitEnv: hangingFetchEnv(pidFile),
      settings: { mergeRetestCommand: 'true', mergeWorktreeRoot: join(m.fx.root, 'wt') },
    });
    const controller = new AbortController();
    const running = gate.run(makeContext(makeTask('ty', 'task/y'), { signal: controller.signal }));
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the upload-pack pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    controller.abort();
    const out = await running;
    expect(out.status).toBe('error');
    await waitFor(() => !alive(pid), `pid ${pid} to die`);
    expect(m.fx.head('main')).toBe(mainBefore);
    expect((await m.store.getLease(mergeLeaseName(REPO))).unwrapOr('x')).toBeUndefined();
  });
});
