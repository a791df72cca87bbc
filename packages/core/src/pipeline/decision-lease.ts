// The `decide:<taskId>` lease: one runner decides a task at a time, across
// hosts sharing a store; its fencing token guards the decision record's writes.
import { hostname } from 'node:os';
import { taskLeaseHolder } from '../leases/merge-lease.js';
import type { Lease } from '../ports/domain.js';
import type { Store } from '../ports/store.js';
import type { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';

/**
 * The name of the lease a decision of a task runs under.
 *
 * @example
 * ```ts
 * decisionLeaseName('task_000000000007'); // 'decide:task_000000000007'
 * ```
 */
export function decisionLeaseName(taskId: string): string {
  return `decide:${taskId}`;
}

/** This host's name in lease holders: `<hostname>:<pid>` (as the merge gate's). */
export function defaultHolderId(): string {
  return `${hostname()}:${process.pid}`;
}

/** A held decision lease, renewed in the background until released. */
export interface HeldDecisionLease {
  readonly lease: Lease;
  /** aborted when a renewal finds the lease lost */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Acquires `decide:<taskId>` as `<hostId>/task:<taskId>` (a task's holder, so
 * the runtime frees it with the task's other leases when the task is over);
 * `undefined` when someone holds it. The lease is renewed every third of its
 * TTL; a failed renewal aborts `lost`.
 */
export async function acquireDecisionLease(
  store: Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease'>,
  taskId: string,
  hostId: string,
  ttlMs: number,
  now: () => number,
): Promise<Result<HeldDecisionLease | undefined, ConveyorError>> {
  const name = decisionLeaseName(taskId);
  const holder = `${hostId}/${taskLeaseHolder(taskId)}`;
  const got = await store.acquireLease({ name, holder, ttlMs, now: now() });
  if (!got.ok) return err(got.error);
  if (!got.value.acquired) return ok(undefined);
  const { lease } = got.value;
  const lost = new AbortController();
  const timer = setInterval(
    () => {
      void store.renewLease({ name, holder, token: lease.token, ttlMs, now: now() }).then((renewed) => {
        if (!renewed.ok) lost.abort(new Error(`the decision lease ${name} was lost: ${renewed.error.message}`));
      });
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return ok({
    lease,
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      await store.releaseLease({ name, holder, token: lease.token });
    },
  });
}
