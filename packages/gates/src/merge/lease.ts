import { hostname } from 'node:os';
import type { ConveyorError, Result, Store } from '@conveyor/core';

/**
 * The name of a repository's merge lease: one merge at a time per repository.
 *
 * @example
 * ```ts
 * mergeLeaseName('acme/web'); // 'merge:acme/web'
 * ```
 */
export function mergeLeaseName(repo: string): string {
  return `merge:${repo}`;
}

/** This process's default host id: `hostname:pid`. */
export function defaultHostId(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * The holder the merge gate uses for a task: the host and the task, so the
 * pipeline can release it later (on done, rollback, or a PR-merged event).
 *
 * @example
 * ```ts
 * const holder = mergeLeaseHolder('host-1', task.id);
 * ```
 */
export function mergeLeaseHolder(hostId: string, taskId: string): string {
  return `${hostId}/${taskId}`;
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
