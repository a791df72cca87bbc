import {
  byLeaseName,
  type ConveyorError,
  err,
  grantLease,
  isLeaseLive,
  type Lease,
  type LeaseAcquisition,
  type LeaseStore,
  mayRelease,
  mayRenew,
  ok,
  type Result,
} from '@conveyor/core';
import { errors, type Guard } from './memory-shared.js';

/** The leases and lease-token tables, in memory. Leases are immutable values, so no copies are needed. */
export function createMemoryLeases(guard: Guard): Required<LeaseStore> {
  const leases = new Map<string, Lease>();
  const lastToken = new Map<string, number>();

  return {
    acquireLease(input) {
      return guard('acquireLease', (): Result<LeaseAcquisition, ConveyorError> => {
        const bad = errors.checkTtl('acquireLease', input.name, input.ttlMs);
        if (bad) return err(bad);
        const current = leases.get(input.name);
        if (current && isLeaseLive(current, input.now)) return ok({ acquired: false, current: { ...current } });
        const token = (lastToken.get(input.name) ?? 0) + 1;
        lastToken.set(input.name, token);
        const lease = grantLease(input, token);
        leases.set(input.name, lease);
        return ok({ acquired: true, lease: { ...lease } });
      });
    },

    renewLease(input) {
      return guard('renewLease', (): Result<Lease, ConveyorError> => {
        const bad = errors.checkTtl('renewLease', input.name, input.ttlMs);
        if (bad) return err(bad);
        const current = leases.get(input.name);
        if (!current || !mayRenew(current, input)) return err(errors.leaseLost(input, current));
        const renewed = { ...current, expiresAt: input.now + input.ttlMs };
        leases.set(input.name, renewed);
        return ok({ ...renewed });
      });
    },

    releaseLease(input) {
      return guard<{ released: boolean }>('releaseLease', () => {
        const current = leases.get(input.name);
        if (!current || !mayRelease(current, input)) return ok({ released: false });
        leases.delete(input.name);
        return ok({ released: true });
      });
    },

    getLease(name) {
      return guard('getLease', () => {
        const current = leases.get(name);
        return ok(current ? { ...current } : undefined);
      });
    },

    listLeases() {
      return guard('listLeases', () => ok([...leases.values()].sort(byLeaseName).map((l) => ({ ...l }))));
    },

    reclaimExpiredLeases(now) {
      return guard('reclaimExpiredLeases', () => {
        const freed = [...leases.values()].filter((l) => !isLeaseLive(l, now)).sort(byLeaseName);
        for (const lease of freed) leases.delete(lease.name);
        return ok(freed.map((l) => ({ ...l })));
      });
    },
  };
}
