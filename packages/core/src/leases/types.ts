import type { Lease, LeaseAcquisition } from '../ports/domain.js';
import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/**
 * Named, exclusive, expiring leases with fencing tokens: a merge per repository,
 * a singleton daemon per host. The same interface sits over files
 * ({@link createFileLeaseManager}) and over the `Store` lease tables
 * ({@link createStoreLeaseManager}).
 *
 * @example
 * ```ts
 * const got = await leases.acquire('merge:acme/web', 'host-1', 60_000);
 * if (got.ok && got.value.acquired) {
 *   try { await merge(got.value.lease.token); } finally { await leases.release('merge:acme/web', 'host-1', got.value.lease.token); }
 * }
 * ```
 */
export interface LeaseManager {
  /** Grants the lease when it is free or stale, with a token greater than every token before. */
  acquire(name: string, holder: string, ttlMs: number): AsyncResult<LeaseAcquisition, ConveyorError>;
  /** Extends a lease still held by `lease.holder` with `lease.token`; `lease_lost` otherwise. */
  renew(lease: Lease, ttlMs: number): AsyncResult<Lease, ConveyorError>;
  /** Releases only for the holder that owns it (and only that grant, when `token` is given). */
  release(name: string, holder: string, token?: number): AsyncResult<{ released: boolean }, ConveyorError>;
  /** Frees every stale lease (expired, or its holder process is dead); returns what it freed. */
  reclaimStale(): AsyncResult<Lease[], ConveyorError>;
}
