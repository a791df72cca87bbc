import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileLeaseManager, createStoreLeaseManager } from '../src/leases/index.js';
import type { ProcessProbe } from '../src/ports/runtime.js';
import { ok } from '../src/result/result.js';
import { testClock } from './helpers/clock.js';
import { exitOf, firstLine, fixture, runTs } from './helpers/node.js';
import { tempDirs } from './helpers/tmp.js';

const dirs = tempDirs('lease');
afterAll(() => dirs.cleanup());

const aliveProbe: ProcessProbe = { isAlive: async () => ok(true) };

describe('file leases', () => {
  it('grants one holder at a time, releases only for the holder, and tokens only grow', async () => {
    const dir = dirs.make();
    const clock = testClock();
    const leases = createFileLeaseManager({ dir, clock, probe: aliveProbe });
    const a = await leases.acquire('merge:acme/web', 'a', 1000);
    expect(a.ok && a.value.acquired && a.value.lease.token).toBe(1);
    const b = await leases.acquire('merge:acme/web', 'b', 1000);
    expect(b.ok && !b.value.acquired && b.value.current.holder).toBe('a');

    const wrong = await leases.release('merge:acme/web', 'b');
    expect(wrong.ok && wrong.value.released).toBe(false);
    const staleToken = await leases.release('merge:acme/web', 'a', 99);
    expect(staleToken.ok && staleToken.value.released).toBe(false);
    const right = await leases.release('merge:acme/web', 'a', 1);
    expect(right.ok && right.value.released).toBe(true);

    const b2 = await leases.acquire('merge:acme/web', 'b', 1000);
    expect(b2.ok && b2.value.acquired && b2.value.lease.token).toBe(2);
  });

  it('takes over an expired lease with a greater token and refuses the old holder renew', async () => {
    const dir = dirs.make();
    const clock = testClock();
    const leases = createFileLeaseManager({ dir, clock, probe: aliveProbe });
    const a = await leases.acquire('deploy', 'a', 1000);
    if (!a.ok || !a.value.acquired) throw new Error('a should hold the lease');
    const renewed = await leases.renew(a.value.lease, 2000);
    expect(renewed.ok && renewed.value.expiresAt).toBe(clock.now() + 2000);

    clock.advance(2000);
    const b = await leases.acquire('deploy', 'b', 1000);
    expect(b.ok && b.value.acquired && b.value.lease.token).toBe(2);
    const lost = await leases.renew(a.value.lease, 1000);
    expect(!lost.ok && lost.error.code).toBe('lease_lost');
    const released = await leases.release('deploy', 'a');
    expect(released.ok && released.value.released).toBe(false);
  });

  it('reclaimStale frees expired leases only', async () => {
    const dir = dirs.make();
    const clock = testClock();
    const leases = createFileLeaseManager({ dir, clock, probe: aliveProbe });
    await leases.acquire('short', 'a', 100);
    await leases.acquire('long', 'a', 100_000);
    clock.advance(500);
    const freed = await leases.reclaimStale();
    expect(freed.ok && freed.value.map((l) => l.name)).toEqual(['short']);
    const again = await leases.acquire('short', 'b', 100);
    expect(again.ok && again.value.acquired && again.value.lease.token).toBe(2);
    const busy = await leases.acquire('long', 'b', 100);
    expect(busy.ok && busy.value.acquired).toBe(false);
  });

  it('breaks a lock file left by a dead process', async () => {
    const dir = dirs.make();
    const leases = createFileLeaseManager({ dir, clock: testClock() });
    fs.mkdirSync(dir, { recursive: true });
    // pid 2^22+1 is above Linux's pid_max default, so it is not alive.
    fs.writeFileSync(
      path.join(dir, `${encodeURIComponent('x')}.lock`),
      JSON.stringify({ pid: 4_194_305, host: (await import('node:os')).hostname() }),
    );
    const got = await leases.acquire('x', 'a', 1000);
    expect(got.ok && got.value.acquired).toBe(true);
  });

  it('real processes racing for one lease: exactly one holder at a time, tokens strictly increase', async () => {
    const dir = dirs.make();
    const log = path.join(dir, 'log.jsonl');
    const children = ['p1', 'p2', 'p3', 'p4'].map((holder) =>
      runTs(fixture('lease-racer.ts'), [path.join(dir, 'leases'), log, holder, '10']),
    );
    const exits = await Promise.all(children.map(exitOf));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
    const entries = fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { holder: string; token: number; violation: boolean });
    expect(entries).toHaveLength(40);
    expect(entries.filter((e) => e.violation)).toEqual([]);
    const tokens = entries.map((e) => e.token);
    for (let i = 1; i < tokens.length; i += 1) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] ?? 0);
    expect(new Set(entries.map((e) => e.holder)).size).toBe(4);
  }, 60_000);

  it('reclaims the lease of a SIGKILLed holder (its pid is dead) with a greater token', async () => {
    const dir = dirs.make();
    const holder = runTs(fixture('lease-holder.ts'), [dir, 'doomed']);
    const line = JSON.parse(await firstLine(holder)) as { token: number };
    const leases = createFileLeaseManager({ dir, clock: { now: () => Date.now() } });
    const busy = await leases.acquire('merge:acme/web', 'survivor', 1000);
    expect(busy.ok && !busy.value.acquired && busy.value.current.holder).toBe('doomed');

    holder.kill('SIGKILL');
    await exitOf(holder);
    const freed = await leases.reclaimStale();
    expect(freed.ok && freed.value.map((l) => l.holder)).toEqual(['doomed']);
    const got = await leases.acquire('merge:acme/web', 'survivor', 1000);
    expect(got.ok && got.value.acquired && got.value.lease.token).toBe(line.token + 1);
  }, 30_000);
});

describe('store leases', () => {
  it('passes acquire/renew/release/reclaim through to the store with the clock', async () => {
    const calls: string[] = [];
    const lease = { name: 'n', holder: 'h', token: 7, acquiredAt: 1, expiresAt: 2 };
    const leases = createStoreLeaseManager({
      clock: testClock(1000),
      store: {
        acquireLease: async (i) => {
          calls.push(`acquire ${i.name} ${i.holder} ${i.ttlMs} ${i.now}`);
          return ok({ acquired: true as const, lease });
        },
        renewLease: async (i) => {
          calls.push(`renew ${i.token} ${i.ttlMs} ${i.now}`);
          return ok(lease);
        },
        releaseLease: async (i) => {
          calls.push(`release ${i.name} ${i.holder} ${String(i.token)}`);
          return ok({ released: true });
        },
        reclaimExpiredLeases: async (now) => {
          calls.push(`reclaim ${now}`);
          return ok([]);
        },
      },
    });
    await leases.acquire('n', 'h', 50);
    await leases.renew(lease, 60);
    await leases.release('n', 'h', 7);
    await leases.reclaimStale();
    expect(calls).toEqual(['acquire n h 50 1000', 'renew 7 60 1000', 'release n h 7', 'reclaim 1000']);
  });
});
