import { hostname } from 'node:os';
import { type ConveyorError, mergeLeaseName, type Result, type Store, taskLeaseHolder } from '@conveyor/core';

/** This process's default host id: `hostname:pid`. */
export function defaultHostId(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * The holder the merge gate uses for a task: the host and the task's holder
 * name (`<host>/task:<id>`), so the pipeline recognises it as the task's
 * (`taskOfLeaseHolder`) and releases it on done, on rollback, or when a
 * PR-merged event arrives.
 *
 * @example
 * ```ts
 * const holder = mergeLeaseHolder('host-1', task.id);
 * ```
 */
export function mergeLeaseHolder(hostId: string, taskId: string): string {
  return `${hostId}/${taskLeaseHolder(taskId)}`;
}

/**
 * Releases the merge lease of `repo` if — and only if — `holder` holds it.
 * `released` is false when someone else holds it (or nobody does).
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
