import type { NewTask, ProjectLimitOptions, Store } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardRefStoreConformance } from './card-ref-conformance.js';
import { type ConformanceContext, createTaskIn, newTask, value } from './conformance-kit.js';
import { crossProcessConformance } from './cross-process-conformance.js';
import { deliveryLogConformance } from './delivery-conformance.js';
import { fairClaimConformance } from './fair-claim-conformance.js';
import { finishAndClaimConformance } from './finish-claim-conformance.js';
import { jobStoreConformance } from './job-conformance.js';
import { leaseStoreConformance } from './lease-conformance.js';
import { taskStoreConformance } from './task-conformance.js';

/**
 * A store as handed to {@link storeConformance}: a complete `Store` (pass a
 * backend that lacks optional extras through `completeStore` first).
 */
export type StoreUnderTest = Store;

/** Makes a fresh, empty store for one test. */
export type StoreFactory = () => StoreUnderTest | Promise<StoreUnderTest>;

/** One operation raced by several processes (see {@link StoreConformanceOptions.spawnRacers}). */
export type RacerRequest =
  /** every racer calls `createTaskIfAbsent(input)` */
  | { readonly kind: 'createTaskIfAbsent'; readonly input: NewTask }
  /** racer `i` calls `finishJob({ jobId, status: 'succeeded', reason: \`racer ${i}\`, exitCode: i, now })` */
  | { readonly kind: 'finishJob'; readonly jobId: string; readonly now: number }
  /** every racer calls `claimJobs({ maxConcurrency, now })` */
  | { readonly kind: 'claimJobs'; readonly maxConcurrency: number; readonly now: number };

/** What one racer saw. */
export interface RacerOutcome {
  /** the racer's index, 0-based */
  readonly index: number;
  /** `false` when the call resolved to an error */
  readonly ok: boolean;
  /** `createTaskIfAbsent`: whether this racer created the task */
  readonly created?: boolean;
  /** `createTaskIfAbsent`: the id of the task it got back */
  readonly taskId?: string;
  /** `finishJob`: whether this racer won the terminal flip */
  readonly won?: boolean;
  /** `claimJobs`: the ids of the jobs this racer claimed */
  readonly claimedJobIds?: readonly string[];
  /** the error message when `ok` is false */
  readonly error?: string;
}

/** Options of {@link storeConformance}. */
export interface StoreConformanceOptions {
  /** Runs after each test, once the store is closed (e.g. deletes its temp file). */
  readonly cleanup?: (store: StoreUnderTest) => void | Promise<void>;
  /**
   * For stores shared between processes: starts `racers` real processes or worker threads
   * on the same backing state as `store`, each performing `request` once, as
   * close to simultaneously as it can, and resolves to what each saw. Without
   * it, the cross-process cases are skipped.
   */
  readonly spawnRacers?: (store: StoreUnderTest, request: RacerRequest, racers: number) => Promise<RacerOutcome[]>;
  /** How many racers to start (default 4). */
  readonly racers?: number;
  /** Time limit of each cross-process case, process start-up included (default 120 000 ms). */
  readonly racerTimeoutMs?: number;
  /**
   * The store claims fairly across projects: the first claimable job of every
   * project before the second of any (each project's own in `availableAt`,
   * then id order). With it the fair-order cases run.
   */
  readonly fairClaims?: boolean;
  /**
   * Opens a fresh store that keeps these per-project limits on running jobs;
   * with `shareWith`, one on the same backing state as that store (a second
   * connection, another host; a store that lives in one process's memory may
   * return `shareWith` itself). The suite closes what it opened and runs
   * `cleanup` once. With it the per-project limit cases run.
   */
  readonly openWithProjectLimits?: (
    limits: ProjectLimitOptions,
    shareWith?: StoreUnderTest,
  ) => StoreUnderTest | Promise<StoreUnderTest>;
}

/**
 * The shared suite every `Store` runs, one file per port: `TaskStore` (atomic
 * task creation, finders, listing, the optimistic transition guard and
 * history), `JobStore` (enqueue idempotency, claim limits and delays, the
 * single winner of the terminal flip), `LeaseStore` (one holder, strictly
 * growing fencing tokens), `DeliveryLog` (handled only once handling
 * succeeded), `CardRefStore`, fair claims and per-project limits when the
 * store declares them, the `completeStore` fallbacks of the optional
 * extras against the backend itself, the cross-process races when
 * `spawnRacers` is given, and errors after close.
 *
 * Details the ports leave open, which the suite pins down: a task starts at
 * `version` 1; ids sort in creation order; a holder acquiring a lease it
 * already holds gets `acquired: false` (it renews instead); renewing an
 * expired lease is `lease_lost`; `setJobPid` on a job that is not running is a
 * `conflict`; `finishJob` on a queued job does not win; a `null` exit code is
 * kept apart from none.
 *
 * Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { createMemoryStore, storeConformance } from '@conveyor/testkit';
 * storeConformance('memory', () => createMemoryStore());
 * ```
 */
export function storeConformance(name: string, makeStore: StoreFactory, options: StoreConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, () => {
    let store: StoreUnderTest;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
      await options.cleanup?.(store);
    });

    const ctx: ConformanceContext = { store: () => store, options };
    taskStoreConformance(ctx);
    jobStoreConformance(ctx);
    finishAndClaimConformance(ctx);
    leaseStoreConformance(ctx);
    deliveryLogConformance(ctx);
    cardRefStoreConformance(ctx);
    crossProcessConformance(ctx);
    fairClaimConformance(ctx);

    async function createTask(overrides: Partial<NewTask> = {}) {
      return createTaskIn(store, overrides);
    }

    describe('after close', () => {
      it('resolves every call to an error instead of throwing', async () => {
        const task = await createTask();
        value(await store.close());
        expect((await store.getTask(task.id)).ok).toBe(false);
        expect((await store.createTaskIfAbsent(newTask({ issueId: 'late' }))).ok).toBe(false);
        expect((await store.claimJobs({ maxConcurrency: 1, now: 1 })).ok).toBe(false);
        expect((await store.acquireLease({ name: 'l', holder: 'A', ttlMs: 1, now: 1 })).ok).toBe(false);
        expect((await store.recordDelivery({ source: 's', deliveryId: 'd', now: 1 })).ok).toBe(false);
        expect((await store.listTasks({})).ok).toBe(false);
      });
    });
  });
}
