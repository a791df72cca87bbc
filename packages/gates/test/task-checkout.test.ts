import { join } from 'node:path';
import type { Gate, GateContext } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncTaskCheckout, withTaskCheckout } from '../src/index.js';
import {
  createGitFixture,
  GIT_TEST_ENV,
  type GitFixture,
  gitSync,
  makeContext,
  makeTask,
} from './helpers/git-fixture.js';

let fixture: GitFixture;
beforeAll(() => {
  fixture = createGitFixture({ 'a.txt': 'one\n' }, 'conveyor-checkout-');
});
afterAll(() => fixture.cleanup());

const options = () => ({
  root: join(fixture.root, 'checkouts'),
  remoteUrl: () => fixture.origin,
  gitEnv: GIT_TEST_ENV,
});

describe('syncTaskCheckout', () => {
  it('clones on first use and follows the pushed branch head', async () => {
    const first = fixture.commit('task/1', { 'b.txt': 'two\n' });
    const task = makeTask('t1', 'task/1');
    const dir = await syncTaskCheckout(task, options());
    expect(dir.ok).toBe(true);
    if (!dir.ok) return;
    expect(gitSync(dir.value, 'rev-parse', 'HEAD')).toBe(first);
    expect(gitSync(dir.value, 'rev-parse', 'origin/main')).toBe(fixture.head('main'));

    const second = fixture.commit('task/1', { 'c.txt': 'three\n' });
    const again = await syncTaskCheckout(task, options());
    expect(again.ok && gitSync(again.value, 'rev-parse', 'HEAD')).toBe(second);
  });

  it('with a pin: detached at exactly the decided head, and a branch that moved (or vanished) is head_out_of_date', async () => {
    const decided = fixture.commit('task/pin', { 'p.txt': 'one\n' });
    const task = makeTask('tpin', 'task/pin');
    const pinned = await syncTaskCheckout(task, options(), undefined, {
      headSha: decided,
      baseSha: fixture.head('main') ?? '',
    });
    expect(pinned.ok && gitSync(pinned.value, 'rev-parse', 'HEAD')).toBe(decided);

    const pushed = fixture.commit('task/pin', { 'p.txt': 'two\n' });
    const stale = await syncTaskCheckout(task, options(), undefined, { headSha: decided });
    expect(stale.ok).toBe(false);
    if (!stale.ok) {
      expect(stale.error.code).toBe('head_out_of_date');
      expect(stale.error.details).toMatchObject({ expected: decided, actual: pushed });
      expect(stale.error.message).toBe(
        `branch task/pin moved from ${decided.slice(0, 12)} to ${pushed.slice(0, 12)}; a new decision starts on the new head`,
      );
    }
    const gone = await syncTaskCheckout(makeTask('tgone', 'task/never'), options(), undefined, { headSha: decided });
    expect(!gone.ok && gone.error.code).toBe('head_out_of_date');
    const noBase = await syncTaskCheckout(task, options(), undefined, { headSha: pushed, baseSha: 'f'.repeat(40) });
    expect(!noBase.ok && noBase.error.code).toBe('not_found');
  });

  it('fails with a clear error when the branch is not on the remote', async () => {
    const dir = await syncTaskCheckout(makeTask('t2', 'task/missing'), options());
    expect(dir.ok).toBe(false);
    if (!dir.ok) expect(dir.error.message).toContain('task/missing');
  });
});

describe('withTaskCheckout', () => {
  it('hands the wrapped gate a fresh checkout and keeps its id and timeout', async () => {
    const sha = fixture.commit('task/3', { 'd.txt': 'four\n' });
    let seen: GateContext | undefined;
    const inner: Gate = {
      id: 'inner',
      timeoutMs: 1234,
      run: async (ctx) => {
        seen = ctx;
        return { status: 'pass', summary: gitSync(ctx.workdir ?? '.', 'rev-parse', 'HEAD') };
      },
    };
    const gate = withTaskCheckout(inner, options());
    expect(gate.id).toBe('inner');
    expect(gate.timeoutMs).toBe(1234);
    const outcome = await gate.run(makeContext(makeTask('t3', 'task/3')));
    expect(outcome).toEqual({ status: 'pass', summary: sha });
    expect(seen?.workdir).toBe(join(fixture.root, 'checkouts', 't3'));
  });

  it('fails closed without running the gate when the checkout cannot be made', async () => {
    let ran = false;
    const gate = withTaskCheckout(
      {
        id: 'inner',
        run: async () => {
          ran = true;
          return { status: 'pass', summary: 'should not run' };
        },
      },
      options(),
    );
    const outcome = await gate.run(makeContext(makeTask('t4', 'task/absent')));
    expect(outcome.status).toBe('error');
    expect(ran).toBe(false);
  });
});
