// The adversarial cases of #11, each asserting the state of main and of the
// store: a push between the gates, main moving before the merge, merged then
// rolled back then fixed, a forge outage, a crash between recording and
// applying a decision, and two hosts on one SQLite file.
import { conveyorError, err, type Forge, type Gate } from '@conveyor/core';
import type { SqliteStore } from '@conveyor/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld, createOrigin, EDGE, leakedToken, runUntil, settled, taskAtDeployGate, tempRoot } from './world.js';

const roots: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of roots) cleanup();
});
function root(): string {
  const t = tempRoot();
  roots.push(t.cleanup);
  return t.root;
}

describe('adversarial decisions', () => {
  it('a push between the gates: nothing unscanned reaches main', async () => {
    const dir = root();
    const origin = createOrigin(dir);
    const token = leakedToken();
    let pushed = false;
    // runs after the security gate passed the clean head, before the merge gate
    const pusher: Gate = {
      id: 'pusher',
      run: async (ctx) => {
        if (!pushed) {
          pushed = true;
          origin.commit(ctx.task.branch, { 'late.ts': `export const t = '${token}';\n` }, 'a late push');
        }
        return { status: 'pass', summary: 'pushed' };
      },
    };
    const world = buildWorld({ root: dir, origin, extraGates: [[EDGE, pusher, 15]] });
    const cleanHead = origin.commit('task/P-1', { 'feature.ts': 'export const ok = 1;\n' });
    const id = await taskAtDeployGate(world, 'P-1', 'task/P-1');
    await runUntil([world], () => settled(world), { timeoutMs: 120_000 });

    expect(origin.files('main')).not.toContain('late.ts');
    expect(origin.files('main')).not.toContain('feature.ts');
    const task = (await world.store.getTask(id)).unwrapOr(undefined);
    expect(task?.snapshot.status).toBe('failed');
    const decisions = (await world.store.listDecisions(id)).unwrapOr([]).filter((d) => d.edge === EDGE);
    // the first decision was bound to the clean head and ended as defer when the branch moved
    expect(decisions[0]).toMatchObject({ headSha: cleanHead, outcome: { status: 'defer', decidedBy: 'merge' } });
    // a new decision judged the new head, and the security gate failed it
    const late = decisions.find((d) => d.headSha === origin.head('task/P-1'));
    expect(late?.outcome).toMatchObject({ status: 'fail', decidedBy: 'security' });
    await world.close();
  }, 180_000);

  it('main moves right before the merge: main is never red', async () => {
    const dir = root();
    const origin = createOrigin(dir);
    let raced = false;
    const racing = (forge: Forge): Forge => ({
      ...forge,
      mergePullRequest: async (repo, number, input) => {
        if (!raced) {
          raced = true;
          // a hotfix lands between the retest and the merge; with the task's change main would be red
          origin.commit('main', { 'pair-b': 'hotfix\n' }, 'hotfix');
        }
        return forge.mergePullRequest(repo, number, input);
      },
    });
    const world = buildWorld({ root: dir, origin, forge: racing });
    origin.commit('task/M-1', { 'pair-a': 'feature\n' });
    const id = await taskAtDeployGate(world, 'M-1', 'task/M-1');
    await runUntil([world], () => settled(world), { timeoutMs: 120_000 });

    expect(raced).toBe(true);
    expect(origin.green('origin/main')).toBe(true);
    expect(origin.files('main')).toContain('pair-b');
    expect(origin.files('main')).not.toContain('pair-a');
    const task = (await world.store.getTask(id)).unwrapOr(undefined);
    expect(task?.snapshot.stage).not.toBe('done');
    await world.close();
  }, 180_000);

  it('merged, rolled back by a later gate, fixed: the fix reaches main', async () => {
    const dir = root();
    const origin = createOrigin(dir);
    let smokeRuns = 0;
    const smoke: Gate = {
      id: 'smoke',
      run: async () => {
        smokeRuns += 1;
        return smokeRuns === 1
          ? {
              status: 'fail',
              summary: 'smoke test red in production',
              findings: [{ message: 'fix the banner', severity: 'error' }],
            }
          : { status: 'pass', summary: 'smoke green' };
      },
    };
    const world = buildWorld({
      root: dir,
      origin,
      maxDeveloperRetries: 1,
      extraGates: [['deploy->done', smoke, 10]],
      developer: (task) => {
        origin.commit(task.branch, { 'fix.ts': 'export const fixed = true;\n' }, 'the fix');
        return 'true';
      },
    });
    const first = origin.commit('task/F-1', { 'feature.ts': 'export const v = 1;\n' });
    const id = await taskAtDeployGate(world, 'F-1', 'task/F-1');
    await runUntil([world], () => settled(world), { timeoutMs: 180_000 });

    const task = (await world.store.getTask(id)).unwrapOr(undefined);
    expect(task?.snapshot).toMatchObject({ stage: 'done', status: 'done', developerRetries: 1 });
    expect(world.developerRuns).toEqual([id]);
    const fix = origin.head('task/F-1') ?? '';
    expect(fix).not.toBe(first);
    expect(origin.contains('main', first)).toBe(true);
    expect(origin.contains('main', fix)).toBe(true);
    expect(origin.files('main')).toContain('fix.ts');
    const merges = (await world.store.listDecisions(id))
      .unwrapOr([])
      .filter((d) => d.edge === EDGE && d.outcome?.status === 'pass');
    expect(merges.map((d) => d.headSha)).toEqual([first, fix]);
    await world.close();
  }, 240_000);

  it('a forge outage during the merge gate: no agent re-run; blocked with a comment after the cap', async () => {
    const dir = root();
    const origin = createOrigin(dir);
    let calls = 0;
    const down = (forge: Forge): Forge => ({
      ...forge,
      mergePullRequest: async () => {
        calls += 1;
        return err(conveyorError('@conveyor/adapter-gitea', 'network', 'gitea answered 502 Bad Gateway'));
      },
    });
    const world = buildWorld({ root: dir, origin, forge: down, maxDecisionErrors: 2, maxDeveloperRetries: 3 });
    origin.commit('task/O-1', { 'feature.ts': 'export const v = 1;\n' });
    const id = await taskAtDeployGate(world, 'O-1', 'task/O-1');
    await runUntil([world], () => settled(world), { timeoutMs: 120_000 });

    const task = (await world.store.getTask(id)).unwrapOr(undefined);
    expect(task?.snapshot).toMatchObject({ stage: 'deploy-staging', status: 'blocked', developerRetries: 0 });
    expect(task?.snapshot.reason).toContain('502');
    expect(world.developerRuns).toEqual([]);
    expect(calls).toBe(3);
    const decisions = (await world.store.listDecisions(id)).unwrapOr([]).filter((d) => d.edge === EDGE);
    expect(decisions.map((d) => d.outcome?.status)).toEqual(['error', 'error', 'error']);
    expect(world.comments).toHaveLength(1);
    expect(world.comments[0]?.issueId).toBe('O-1');
    expect(world.comments[0]?.html).toContain('502');
    expect(world.cards.at(-1)).toMatchObject({ status: 'blocked' });
    expect(world.cards.at(-1)?.lastVerdict).toContain('502');
    expect(origin.files('main')).not.toContain('feature.ts');
    // nothing is held by the blocked task
    expect((await world.store.listLeases()).unwrapOr([])).toEqual([]);
    await world.close();
  }, 180_000);

  it('a crash after the decision is recorded and before it is applied: the reconciler applies it once', async () => {
    const dir = root();
    const origin = createOrigin(dir);
    let dead = false;
    // the host dies the moment it would apply the recorded edge decision: it writes nothing more
    const crashing = (store: SqliteStore): SqliteStore =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function' || prop === 'close') return value;
          return (...args: unknown[]) => {
            if (dead)
              return Promise.resolve(err(conveyorError('@conveyor/store-sqlite', 'internal', 'the host is dead')));
            const input = args[0] as { cause?: string; snapshot?: { stage?: string } } | undefined;
            if (prop === 'saveTransition' && input?.cause === 'gates.decided' && input.snapshot?.stage === 'deploy') {
              dead = true;
              return Promise.resolve(err(conveyorError('@conveyor/store-sqlite', 'internal', 'the host is dead')));
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    const hostA = buildWorld({ root: dir, origin, wrapStore: crashing, holderId: 'host-a' });
    const head = origin.commit('task/C-1', { 'feature.ts': 'export const v = 1;\n' });
    const id = await taskAtDeployGate(hostA, 'C-1', 'task/C-1');
    await runUntil([hostA], async () => dead, { timeoutMs: 120_000 });
    await hostA.close();
    // the merge happened and the outcome is recorded, but the task never moved
    expect(origin.contains('main', head)).toBe(true);
    const hostB = buildWorld({ root: dir, origin, holderId: 'host-b' });
    const before = (await hostB.store.listDecisions(id)).unwrapOr([]).filter((d) => d.edge === EDGE);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ headSha: head, outcome: { status: 'pass' } });
    expect(before[0]?.appliedAt).toBeUndefined();
    expect((await hostB.store.getTask(id)).unwrapOr(undefined)?.snapshot.status).toBe('gating');
    const mainBefore = origin.head('main');

    await runUntil([hostB], () => settled(hostB), { timeoutMs: 120_000, reconcile: true });
    const task = (await hostB.store.getTask(id)).unwrapOr(undefined);
    expect(task?.snapshot).toMatchObject({ stage: 'done', status: 'done' });
    const after = (await hostB.store.listDecisions(id)).unwrapOr([]).filter((d) => d.edge === EDGE);
    // applied once, from the record: no second decision, no second merge
    expect(after).toHaveLength(1);
    expect(after[0]?.appliedAt).toBeDefined();
    expect(origin.head('main')).toBe(mainBefore);
    const history = (await hostB.store.listHistory(id)).unwrapOr([]);
    expect(history.filter((h) => h.cause === 'gates.decided' && h.fromStage === 'deploy-staging')).toHaveLength(1);
    await hostB.close();
  }, 240_000);

  it('two hosts on one SQLite file deciding the same task: one decision, one merge', async () => {
    const dir = root();
    const origin = createOrigin(dir);
    const hostA = buildWorld({ root: dir, origin, holderId: 'host-a' });
    const hostB = buildWorld({ root: dir, origin, holderId: 'host-b' });
    const heads: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      heads.push(origin.commit(`task/H-${i}`, { [`feature-${i}.ts`]: `export const v = ${i};\n` }));
      ids.push(await taskAtDeployGate(i % 2 === 0 ? hostA : hostB, `H-${i}`, `task/H-${i}`));
    }
    const all = async () => (await settled(hostA)) && (await settled(hostB));
    await runUntil([hostA, hostB], all, { timeoutMs: 180_000, reconcile: true });

    for (const [i, id] of ids.entries()) {
      const task = (await hostA.store.getTask(id)).unwrapOr(undefined);
      expect(task?.snapshot).toMatchObject({ stage: 'done', status: 'done' });
      const passes = (await hostA.store.listDecisions(id))
        .unwrapOr([])
        .filter((d) => d.edge === EDGE && d.outcome?.status === 'pass');
      expect(passes).toHaveLength(1);
      // merged once: its file on main (the gate rebases the later ones onto the moved main)
      expect(origin.files('main')).toContain(`feature-${i}.ts`);
      expect(heads[i]).toBeDefined();
      const history = (await hostA.store.listHistory(id)).unwrapOr([]);
      expect(
        history.filter(
          (h) => h.cause === 'gates.decided' && h.fromStage === 'deploy-staging' && h.toStage === 'deploy',
        ),
      ).toHaveLength(1);
    }

    // and the hardest race: both hosts run the very same decision job at the same moment
    origin.commit('task/H-9', { 'feature-9.ts': 'export const v = 9;\n' });
    const raced = await taskAtDeployGate(hostA, 'H-9', 'task/H-9');
    const [job] = (await hostA.store.claimJobs({ maxConcurrency: 10, now: Date.now() })).unwrapOr([]);
    expect(job).toMatchObject({ taskId: raced, kind: 'decision' });
    if (job === undefined) throw new Error('no decision job');
    const runs = await Promise.all([hostA.pipeline.runDecision(job), hostB.pipeline.runDecision(job)]);
    const actions = runs.map((r) => (r.ok ? r.value.action : r.error.message)).sort();
    expect(actions.filter((a) => a === 'applied')).toHaveLength(1);
    expect(actions.filter((a) => a === 'busy' || a === 'stale')).toHaveLength(1);
    const decided = (await hostB.store.listDecisions(raced)).unwrapOr([]).filter((d) => d.edge === EDGE);
    expect(decided).toHaveLength(1);
    expect(decided[0]?.verdicts.filter((v) => v.gateId === 'merge')).toHaveLength(1);
    expect(origin.files('main')).toContain('feature-9.ts');
    await hostA.close();
    await hostB.close();
  }, 240_000);
});
