import { join } from 'node:path';
import { conveyorError, err, ok } from '@conveyor/core';
import { createLocalGitForge, createMemoryStore } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArtifactInfo, createFreshnessGate, forgeBranchHead, gitBranchHead } from '../src/freshness/index.js';
import { createMergeGate } from '../src/merge/index.js';
import { createGitFixture, GIT_TEST_ENV, makeContext, makeTask } from './helpers/git-fixture.js';

const fx = createGitFixture({ 'app.txt': 'v1\n' }, 'conveyor-fresh-');
afterAll(() => fx.cleanup());
const readHead = gitBranchHead(() => fx.origin, { env: GIT_TEST_ENV, cwd: fx.root });
const artifact = (info: ArtifactInfo) => async () => ok(info);

// real git on a shared 2-core machine: generous timeouts, no timing assertions
describe('freshness gate', { timeout: 60_000 }, () => {
  it('pass when built from the head (full or short sha), fail "rebuild needed" otherwise, defer while building', async () => {
    const old = fx.commit('task/img', { 'app.txt': 'v2\n' });
    const head = fx.commit('task/img', { 'app.txt': 'v3\n' });
    const ctx = makeContext(makeTask('f1', 'task/img'));

    expect(
      (await createFreshnessGate({ readHead, readArtifact: artifact({ builtFromSha: head }) }).run(ctx)).status,
    ).toBe('pass');
    expect(
      (
        await createFreshnessGate({
          readHead,
          readArtifact: artifact({ builtFromSha: head.slice(0, 8).toUpperCase() }),
        }).run(ctx)
      ).status,
    ).toBe('pass');

    const stale = await createFreshnessGate({ readHead, readArtifact: artifact({ builtFromSha: old }) }).run(ctx);
    expect(stale.status).toBe('fail');
    expect(stale.summary).toMatch(/^rebuild needed/);
    expect(stale.findings?.[0]).toMatchObject({ rule: 'freshness/stale-artifact', commit: head });
    expect((await createFreshnessGate({ readHead, readArtifact: artifact({}) }).run(ctx)).status).toBe('fail');
    expect(
      (await createFreshnessGate({ readHead, readArtifact: artifact({ builtFromSha: 'abc' }) }).run(ctx)).status,
    ).toBe('fail');

    const building = await createFreshnessGate({
      readHead,
      readArtifact: artifact({ builtFromSha: old, building: true }),
      deferMs: 5000,
    }).run(ctx);
    expect(building).toMatchObject({ status: 'defer', deferMs: 5000 });
    // a finished build of the head passes even if another build is running
    expect(
      (await createFreshnessGate({ readHead, readArtifact: artifact({ builtFromSha: head, building: true }) }).run(ctx))
        .status,
    ).toBe('pass');
  });

  it('with a decision: a branch no longer at the decided head defers, even when the artifact matches the new head', async () => {
    const decided = fx.commit('task/dec', { 'app.txt': 'd1\n' });
    const pin = { decisionId: 'dec_f', step: 3, headSha: decided, baseSha: fx.head('main') ?? '', baseBranch: 'main' };
    const ctx = makeContext(makeTask('fd', 'task/dec'), { decision: pin });
    const gate = (builtFromSha: string) => createFreshnessGate({ readHead, readArtifact: artifact({ builtFromSha }) });
    expect((await gate(decided).run(ctx)).status).toBe('pass');
    const pushed = fx.commit('task/dec', { 'app.txt': 'd2\n' });
    const moved = await gate(pushed).run(ctx);
    expect(moved.status).toBe('defer');
    expect(moved.summary).toContain(`moved from ${decided.slice(0, 12)} to ${pushed.slice(0, 12)}`);
  });

  it('error when the artifact or the head cannot be read, or the branch is gone', async () => {
    const ctx = makeContext(makeTask('f2', 'task/img'));
    const broken = createFreshnessGate({
      readHead,
      readArtifact: async () => err(conveyorError('@conveyor/gates', 'network', 'registry down')),
    });
    expect((await broken.run(ctx)).status).toBe('error');
    const gone = createFreshnessGate({ readHead, readArtifact: artifact({ builtFromSha: 'a'.repeat(40) }) });
    expect((await gone.run(makeContext(makeTask('f3', 'task/none')))).status).toBe('error');
    const noRemote = createFreshnessGate({
      readHead: gitBranchHead(() => join(fx.root, 'missing.git'), { env: GIT_TEST_ENV, cwd: fx.root }),
      readArtifact: artifact({ builtFromSha: 'a'.repeat(40) }),
    });
    expect((await noRemote.run(ctx)).status).toBe('error');
    const throwing = createFreshnessGate({
      readHead,
      readArtifact: () => {
        throw new Error('bug');
      },
    });
    expect((await throwing.run(ctx)).status).toBe('error');
  });

  it('after the merge gate rebased the branch, the image built before the rebase needs a rebuild', async () => {
    const before = fx.commit('task/rebased', { 'feature.txt': 'f\n' });
    fx.commit('main', { 'other.txt': 'main moved\n' });
    const forge = createLocalGitForge({ bareRepo: fx.origin, env: GIT_TEST_ENV });
    const task = makeTask('f4', 'task/rebased');
    const merge = createMergeGate({
      store: createMemoryStore(),
      forge,
      remoteUrl: () => fx.origin,
      gitEnv: GIT_TEST_ENV,
      settings: { mergeRetestCommand: 'true', mergeWorktreeRoot: join(fx.root, 'wt'), mergeHeadRetries: 0 },
    });
    expect((await merge.run(makeContext(task))).status).toBe('pass');
    const after = fx.head('task/rebased') ?? '';
    expect(after).not.toBe(before);

    const viaForge = forgeBranchHead(forge, 'main');
    const staleImage = createFreshnessGate({ readHead: viaForge, readArtifact: artifact({ builtFromSha: before }) });
    expect((await staleImage.run(makeContext(task))).summary).toMatch(/^rebuild needed/);
    const freshImage = createFreshnessGate({ readHead: viaForge, readArtifact: artifact({ builtFromSha: after }) });
    expect((await freshImage.run(makeContext(task))).status).toBe('pass');
  });
});
