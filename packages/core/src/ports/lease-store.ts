import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type { Lease, LeaseAcquisition } from './domain.js';

/** Input of `LeaseStore.acquireLease`. */
export interface AcquireLease {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly now: number;
}

/** Input of `LeaseStore.renewLease`. */
export interface RenewLease {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
  readonly ttlMs: number;
  readonly now: number;
}

/** Input of `LeaseStore.releaseLease`. */
export interface ReleaseLease {
  readonly name: string;
  readonly holder: string;
  /** when given, only this exact grant is released */
  readonly token?: number;
}

/**
 * Named leases with fencing tokens (the merge lease, one per repository). The
 * rules every backend applies are in `store/lease-rules.ts`.
 *
 * `getLease` is optional: without it {@link completeStore} reads `listLeases`.
 *
 * @example
 * ```ts
 * const got = await leases.acquireLease({ name: 'merge:acme/web', holder: 'host-1', ttlMs: 60_000, now: clock.now() });
 * if (got.ok && got.value.acquired) fence(got.value.lease.token);
 * ```
 */
export interface LeaseStore {
  /** Grants the lease when free or expired, with a fencing token greater than any before for that name. */
  acquireLease(input: AcquireLease): AsyncResult<LeaseAcquisition, ConveyorError>;
  /** Extends a live lease still held by `holder` with `token`; `lease_lost` otherwise. */
  renewLease(input: RenewLease): AsyncResult<Lease, ConveyorError>;
  /** Releases only for the holder that owns it (and the exact token when given). */
  releaseLease(input: ReleaseLease): AsyncResult<{ released: boolean }, ConveyorError>;
  /** Ordered by name. */
  listLeases(): AsyncResult<Lease[], ConveyorError>;
  /** Frees every lease whose `expiresAt <= now`; returns what it freed, ordered by name. */
  reclaimExpiredLeases(now: number): AsyncResult<Lease[], ConveyorError>;

  /** Optional (falls back to `listLeases`): one lease, `undefined` when nobody holds it. */
  getLease?(name: string): AsyncResult<Lease | undefined, ConveyorError>;
}
