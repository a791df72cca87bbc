import {
  byLeaseName,
  ConveyorError,
  err,
  grantLease,
  isLeaseLive,
  type Lease,
  type LeaseAcquisition,
  type LeaseStore,
  ok,
  type Result,
} from '@conveyor/core';
import { PKG } from './errors.js';
import { errors, type SqliteContext } from './sqlite-context.js';

interface LeaseRow {
  name: string;
  holder: string;
  token: number;
  acquired_at: number;
  expires_at: number;
}

function toLease(row: LeaseRow): Lease {
  return {
    name: row.name,
    holder: row.holder,
    token: row.token,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}

/**
 * The `leases` and `lease_tokens` tables. Core's lease rules (`isLeaseLive`,
 * `mayRenew`, `mayRelease`) are written here as the `WHERE` clauses, so each
 * check and its write are one atomic statement.
 */
export function createSqliteLeases(ctx: SqliteContext): Required<LeaseStore> {
  const { prepare, run } = ctx;
  const leaseByName = prepare('SELECT * FROM leases WHERE name = ?');
  const nextToken = prepare(
    `INSERT INTO lease_tokens (name, last_token) VALUES (?, 1)
     ON CONFLICT (name) DO UPDATE SET last_token = last_token + 1
     RETURNING last_token`,
  );
  const putLease = prepare(
    'INSERT OR REPLACE INTO leases (name, holder, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  // mayRenew: the holder and token of a live lease
  const renew = prepare(
    'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ? RETURNING *',
  );
  // mayRelease: the holder, and the exact grant when a token is given
  const release = prepare(
    'DELETE FROM leases WHERE name = @name AND holder = @holder AND (@token IS NULL OR token = @token)',
  );
  const listAll = prepare('SELECT * FROM leases ORDER BY name');
  // isLeaseLive is expires_at > now: at expires_at it is reclaimed
  const reclaim = prepare('DELETE FROM leases WHERE expires_at <= ? RETURNING *');

  return {
    acquireLease(input) {
      return run('acquireLease', () => {
        const bad = errors.checkTtl('acquireLease', input.name, input.ttlMs);
        if (bad) return err(bad);
        return ctx.immediate((): Result<LeaseAcquisition, ConveyorError> => {
          const current = leaseByName.get(input.name) as LeaseRow | undefined;
          if (current && isLeaseLive({ expiresAt: current.expires_at }, input.now))
            return ok({ acquired: false, current: toLease(current) });
          const tokenRow = nextToken.get(input.name) as { last_token: number } | undefined;
          if (!tokenRow)
            return err(new ConveyorError(PKG, 'internal', `acquireLease ${input.name}: no token was issued`));
          const lease = grantLease(input, tokenRow.last_token);
          putLease.run(lease.name, lease.holder, lease.token, lease.acquiredAt, lease.expiresAt);
          return ok({ acquired: true, lease });
        });
      });
    },

    renewLease(input) {
      return run('renewLease', () => {
        const bad = errors.checkTtl('renewLease', input.name, input.ttlMs);
        if (bad) return err(bad);
        const renewed = renew.get(input.now + input.ttlMs, input.name, input.holder, input.token, input.now) as
          | LeaseRow
          | undefined;
        if (renewed) return ok(toLease(renewed));
        const current = leaseByName.get(input.name) as LeaseRow | undefined;
        return err(errors.leaseLost(input, current));
      });
    },

    releaseLease(input) {
      return run<{ released: boolean }>('releaseLease', () => {
        const changes = release.run({ name: input.name, holder: input.holder, token: input.token ?? null }).changes;
        return ok({ released: changes > 0 });
      });
    },

    getLease(name) {
      return run('getLease', () => {
        const row = leaseByName.get(name) as LeaseRow | undefined;
        return ok(row ? toLease(row) : undefined);
      });
    },

    listLeases() {
      return run('listLeases', () => ok((listAll.all() as LeaseRow[]).map(toLease)));
    },

    reclaimExpiredLeases(now) {
      return run('reclaimExpiredLeases', () => ok((reclaim.all(now) as LeaseRow[]).map(toLease).sort(byLeaseName)));
    },
  };
}
