import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProcessProbe } from '../launcher/process-probe.js';
import type { Lease, LeaseAcquisition } from '../ports/domain.js';
import type { Clock, ProcessProbe } from '../ports/runtime.js';
import { type ConveyorError, conveyorError, toConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import type { LeaseManager } from './types.js';

const PKG = '@conveyor/core';

/** Options of {@link createFileLeaseManager}. */
export interface FileLeaseOptions {
  /** the directory that holds the lease files; created when missing */
  readonly dir: string;
  readonly clock: Clock;
  /** tells whether a holder's pid is alive; default: `createProcessProbe()` */
  readonly probe?: ProcessProbe;
  /** how long to wait for a lease's short internal lock before `lease_busy` (default 5000 ms) */
  readonly lockTimeoutMs?: number;
  /** an internal lock older than this is broken even if its pid looks alive (default 10000 ms) */
  readonly lockStaleMs?: number;
  /** the pid written into holder records (default `process.pid`) */
  readonly pid?: number;
  /** the host written into holder records (default `os.hostname()`) */
  readonly host?: string;
}

/** The JSON a lease file holds: who holds it and until when. */
export interface FileLeaseRecord extends Lease {
  readonly pid: number;
  readonly host: string;
  readonly ttlMs: number;
}

interface MutexRecord {
  readonly pid: number;
  readonly host: string;
}

function encodeName(name: string): string {
  return encodeURIComponent(name);
}

function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw thrown;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function isLeaseRecord(value: unknown): value is FileLeaseRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.name === 'string' &&
    typeof r.holder === 'string' &&
    typeof r.token === 'number' &&
    typeof r.pid === 'number' &&
    typeof r.host === 'string' &&
    typeof r.acquiredAt === 'number' &&
    typeof r.expiresAt === 'number'
  );
}

function toLease(record: FileLeaseRecord): Lease {
  return {
    name: record.name,
    holder: record.holder,
    token: record.token,
    acquiredAt: record.acquiredAt,
    expiresAt: record.expiresAt,
  };
}

/**
 * Leases as files in one directory, for hosts without a shared database.
 *
 * Every read-modify-write of a lease happens under a short per-lease lock file
 * created with `O_CREAT|O_EXCL` (`fs.openSync(p, 'wx')`), so two processes never
 * both win. The lease file holds the holder record (pid, host, holder, token,
 * acquiredAt, ttl/expiresAt); the fencing token comes from a per-name counter
 * file that is only written under the lock, so it only grows. A lease is stale
 * when its TTL passed or its holder's pid is dead on this host; `acquire`
 * takes a stale lease over, `reclaimStale` frees them all.
 *
 * A lock left by a process that crashed inside the (milliseconds-long)
 * critical section is broken when its pid is dead or it is older than
 * `lockStaleMs`.
 *
 * @example
 * ```ts
 * const leases = createFileLeaseManager({ dir: '/var/lib/conveyor/leases', clock: systemClock });
 * const got = await leases.acquire('merge:acme/web', 'host-1', 60_000);
 * ```
 */
