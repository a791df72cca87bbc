import { describe, expect, it } from 'vitest';
import {
  type ConveyorEventMap,
  createEventBus,
  createGateRegistry,
  createManualClock,
  DEFAULT_STAGES,
  type EdgeRunContext,
  type Gate,
  type GateContext,
  type GateOutcome,
  initialSnapshot,
  loadCoreSettings,
  silentLogger,
  type Task,
} from '../src/index.js';

const EDGE = 'deploy-staging->deploy';
/** an edge DEFAULT_STAGES does not guard */
const OPEN_EDGE = 'development->deploy-staging';

function task(repo = 'acme/conveyor'): Task {
  return {
    id: 't1',
    project: 'web',
    issueId: 'PLN-1',
    repo,
    branch: 'task/PLN-1',
    title: 'Add login',
    description: 'do it',
    snapshot: initialSnapshot(DEFAULT_STAGES),
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

function ctx(repo?: string, extra: Partial<EdgeRunContext> = {}): EdgeRunContext {
  return { task: task(repo), logger: silentLogger, now: () => 0, readOnly: false, ...extra };
}

/** A gate that records its calls and returns `outcome` (or runs `impl`). */
function gate(id: string, outcome: GateOutcome | ((c: GateContext) => Promise<GateOutcome>), timeoutMs?: number) {
  const calls: GateContext[] = [];
  const g: Gate & { calls: GateContext[] } = {
    id,
    calls,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    run: async (c) => {
      calls.push(c);
      return typeof outcome === 'function' ? outcome(c) : outcome;
    },
  };
  return g;
}

const pass = (summary = 'ok'): GateOutcome => ({ status: 'pass', summary });

describe('register and snapshot', () => {
  it('orders gates by order, then registration order, per edge (pinned)', () => {
    const registry = createGateRegistry();
    expect(registry.register(EDGE, gate('freshness', pass()), { order: 30 }).ok).toBe(true);
    registry.register(EDGE, gate('security', pass()), { order: 10 });
    registry.register(EDGE, gate('merge', pass()), { order: 20 });
    registry.register(EDGE, gate('audit', pass()), { order: 10 });
    registry.register(EDGE, gate('disabled', pass()), { order: 5, enabled: false });
    registry.register('development->deploy-staging', gate('lint', pass()));
    registry.register('development->deploy-staging', gate('tests', pass()));
    expect(registry.snapshot()).toEqual({
      'deploy-staging->deploy': ['disabled', 'security', 'audit', 'merge', 'freshness'],
      'development->deploy-staging': ['lint', 'tests'],
    });
  });

  it('refuses a duplicate gate id on an edge, but allows it on another edge', () => {
    const registry = createGateRegistry();
    registry.register(EDGE, gate('security', pass()));
    const dup = registry.register(EDGE, gate('security', pass()));
    expect(dup.ok).toBe(false);
    expect(!dup.ok && dup.error.code).toBe('invalid_input');
    expect(!dup.ok && dup.error.message).toContain('gate security is already registered on deploy-staging->deploy');
    expect(registry.register('deploy->done', gate('security', pass())).ok).toBe(true);
    expect(registry.snapshot()[EDGE]).toEqual(['security']);
  });

  it('refuses an edge the stages do not have (a typo would switch the gate off)', () => {
    const registry = createGateRegistry();
    const typo = registry.register('deploy-staging->deplyo', gate('security', pass()));
    expect(!typo.ok && typo.error.code).toBe('invalid_config');
    expect(!typo.ok && typo.error.message).toContain('the stages have no edge "deploy-staging->deplyo"');
    expect(registry.snapshot()).toEqual({});
    const custom = createGateRegistry({ stages: DEFAULT_STAGES });
    expect(custom.register('analysis->deploy', gate('g', pass())).ok).toBe(false);
  });

  it('refuses a scope without the host repository unless the host allows it explicitly', () => {
    const registry = createGateRegistry({ hostRepo: 'acme/web' });
    const typo = registry.register(EDGE, gate('security', pass()), { scope: ['acme/shop.git'] });
    expect(!typo.ok && typo.error.code).toBe('invalid_config');
    expect(!typo.ok && typo.error.message).toContain("does not contain the host's repository acme/web");
    expect(registry.register(EDGE, gate('merge', pass()), { scope: ['ACME/web', 'acme/shop'] }).ok).toBe(true);
    const allowed = createGateRegistry({ hostRepo: 'acme/web', allowForeignScope: true });
    expect(allowed.register(EDGE, gate('security', pass()), { scope: ['acme/shop'] }).ok).toBe(true);
  });

  it('refuses a bad timeout, order or gate', () => {
    const registry = createGateRegistry();
    const bad = registry.register(EDGE, gate('g', pass(), -1), { timeoutMs: 0, order: Number.NaN });
    expect(!bad.ok && bad.error.message).toContain('timeoutMs must be a number > 0 (got 0)');
    expect(!bad.ok && bad.error.message).toContain('gate.timeoutMs must be a number > 0 (got -1)');
    expect(!bad.ok && bad.error.message).toContain('order is not a finite number');
    const noRun = registry.register(EDGE, { id: 'x' } as unknown as Gate);
    expect(!noRun.ok && noRun.error.message).toContain('gate x has no run function');
    expect(registry.snapshot()).toEqual({});
  });
});

describe('runEdge', () => {
  it('passes an unguarded edge with no gates', async () => {
    const verdict = await createGateRegistry().runEdge(OPEN_EDGE, ctx());
    expect(verdict).toEqual({
      edge: OPEN_EDGE,
      status: 'pass',
      verdicts: [],
      summary: `no gates ran on ${OPEN_EDGE}`,
      findingsText: '',
      durationMs: 0,
    });
  });

  it('a guarded edge with no gate enabled and in scope does not pass, and says why', async () => {
    expect((await createGateRegistry().runEdge(EDGE, ctx())).status).toBe('error');
    const registry = createGateRegistry({ hostRepo: 'acme/conveyor' });
    registry.register(EDGE, gate('security', pass()), { enabled: false });
    registry.register(EDGE, gate('merge', pass()), { enabled: () => false });
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toContain(`${EDGE} is guarded and no gate is enabled and in scope for acme/conveyor`);
    expect(verdict.summary).toContain('security: switched off');
    expect(verdict.skipped).toEqual([
      { gateId: 'security', reason: 'switched off' },
      { gateId: 'merge', reason: 'switched off' },
    ]);
  });

  it('the summary names every skipped gate and why', async () => {
    const registry = createGateRegistry({ hostRepo: 'acme/conveyor', allowForeignScope: true });
    registry.register(EDGE, gate('security', pass('clean')), { order: 1 });
    registry.register(EDGE, gate('staging', pass()), { order: 2, enabled: false });
    registry.register(EDGE, gate('freshness', pass()), { order: 3, scope: ['acme/shop'] });
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(verdict.status).toBe('pass');
    expect(verdict.summary).toBe(
      `1 of 1 gates passed on ${EDGE}; skipped: staging (switched off); freshness (acme/conveyor is not in its scope: acme/shop)`,
    );
  });

  it('a verdict that cannot be recorded stops the edge with error before the next gate', async () => {
    const registry = createGateRegistry();
    const never = gate('second', pass());
    registry.register(EDGE, gate('first', pass()));
    registry.register(EDGE, never);
    const recorded: string[] = [];
    const verdict = await registry.runEdge(
      EDGE,
      ctx(undefined, {
        onVerdict: async (v) => {
          recorded.push(v.gateId);
          return false;
        },
      }),
    );
    expect(recorded).toEqual(['first']);
    expect(never.calls).toHaveLength(0);
    expect(verdict).toMatchObject({ status: 'error', decidedBy: 'first' });
  });

  it('runs every gate in order and passes when all pass', async () => {
    const order: string[] = [];
    const registry = createGateRegistry();
    for (const [id, o] of [
      ['c', 3],
      ['a', 1],
      ['b', 2],
    ] as const) {
      registry.register(
        EDGE,
        gate(id, async () => {
          order.push(id);
          return pass(`${id} fine`);
        }),
        { order: o },
      );
    }
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(order).toEqual(['a', 'b', 'c']);
    expect(verdict.status).toBe('pass');
    expect(verdict.verdicts.map((v) => [v.gateId, v.status, v.summary])).toEqual([
      ['a', 'pass', 'a fine'],
      ['b', 'pass', 'b fine'],
      ['c', 'pass', 'c fine'],
    ]);
    expect(verdict.summary).toBe(`3 of 3 gates passed on ${EDGE}`);
    expect(verdict.decidedBy).toBeUndefined();
  });

  it('gives each gate the edge, the task and an abort signal', async () => {
    const registry = createGateRegistry();
    const g = gate('a', pass());
    registry.register(EDGE, g);
    await registry.runEdge(EDGE, ctx(undefined, { readOnly: true, workdir: '/tmp/w' }));
    expect(g.calls).toHaveLength(1);
    expect(g.calls[0]?.edge).toBe(EDGE);
    expect(g.calls[0]?.task.id).toBe('t1');
    expect(g.calls[0]?.readOnly).toBe(true);
    expect(g.calls[0]?.workdir).toBe('/tmp/w');
    expect(g.calls[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('stops at the first fail; later gates never run; findingsText is the stopping gate', async () => {
    const registry = createGateRegistry();
    const first = gate('security', pass('clean'));
    const failing = gate('merge', {
      status: 'fail',
      summary: 'retest failed after rebase',
      findings: [
        { rule: 'test', file: 'src/a.test.ts', line: 12, message: 'expected 1 to be 2', severity: 'error' },
        { message: 'flaky?\nsecond line', severity: 'warning', fingerprint: 'abc:src/x:rule:1' },
      ],
      warnings: ['slow'],
    });
    const never = gate('freshness', pass());
    registry.register(EDGE, first, { order: 1 });
    registry.register(EDGE, failing, { order: 2 });
    registry.register(EDGE, never, { order: 3 });
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(never.calls).toHaveLength(0);
    expect(verdict.status).toBe('fail');
    expect(verdict.decidedBy).toBe('merge');
    expect(verdict.summary).toBe('merge: retest failed after rebase');
    expect(verdict.verdicts.map((v) => v.gateId)).toEqual(['security', 'merge']);
    expect(verdict.verdicts[1]?.warnings).toEqual(['slow']);
    expect(verdict.findingsText).toBe(
      [
        'merge: retest failed after rebase',
        '- [error] test src/a.test.ts:12: expected 1 to be 2',
        '- [warning]: flaky? second line (fingerprint abc:src/x:rule:1)',
      ].join('\n'),
    );
  });

  it('stops at a defer and carries its delay', async () => {
    const registry = createGateRegistry();
    const never = gate('after', pass());
    registry.register(EDGE, gate('staging', { status: 'defer', summary: 'staging still deploying', deferMs: 30_000 }));
    registry.register(EDGE, never);
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(verdict).toMatchObject({
      status: 'defer',
      decidedBy: 'staging',
      deferMs: 30_000,
      summary: 'staging: staging still deploying',
    });
    expect(never.calls).toHaveLength(0);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('kaboom');
      },
      'gate bad threw: kaboom',
    ],
    ['rejects', () => Promise.reject(new Error('nope')), 'gate bad threw: nope'],
    ['rejects with a non-error', () => Promise.reject('plain'), 'gate bad threw: plain'],
    [
      'returns undefined',
      () => Promise.resolve(undefined),
      'gate bad returned a malformed verdict: expected an object, got undefined',
    ],
    [
      'returns a bad status',
      () => Promise.resolve({ status: 'ok', summary: 'x' }),
      'gate bad returned a malformed verdict: status "ok" is not one of',
    ],
    [
      'returns no summary',
      () => Promise.resolve({ status: 'pass' }),
      'gate bad returned a malformed verdict: summary is not a string',
    ],
    [
      'returns bad findings',
      () => Promise.resolve({ status: 'fail', summary: 's', findings: [{ severity: 'error' }] }),
      'findings[0] has no message',
    ],
    [
      'returns a bad deferMs',
      () => Promise.resolve({ status: 'defer', summary: 's', deferMs: -5 }),
      'deferMs is not a number >= 0',
    ],
  ])('a gate that %s yields error (never a pass, never a fail)', async (_name, run, summary) => {
    const registry = createGateRegistry();
    const never = gate('after', pass());
    registry.register(EDGE, { id: 'bad', run: run as unknown as Gate['run'] });
    registry.register(EDGE, never);
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(verdict.status).toBe('error');
    expect(verdict.decidedBy).toBe('bad');
    expect(verdict.verdicts[0]?.status).toBe('error');
    expect(verdict.verdicts[0]?.summary).toContain(summary);
    expect(verdict.findingsText).toContain(summary);
    expect(never.calls).toHaveLength(0);
  });

  it('a gate past its timeout yields error, its signal is aborted, and the run does not wait for it', async () => {
    let signal: AbortSignal | undefined;
    const hanging: Gate = {
      id: 'hang',
      timeoutMs: 10_000,
      run: (c) => {
        signal = c.signal;
        return new Promise(() => {}); // never settles
      },
    };
    const registry = createGateRegistry();
    registry.register(EDGE, hanging, { timeoutMs: 30 });
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(verdict.status).toBe('error');
    expect(verdict.verdicts[0]?.status).toBe('error');
    expect(verdict.verdicts[0]?.summary).toBe('gate hang timed out after 30 ms');
    expect(signal?.aborted).toBe(true);
  });

  it('uses gate.timeoutMs, then the registry default', async () => {
    const never = (): Promise<GateOutcome> => new Promise(() => {});
    const registry = createGateRegistry({ defaultTimeoutMs: 20 });
    registry.register(EDGE, gate('own', never, 25));
    const own = await registry.runEdge(EDGE, ctx());
    expect(own.verdicts[0]?.summary).toBe('gate own timed out after 25 ms');
    const other = createGateRegistry({ defaultTimeoutMs: 20 });
    other.register(EDGE, gate('dflt', never));
    expect((await other.runEdge(EDGE, ctx())).verdicts[0]?.summary).toBe('gate dflt timed out after 20 ms');
  });

  it('an aborted run fails the gates not yet started', async () => {
    const controller = new AbortController();
    const registry = createGateRegistry();
    registry.register(
      EDGE,
      gate('first', async () => {
        controller.abort();
        return pass();
      }),
    );
    const never = gate('second', pass());
    registry.register(EDGE, never);
    const verdict = await registry.runEdge(EDGE, ctx(undefined, { signal: controller.signal }));
    expect(never.calls).toHaveLength(0);
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toBe('second: the run was aborted before gate second started');
  });

  it('kill-switch: enabled false or a function returning false skips the gate; a throwing switch fails', async () => {
    let on = false;
    const registry = createGateRegistry();
    const off = gate('off', { status: 'fail', summary: 'should not run' });
    const switchable = gate('switchable', { status: 'fail', summary: 'switched on' });
    registry.register(EDGE, off, { enabled: false });
    registry.register(EDGE, switchable, { enabled: () => on });
    registry.register(EDGE, gate('last', pass()));
    const first = await registry.runEdge(EDGE, ctx());
    expect(first.status).toBe('pass');
    expect(first.verdicts.map((v) => v.gateId)).toEqual(['last']);
    expect(first.summary).toBe(
      `1 of 1 gates passed on ${EDGE}; skipped: off (switched off); switchable (switched off)`,
    );
    expect(off.calls).toHaveLength(0);
    expect(switchable.calls).toHaveLength(0);
    on = true;
    const second = await registry.runEdge(EDGE, ctx());
    expect(second).toMatchObject({ status: 'fail', decidedBy: 'switchable' });

    const broken = createGateRegistry();
    broken.register(EDGE, gate('g', pass()), {
      enabled: () => {
        throw new Error('settings gone');
      },
    });
    const res = await broken.runEdge(EDGE, ctx());
    expect(res.status).toBe('error');
    expect(res.summary).toBe('g: the kill-switch of gate g threw: settings gone');
  });

  it('scope: empty = the host repo only; a list = those repos only; no hostRepo = every repo', async () => {
    const registry = createGateRegistry({ hostRepo: 'acme/conveyor', allowForeignScope: true });
    registry.register(OPEN_EDGE, gate('host-only', pass('host')));
    expect(registry.register(OPEN_EDGE, gate('listed', pass('listed')), { scope: ['acme/web', 'ACME/API'] }).ok).toBe(
      true,
    );
    const ids = async (repo: string) => (await registry.runEdge(OPEN_EDGE, ctx(repo))).verdicts.map((v) => v.gateId);
    expect(await ids('acme/conveyor')).toEqual(['host-only']);
    expect(await ids('Acme/Conveyor')).toEqual(['host-only']);
    expect(await ids('acme/web')).toEqual(['listed']);
    expect(await ids('acme/api')).toEqual(['listed']);
    expect(await ids('other/repo')).toEqual([]);
    const verdict = await registry.runEdge(OPEN_EDGE, ctx('other/repo'));
    expect(verdict.summary).toBe(
      `no gates ran on ${OPEN_EDGE}; skipped: host-only (other/repo is not in its scope: acme/conveyor); listed (other/repo is not in its scope: acme/web, ACME/API)`,
    );

    const noHost = createGateRegistry();
    noHost.register(EDGE, gate('everywhere', pass()));
    noHost.register(EDGE, gate('listed', pass()), { scope: ['acme/web'] });
    expect((await noHost.runEdge(EDGE, ctx('any/repo'))).verdicts.map((v) => v.gateId)).toEqual(['everywhere']);
  });

  it('records each duration with the clock', async () => {
    const clock = createManualClock(1_000);
    const registry = createGateRegistry({ clock });
    registry.register(
      EDGE,
      gate('a', async () => {
        clock.advance(250);
        return pass();
      }),
    );
    registry.register(
      EDGE,
      gate('b', async () => {
        clock.advance(40);
        return { status: 'fail', summary: 'red' };
      }),
    );
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(verdict.verdicts.map((v) => v.durationMs)).toEqual([250, 40]);
    expect(verdict.durationMs).toBe(290);
  });

  it('emits a verdict event per gate and no edge.decided (the pipeline owns it), and a throwing listener changes nothing', async () => {
    const events = createEventBus();
    const seen: ConveyorEventMap['verdict'][] = [];
    const decided: ConveyorEventMap['edge.decided'][] = [];
    events.on('verdict', (e) => {
      seen.push(e);
    });
    events.on('verdict', () => {
      throw new Error('listener bug');
    });
    events.on('edge.decided', (e) => {
      decided.push(e);
    });
    const registry = createGateRegistry({ events });
    registry.register(EDGE, gate('a', pass()));
    registry.register(EDGE, gate('b', { status: 'fail', summary: 'red' }));
    const verdict = await registry.runEdge(EDGE, ctx());
    expect(seen.map((e) => [e.taskId, e.edge, e.verdict.gateId, e.verdict.status])).toEqual([
      ['t1', EDGE, 'a', 'pass'],
      ['t1', EDGE, 'b', 'fail'],
    ]);
    expect(verdict.status).toBe('fail');
    expect(decided).toEqual([]);
  });
});

describe('options from settings', () => {
  it('accept an unset hostRepo straight from CoreSettings', async () => {
    const settings = loadCoreSettings({});
    if (!settings.ok) throw settings.error;
    const registry = createGateRegistry({
      hostRepo: settings.value.hostRepo,
      defaultTimeoutMs: settings.value.gateTimeoutMs,
    });
    registry.register(EDGE, gate('everywhere', pass()));
    expect((await registry.runEdge(EDGE, ctx('any/repo'))).verdicts.map((v) => v.gateId)).toEqual(['everywhere']);
  });
});
