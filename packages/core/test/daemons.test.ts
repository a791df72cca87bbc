import { describe, expect, it } from 'vitest';
import { createDaemons } from '../src/daemons/index.js';
import type { Launcher, ProcessExit } from '../src/ports/runtime.js';
import { ok } from '../src/result/result.js';
import { harness, issue } from './helpers/harness.js';

/** A launcher whose processes end when the test says so; their pid is one that is surely dead. */
function controlledLauncher() {
  const ends: ((exit: ProcessExit) => void)[] = [];
  const launcher: Launcher = {
    launch: async () => {
      const exited = new Promise<ProcessExit>((resolve) => ends.push(resolve));
      return ok({ pid: 2 ** 22 + 12_345, exited, kill: () => {} });
    },
  };
  return { launcher, end: (exitCode: number) => ends.shift()?.({ exitCode, signal: null, timedOut: false }) };
}

describe('createDaemons', () => {
  it('starts only the enabled daemons and shows all three on the board', async () => {
    const h = harness();
    const { launcher } = controlledLauncher();
    const daemons = createDaemons({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      worker: { launcher, commandFor: () => ({ command: 'true', args: [] }), intervalMs: 60_000 },
      reaper: { intervalMs: 60_000 },
      reconciler: { intervalMs: 60_000, enabled: false },
    });
    expect(daemons.enabled).toEqual(['worker', 'reaper']);
    daemons.start();
    expect(daemons.board.snapshot().map((d) => [d.name, d.running])).toEqual([
      ['worker', true],
      ['reaper', true],
      ['reconciler', false],
    ]);
    await daemons.stop();
    expect(daemons.board.snapshot().every((d) => !d.running)).toBe(true);
  });

  it('the reaper leaves alone a job this worker watches, even when its pid looks dead', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const { launcher, end } = controlledLauncher();
    const daemons = createDaemons({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      worker: { launcher, commandFor: () => ({ command: 'true', args: [] }) },
      reaper: { deadTicks: 1 },
    });
    await daemons.worker.tick();
    for (let i = 0; i < 3; i += 1) await daemons.reaper.tick();
    const running = (await h.store.listJobs({ statuses: ['running'] })).unwrapOr([]);
    expect(running).toHaveLength(1);
    end(0);
    await daemons.worker.idle();
    const job = (await h.store.getJob(running[0]?.id ?? '')).unwrapOr(undefined);
    expect(job).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  it('stop(grace) hands back jobs still running when the grace runs out', async () => {
    const h = harness();
    await h.pipeline.handle({ kind: 'tracker.issue', action: 'created', issue: issue('1') });
    const { launcher, end } = controlledLauncher();
    const daemons = createDaemons({
      store: h.store,
      pipeline: h.pipeline,
      clock: h.clock,
      logger: h.logger,
      worker: { launcher, commandFor: () => ({ command: 'true', args: [] }) },
    });
    await daemons.worker.tick();
    const { handedBack } = await daemons.stop(20);
    expect(handedBack).toBe(1);
    expect(h.logger.lines.some((l) => l.level === 'warn' && l.message.includes('grace ran out'))).toBe(true);
    end(0); // the process ends later; nothing is left waiting on it
  });
});
