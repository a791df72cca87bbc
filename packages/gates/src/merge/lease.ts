// The one home of the merge lease's acquire, keep and release. Its name and
// holder live in core (`mergeLeaseName`, `mergeLeaseHolder`), which must not
// import gates.
import { hostname } from 'node:os';
import {
  type ConveyorError,
  err,
  type Lease,
  type Logger,
  mergeLeaseHolder,
  mergeLeaseName,
  ok,
  type Result,
  type Store,
} from '@conveyor/core';

/** This process's default host id: `hostname:pid`. */
export function defaultHostId(): string {
  return `${hostname()}:${process.pid}`;
}

/** The store methods the merge lease uses. */
export type MergeLeaseStore = Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease'>;

/** Options of {@link acquireMergeLease}. */
export interface AcquireMergeLeaseOptions {
  readonly store: MergeLeaseStore;
  /** `owner/name`: one lease per repository */
  readonly repo: string;
  readonly hostId: string;
  readonly taskId: string;
  /** renewed every third of it while held */
  readonly ttlMs: number;
  /** epoch ms */
  now(): number;
  readonly logger?: Logger;
}

/**
 * A held merge lease. It renews itself every third of its TTL until
 * {@link MergeLeaseHandle.release}; `confirm()` renews now and checks the
 * fencing token (call it right before every push and merge); `signal` aborts
 * as soon as the lease is known to be lost, so work done under it stops.
 */
export interface MergeLeaseHandle {
  readonly lease: Lease;
  /** aborted when a renewal finds the lease lost (expired and taken, or released by someone else) */
  readonly signal: AbortSignal;
  /** renews now with the fencing token; an error (`lease_lost`) means the lease is no longer ours */
  confirm(): Promise<Result<Lease, ConveyorError>>;
  /** stops renewing and releases the lease by holder and token; idempotent */
  release(): Promise<Result<{ released: boolean }, ConveyorError>>;
}

/** What {@link acquireMergeLease} got: the lease, or who holds it. */
export type MergeLeaseAcquisition =
  | { readonly acquired: true; readonly handle: MergeLeaseHandle }
  | { readonly acquired: false; readonly current: Lease };

/**
 * Acquires the merge lease of a repository for a task and keeps it renewed
 * while held. A busy lease is an outcome (`acquired: false` with the holder),
 * not an error.
 *
 * @example
 * ```ts
 * const got = await acquireMergeLease({ store, repo: task.repo, hostId, taskId: task.id, ttlMs: 120_000, now: Date.now });
 * if (got.ok && got.value.acquired) {
 *   try {
 *     if ((await got.value.handle.confirm()).ok) await push();
 *   } finally {
 *     await got.value.handle.release();
 *   }
 * }
 * ```
 */
export async function acquireMergeLease(
  options: AcquireMergeLeaseOptions,
): Promise<Result<MergeLeaseAcquisition, ConveyorError>> {
  const name = mergeLeaseName(options.repo);
  const holder = mergeLeaseHolder(options.hostId, options.taskId);
  const acquired = await options.store.acquireLease({ name, holder, ttlMs: options.ttlMs, now: options.now() });
  if (!acquired.ok) return err(acquired.error);
  const got = acquired.value;
  if (!got.acquired) return ok({ acquired: false, current: got.current });
  return ok({ acquired: true, handle: keepMergeLease(options, got.lease) });
}

function keepMergeLease(options: AcquireMergeLeaseOptions, lease: Lease): MergeLeaseHandle {
  const { store, ttlMs, logger } = options;
  const lostController = new AbortController();
  let lost: ConveyorError | undefined;
  let released: Promise<Result<{ released: boolean }, ConveyorError>> | undefined;
  const renew = async (): Promise<Result<Lease, ConveyorError>> => {
    if (lost !== undefined) return err(lost);
    const renewed = await store.renewLease({
      name: lease.name,
      holder: lease.holder,
      token: lease.token,
      ttlMs,
      now: options.now(),
    });
    if (!renewed.ok && renewed.error.code === 'lease_lost') {
      lost = renewed.error;
      logger?.warn('merge lease lost', { error: renewed.error.message, token: lease.token });
      lostController.abort(renewed.error);
    }
    return renewed;
  };
  const timer = setInterval(
    () => {
      renew().catch((thrown: unknown) => logger?.warn('merge lease renewal threw', { error: String(thrown) }));
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    lease,
    signal: lostController.signal,
    confirm: renew,
    release() {
      clearInterval(timer);
      released ??= store.releaseLease({ name: lease.name, holder: lease.holder, token: lease.token });
      return released;
    },
  };
}

/**
 * Releases the merge lease of `repo` if — and only if — `holder` holds it
 * (and, with `token`, only that grant of it). `released` is false when
 * someone else holds it (or nobody does). For an operator or a host that
 * lost its handle; the gate releases through its {@link MergeLeaseHandle}.
 *
 * @example
 * ```ts
 * await releaseMergeLease(store, task.repo, mergeLeaseHolder(hostId, task.id));
 * ```
 */
export function releaseMergeLease(
  store: Pick<Store, 'releaseLease'>,
  repo: string,
  holder: string,
  token?: number,
): Promise<Result<{ released: boolean }, ConveyorError>> {
  return store.releaseLease({ name: mergeLeaseName(repo), holder, ...(token === undefined ? {} : { token }) });
}
