// 8 leaky and 8 clean tasks decided at once, under one worker's concurrency
// limit: per-decision reports mean no verdict is read from another task's
// report; the merge lease serialises the clean ones onto main.
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld, createOrigin, EDGE, leakedToken, runUntil, settled, taskAtDeployGate, tempRoot } from './world.js';

const tmp = tempRoot();
afterAll(() => tmp.cleanup());

describe('adversarial: 8 leaky and 8 clean tasks decided at once', () => {
  it('no leaky task advances, every clean one merges, and main holds no token', async () => {
    const origin = createOrigin(tmp.root);
    const tokens: string[] = [];
    const leaky = new Set<string>();
    const world = buildWorld({ root: tmp.root, origin, maxConcurrency: 6 });
    const ids: { id: string; branch: string; leaky: boolean }[] = [];
    for (let i = 0; i < 16; i += 1) {
      const isLeaky = i % 2 === 0;
      const branch = `task/T-${i}`;
      const token = leakedToken();
      if (isLeaky) tokens.push(token);
      origin.commit(branch, {
        [`feature-${i}.ts`]: isLeaky
          ? `export const client = { token: '${token}' };\n`
          : `export const n${i} = ${i};\n`,
      });
      const id = await taskAtDeployGate(world, `T-${i}`, branch);
      ids.push({ id, branch, leaky: isLeaky });
      if (isLeaky) leaky.add(id);
    }
    await runUntil([world], () => settled(world), { timeoutMs: 240_000 });

    const main = origin.files('main');
    for (const { id, branch, leaky: isLeaky } of ids) {
      const task = (await world.store.getTask(id)).unwrapOr(undefined);
      const decisions = (await world.store.listDecisions(id)).unwrapOr([]).filter((d) => d.edge === EDGE);
      const file = `feature-${branch.slice('task/T-'.length)}.ts`;
      if (isLeaky) {
        // never past the gate: rolled back and, with no retries left, failed
        expect(task?.snapshot.stage, `${branch}`).not.toBe('deploy');
        expect(task?.snapshot.stage, `${branch}`).not.toBe('done');
        expect(task?.snapshot.status).toBe('failed');
        expect(main).not.toContain(file);
        // the leaky head itself was judged red by the security gate
        const judged = decisions.find((d) => d.headSha === origin.head(branch));
        expect(judged?.outcome?.status).toBe('fail');
        expect(judged?.outcome?.decidedBy).toBe('security');
      } else {
        expect(task?.snapshot, `${branch}`).toMatchObject({ stage: 'done', status: 'done' });
        expect(main).toContain(file);
        expect(decisions.at(-1)?.outcome?.status).toBe('pass');
      }
      // one decision per step, each bound to a head of this task's branch
      expect(new Set(decisions.map((d) => d.step)).size).toBe(decisions.length);
    }
    for (const token of tokens) {
      for (const file of main) expect(origin.show('main', file)).not.toContain(token);
    }
    await world.close();
  }, 300_000);
});
