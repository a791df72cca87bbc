import type { Lease } from '../ports/domain.js';
import type { Clock } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import type { LeaseManager } from './types.js';

/** Options of {@link createStoreLeaseManager}. */
export interface StoreLeaseOptions {
  /** only the lease methods are used */
  readonly store: Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease' | 'reclaimExpiredLeases'>;
  readonly clock: Clock;
}

/**
 * The {@link LeaseManager} interface over the `Store` lease tables: what hosts
 * sharing one database use. Stale means expired (a store cannot see pids).
 *
 * @example
 * ```ts
 * const leases = createStoreLeaseManager({ store, clock: systemClock });
 * const got = await leases.acquire('merge:acme/web', 'host-1', 60_000);
 * ```
 */
export function createStoreLeaseManager(options: StoreLeaseOptions): LeaseManager {
  const { store, clock } = options;
  return Object.freeze({
    acquire: (name: string, holder: string, ttlMs: number) =>
      store.acquireLease({ name, holder, ttlMs, now: clock.now() }),
    renew: (lease: Lease, ttlMs: number) =>
      store.renewLease({ name: lease.name, holder: lease.holder, token: lease.token, ttlMs, now: clock.now() }),
    release: (name: string, holder: string, token?: number) =>
      store.releaseLease({ name, holder, ...(token === undefined ? {} : { token }) }),
    reclaimStale: () => store.reclaimExpiredLeases(clock.now()),
  } satisfies LeaseManager);
}
