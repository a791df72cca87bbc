import type { Lease } from '../ports/domain.js';
import type { AcquireLease, ReleaseLease, RenewLease } from '../ports/lease-store.js';

/**
 * A lease is live while `now < expiresAt`; at `expiresAt` it is free to take
 * over and for the reaper to reclaim.
 *
 * @example
 * ```ts
 * if (current && isLeaseLive(current, input.now)) return ok({ acquired: false, current });
 * ```
 */
export function isLeaseLive(lease: Pick<Lease, 'expiresAt'>, now: number): boolean {
  return lease.expiresAt > now;
}

/**
 * The lease an acquire grants: held by `input.holder` from `now` for `ttlMs`,
 * with `token`, which the backend draws strictly above every token it handed
 * out before for that name (`lastToken + 1`).
 *
 * @example
 * ```ts
 * const lease = grantLease(input, (lastToken.get(input.name) ?? 0) + 1);
 * ```
 */
export function grantLease(input: AcquireLease, token: number): Lease {
  return {
    name: input.name,
    holder: input.holder,
    token,
    acquiredAt: input.now,
    expiresAt: input.now + input.ttlMs,
  };
}

/**
 * A renewal succeeds only for the holder and token of a lease that is still
 * live: a holder whose lease expired has lost it, even if nobody took it yet.
 *
 * @example
 * ```ts
 * if (!current || !mayRenew(current, input)) return err(errors.leaseLost(input, current));
 * ```
 */
export function mayRenew(lease: Lease, input: RenewLease): boolean {
  return lease.holder === input.holder && lease.token === input.token && isLeaseLive(lease, input.now);
}

/**
 * A release frees the lease only for its holder (and only that grant when a
 * token is given), so a stale holder never frees a newer holder's lease.
 *
 * @example
 * ```ts
 * if (current && mayRelease(current, input)) leases.delete(input.name);
 * ```
 */
export function mayRelease(lease: Pick<Lease, 'holder' | 'token'>, input: ReleaseLease): boolean {
  return lease.holder === input.holder && (input.token === undefined || lease.token === input.token);
}

/**
 * The order leases are listed and reclaimed in: by name.
 *
 * @example
 * ```ts
 * const listed = [...leases.values()].sort(byLeaseName);
 * ```
 */
export function byLeaseName(a: Pick<Lease, 'name'>, b: Pick<Lease, 'name'>): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
