import {
  type ConveyorError,
  type DecisionStore,
  err,
  ok,
  type Result,
  type Store,
  toConveyorError,
} from '@conveyor/core';
import { createMemoryCardRefs } from './memory-card-refs.js';
import { createMemoryDecisions } from './memory-decisions.js';
import { createMemoryDeliveries } from './memory-deliveries.js';
import { createMemoryJobs } from './memory-jobs.js';
import { createMemoryLeases } from './memory-leases.js';
import { errors, type Guard, type MemoryStoreMethod, PKG } from './memory-shared.js';
import { createMemoryTasks } from './memory-tasks.js';

export type { MemoryStoreMethod } from './memory-shared.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Fault injection for tests of callers: called before every method; a
   * returned error is what the method resolves to (nothing is changed).
   */
  readonly fault?: (method: MemoryStoreMethod) => ConveyorError | undefined;
  /** running jobs allowed per project, by project key; others get `defaultProjectLimit` */
  readonly projectLimits?: Readonly<Record<string, number>>;
  /** running jobs allowed per project not named in `projectLimits` (default: only the global `maxConcurrency`) */
  readonly defaultProjectLimit?: number;
}

/** An in-memory `Store`: every port, every optional extra, and the decision record. */
export type MemoryStore = Store & DecisionStore;

/**
 * Creates an in-memory `Store` with the same semantics as the SQLite store:
 * one task per (project, issueId), jobs idempotent by `stepKey`, `claimJobs`
 * bounded by `maxConcurrency`, the per-project limits and `availableAt` and
 * fair across projects, the terminal flip only from
 * `running`, optimistic `saveTransition`, leases with fencing tokens that only
 * grow, a delivery log that counts a delivery handled only once it succeeded,
 * and card refs. The rules (ids, claims, leases, history, deliveries) are
 * core's, shared with every backend. One file per table.
 *
 * Every value handed out is a copy; after `close()` every call resolves to an
 * error. The state lives in this process only.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * const res = await store.createTaskIfAbsent({ project: 'web', issueId: 'PLN-1', repo: 'acme/web', branch: 'task/PLN-1', title: 'Login', description: '', snapshot, now: 0 });
 * if (res.ok) console.log(res.value.task.id, res.value.created);
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const fault = options.fault;
  let closed = false;

  const guard: Guard = (method, body) => {
    if (closed) return Promise.resolve(err(errors.closed(method, 'the memory store')));
    const injected = fault?.(method);
    if (injected) return Promise.resolve(err(injected));
    try {
      return Promise.resolve(body());
    } catch (thrown) {
      return Promise.resolve(err(toConveyorError(PKG, thrown, 'internal', `memory store ${method}() failed`)));
    }
  };

  const projects = new Map<string, string>();
  const limits = {
    ...(options.projectLimits === undefined ? {} : { projectLimits: { ...options.projectLimits } }),
    ...(options.defaultProjectLimit === undefined ? {} : { defaultProjectLimit: options.defaultProjectLimit }),
  };
  return {
    ...createMemoryTasks(guard, projects),
    ...createMemoryJobs(guard, projects, limits),
    ...createMemoryLeases(guard),
    ...createMemoryDeliveries(guard),
    ...createMemoryCardRefs(guard),
    // fault injection names decision methods too
    ...createMemoryDecisions((method, body) => guard(method as MemoryStoreMethod, body)),
    close(): Promise<Result<void, ConveyorError>> {
      closed = true;
      return Promise.resolve(ok());
    },
  };
}
