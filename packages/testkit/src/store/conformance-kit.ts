import type { ConveyorError, NewJob, NewTask, Result, StageSnapshot, Store, StoreBackend, Task } from '@conveyor/core';
import type { StoreConformanceOptions } from './store-conformance.js';

/** What each port's conformance cases get from {@link storeConformance}. */
export interface ConformanceContext {
  /** the store of the running test (a fresh one per test) */
  readonly store: () => Store;
  readonly options: StoreConformanceOptions;
}

/** Conformance helper. */
export function snapshotOf(stage = 'development', status: StageSnapshot['status'] = 'active'): StageSnapshot {
  return { stage, status, step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 };
}

/** Conformance helper. */
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

/** Conformance helper. */
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

/** Conformance helper. */
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
