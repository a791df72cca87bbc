import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AcquireLease, Forge, GateOutcome, ReleaseLease, RenewLease, Store } from '@conveyor/core';
import { createLocalGitForge, createMemoryStore } from '@conveyor/testkit';
import { afterAll } from 'vitest';
import { createMergeGate, type MergeSettingsInput } from '../../src/merge/index.js';
import { createGitFixture, GIT_TEST_ENV, type GitFixture, gitSync } from './git-fixture.js';

/** The repository every merge test works on. */
export const REPO = 'acme/app';
const fixtures: GitFixture[] = [];
afterAll(() => {
  for (const fx of fixtures) fx.cleanup();
});

export interface LeaseEvent {
  readonly kind: 'acquire' | 'release';
  readonly holder: string;
  readonly token: number;
}

/** Records every granted acquire and every effective release, in order. */
export function trackLeases(store: Store) {
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

/** A fixture repository, a memory store with tracked leases, a local forge and a gate factory; cleaned after the file. */
export function setup(
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
export function runOnTree(fx: GitFixture, ref: string, command: string, env: Record<string, string> = {}): number {
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

/** Runs the gate again after each `defer` (waiting `deferMs`) until it decides. */
export async function runUntilDecided(run: (deferrals: number) => Promise<GateOutcome>): Promise<GateOutcome> {
  for (let deferrals = 0; ; deferrals += 1) {
    const out = await run(deferrals);
    if (out.status !== 'defer') return out;
    await new Promise((r) => setTimeout(r, out.deferMs ?? 10));
  }
}