export function createFileLeaseManager(options: FileLeaseOptions): LeaseManager {
  const dir = options.dir;
  const clock = options.clock;
  const probe = options.probe ?? createProcessProbe();
  const lockTimeoutMs = options.lockTimeoutMs ?? 5000;
  const lockStaleMs = options.lockStaleMs ?? 10_000;
  const selfPid = options.pid ?? process.pid;
  const selfHost = options.host ?? os.hostname();

  const paths = (name: string) => {
    const base = path.join(dir, encodeName(name));
    return { lease: `${base}.lease`, token: `${base}.token`, lock: `${base}.lock` };
  };

  async function pidDead(host: string, pid: number): Promise<boolean> {
    if (host !== selfHost) return false;
    const alive = await probe.isAlive(pid);
    return alive.ok && !alive.value;
  }

  async function isStale(record: FileLeaseRecord): Promise<boolean> {
    if (clock.now() >= record.expiresAt) return true;
    return pidDead(record.host, record.pid);
  }

  async function breakLockIfStale(lockPath: string): Promise<void> {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(lockPath);
    } catch {
      return;
    }
    const owner = readJson<MutexRecord>(lockPath);
    const age = Date.now() - stat.mtimeMs;
    const stale =
      age > lockStaleMs ||
      (owner !== undefined && typeof owner.pid === 'number' && (await pidDead(owner.host, owner.pid))) ||
      (owner === undefined && age > 1000);
    if (!stale) return;
    const aside = `${lockPath}.broken.${selfPid}.${randomBytes(4).toString('hex')}`;
    try {
      fs.renameSync(lockPath, aside);
    } catch {
      return;
    }
    const moved = fs.statSync(aside);
    if (moved.ino !== stat.ino) {
      // We moved a lock taken after our look: put it back if the slot is still free.
      try {
        fs.linkSync(aside, lockPath);
      } catch {
        /* the slot was taken again; the live locker's release is a no-op */
      }
    }
    fs.rmSync(aside, { force: true });
  }

  async function withLock<T>(name: string, fn: () => Promise<T>): Promise<Result<T, ConveyorError>> {
    const { lock } = paths(name);
    const deadline = Date.now() + lockTimeoutMs;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (thrown) {
      return err(toConveyorError(PKG, thrown, 'internal', `cannot create lease directory ${dir}`));
    }
    for (;;) {
      let fd: number | undefined;
      try {
        fd = fs.openSync(lock, 'wx');
      } catch (thrown) {
        if ((thrown as NodeJS.ErrnoException).code !== 'EEXIST') {
          return err(toConveyorError(PKG, thrown, 'internal', `cannot create lease lock ${lock}`));
        }
      }
      if (fd !== undefined) {
        const ino = fs.fstatSync(fd).ino;
        try {
          fs.writeSync(fd, JSON.stringify({ pid: selfPid, host: selfHost } satisfies MutexRecord));
        } finally {
          fs.closeSync(fd);
        }
        try {
          return ok(await fn());
        } catch (thrown) {
          return err(toConveyorError(PKG, thrown, 'internal', `lease ${name} in ${dir}`));
        } finally {
          try {
            if (fs.statSync(lock).ino === ino) fs.unlinkSync(lock);
          } catch {
            /* already gone */
          }
        }
      }
      if (Date.now() > deadline) {
        return err(
          conveyorError(PKG, 'lease_busy', `lease ${name}: its lock ${lock} stayed taken for ${lockTimeoutMs} ms`),
        );
      }
      await breakLockIfStale(lock);
      await sleep(1 + Math.floor(Math.random() * 5));
    }
  }

  function readRecord(file: string): FileLeaseRecord | undefined {
    const value = readJson<unknown>(file);
    return isLeaseRecord(value) ? value : undefined;
  }

  return Object.freeze({
    acquire(name: string, holder: string, ttlMs: number) {
      return withLock(name, async (): Promise<LeaseAcquisition> => {
        const p = paths(name);
        const current = readRecord(p.lease);
        if (current !== undefined && !(await isStale(current))) return { acquired: false, current: toLease(current) };
        const last = Math.max(readJson<number>(p.token) ?? 0, current?.token ?? 0);
        const now = clock.now();
        const record: FileLeaseRecord = {
          name,
          holder,
          token: last + 1,
          acquiredAt: now,
          expiresAt: now + ttlMs,
          ttlMs,
          pid: selfPid,
          host: selfHost,
        };
        writeAtomically(p.token, JSON.stringify(record.token));
        writeAtomically(p.lease, JSON.stringify(record));
        return { acquired: true, lease: toLease(record) };
      });
    },

    async renew(lease: Lease, ttlMs: number) {
      const renewed = await withLock(lease.name, async (): Promise<Lease | undefined> => {
        const p = paths(lease.name);
        const current = readRecord(p.lease);
        if (current === undefined || current.holder !== lease.holder || current.token !== lease.token) return undefined;
        const now = clock.now();
        const record: FileLeaseRecord = { ...current, expiresAt: now + ttlMs, ttlMs, pid: selfPid, host: selfHost };
        writeAtomically(p.lease, JSON.stringify(record));
        return toLease(record);
      });
      if (!renewed.ok) return err(renewed.error);
      if (renewed.value === undefined) {
        return err(
          conveyorError(
            PKG,
            'lease_lost',
            `lease ${lease.name} is no longer held by ${lease.holder} (token ${lease.token})`,
          ),
        );
      }
      return ok(renewed.value);
    },

    release(name: string, holder: string, token?: number) {
      return withLock(name, async () => {
        const p = paths(name);
        const current = readRecord(p.lease);
        if (current === undefined || current.holder !== holder) return { released: false };
        if (token !== undefined && current.token !== token) return { released: false };
        fs.rmSync(p.lease, { force: true });
        return { released: true };
      });
    },

    async reclaimStale() {
      let entries: string[];
      try {
        entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
      } catch (thrown) {
        return err(toConveyorError(PKG, thrown, 'internal', `cannot list lease directory ${dir}`));
      }
      const freed: Lease[] = [];
      for (const entry of entries) {
        if (!entry.endsWith('.lease')) continue;
        const leaseName = decodeURIComponent(entry.slice(0, -'.lease'.length));
        const one = await withLock(leaseName, async () => {
          const p = paths(leaseName);
          const current = readRecord(p.lease);
          if (current === undefined || !(await isStale(current))) return undefined;
          fs.rmSync(p.lease, { force: true });
          return toLease(current);
        });
        if (!one.ok) return err(one.error);
        if (one.value !== undefined) freed.push(one.value);
      }
      return ok(freed);
    },
  } satisfies LeaseManager);
}
