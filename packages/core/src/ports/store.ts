import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type { CardRefStore } from './card-ref-store.js';
import type { DeliveryLog } from './delivery-log.js';
import type { JobStore, JobStoreFastPaths } from './job-store.js';
import type { LeaseStore } from './lease-store.js';
import type { TaskStore } from './task-store.js';

/** A port with every optional extra present (what the runtime calls). */
export type Complete<Port> = { [K in keyof Port]-?: NonNullable<Port[K]> };

/** Closing a store: every later call resolves to an error. Closing twice is fine. */
export interface StoreLifecycle {
  close(): AsyncResult<void, ConveyorError>;
}

/**
 * What a store backend implements: the five ports (each with its required
 * methods and optional extras) and `close`. {@link completeStore} turns it
 * into a {@link Store}, falling back for each extra it lacks.
 */
export type StoreBackend = TaskStore &
  JobStore &
  JobStoreFastPaths &
  LeaseStore &
  DeliveryLog &
  CardRefStore &
  StoreLifecycle;

/**
 * Durable state, the sum of the small ports: tasks ({@link TaskStore}), jobs
 * ({@link JobStore}), leases ({@link LeaseStore}), the webhook delivery log
 * ({@link DeliveryLog}) and card refs ({@link CardRefStore}), with every
 * optional extra present. What the pipeline and the daemons take.
 *
 * Every method is async and resolves to a `Result`; none throws. The atomic
 * operations are the contract the conformance suite proves
 * (`storeConformance` in `@conveyor/testkit`, one file per port). A backend
 * that implements every extra (the SQLite and memory stores) is a `Store` as
 * it is; any other goes through {@link completeStore}.
 *
 * @example
 * ```ts
 * const opened = createSqliteStore({ path: 'state.db' });
 * if (!opened.ok) throw opened.error;
 * const store: Store = opened.value;
 * const task = await store.findTaskByIssue('web', 'PLN-1');
 * ```
 */
export interface Store
  extends Complete<TaskStore>,
    Complete<JobStore>,
    JobStoreFastPaths,
    Complete<LeaseStore>,
    DeliveryLog,
    CardRefStore,
    StoreLifecycle {}
