import type {
  ConveyorError,
  Job,
  NewJob,
  NewTask,
  Result,
  StageSnapshot,
  Store,
  StoreBackend,
  Task,
} from '@conveyor/core';
import type { StoreConformanceOptions } from './store-conformance.js';

/** What each port's conformance cases get from {@link storeConformance}. */
export interface ConformanceContext {
  /** the store of the running test (a fresh one per test) */
  readonly store: () => Store;
  readonly options: StoreConformanceOptions;
}

/**
 * A stage snapshot for tests: `stage` (default `development`), `status`
 * (default `active`), every counter at 0.
 *
 * @example
 * ```ts
 * const gating = snapshotOf('development', 'gating');
 * ```
 */
export function snapshotOf(stage = 'development', status: StageSnapshot['status'] = 'active'): StageSnapshot {
  return { stage, status, step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 };
}

/**
 * A `createTaskIfAbsent` input for tests: issue `PLN-1` of project `web` in
 * `acme/web` on `task/<issue>`, at time 1000, with `overrides` on top.
 *
 * @example
 * ```ts
 * const created = await store.createTaskIfAbsent(newTask({ project: 'api', issueId: 'API-7' }));
 * ```
 */
export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  const issueId = overrides.issueId ?? 'PLN-1';
  return {
    project: 'web',
    issueId,
    repo: 'acme/web',
    branch: `task/${issueId}`,
    title: `Issue ${issueId}`,
    description: 'do the thing',
    snapshot: snapshotOf(),
    now: 1_000,
    ...overrides,
  };
}

/**
 * An `enqueueJob` input for tests: a developer agent job of `taskId`, step
 * `<taskId>:1`, available at 1000, with `overrides` on top.
 *
 * @example
 * ```ts
 * const { job } = value(await store.enqueueJob(newJob(task.id, { stepKey: 's2', availableAt: 5_000 })));
 * ```
 */
export function newJob(taskId: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    taskId,
    stage: 'development',
    agent: 'developer',
    kind: 'agent',
    stepKey: `${taskId}:1`,
    attempt: 1,
    input: { description: 'do the thing' },
    availableAt: 1_000,
    now: 1_000,
    ...overrides,
  };
}

/**
 * The value of an `ok` result; throws (failing the test) with the error's
 * code and message otherwise.
 *
 * @example
 * ```ts
 * const task = value(await store.getTask(id));
 * ```
 */
export function value<T>(result: Result<T, ConveyorError>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Conformance helper. */
export function failure<T>(result: Result<T, ConveyorError>): ConveyorError {
  if (result.ok) throw new Error(`expected an error, got ok: ${JSON.stringify(result.value)}`);
  return result.error;
}

/** Creates a task (see {@link newTask}) and returns it. */
export async function createTaskIn(store: Store, overrides: Partial<NewTask> = {}): Promise<Task> {
  return value(await store.createTaskIfAbsent(newTask(overrides))).task;
}

/**
 * Creates a task of `project` (issue `<project>-1` in `acme/<project>`) and
 * queues `count` jobs for it, steps `<project>:0`, `<project>:1`, …, available
 * at `firstAvailableAt`, `firstAvailableAt + 1`, …; returns the jobs in that order.
 *
 * @example
 * ```ts
 * const busy = await queueProjectJobs(store, 'busy', 100);
 * const [lonely] = await queueProjectJobs(store, 'quiet', 1, 5_000);
 * ```
 */
export async function queueProjectJobs(
  store: Store,
  project: string,
  count: number,
  firstAvailableAt = 100,
): Promise<Job[]> {
  const task = await createTaskIn(store, {
    project,
    issueId: `${project}-1`,
    repo: `acme/${project}`,
    branch: `task/${project}-1`,
  });
  const jobs: Job[] = [];
  for (let i = 0; i < count; i += 1) {
    const stepKey = `${project}:${i}`;
    jobs.push(value(await store.enqueueJob(newJob(task.id, { stepKey, availableAt: firstAvailableAt + i }))).job);
  }
  return jobs;
}

/** The optional extras of the ports, which `completeStore` falls back for. */
const EXTRAS = ['findTaskByIssue', 'findTaskByBranch', 'getLease'] as const;

/**
 * The store as a backend that implements only the required methods (every
 * method bound to the store), to run the `completeStore` fallbacks against it.
 */
export function withoutExtras(store: Store): StoreBackend {
  const backend: Record<string, unknown> = {};
  for (const key of Object.keys(store) as (keyof Store)[]) {
    const member = store[key];
    if (typeof member !== 'function' || (EXTRAS as readonly string[]).includes(key)) continue;
    backend[key] = (member as (...args: unknown[]) => unknown).bind(store);
  }
  return backend as unknown as StoreBackend;
}
