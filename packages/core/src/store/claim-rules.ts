import type { Job } from '../ports/domain.js';

/**
 * How many queued jobs a claim may start: what `maxConcurrency` leaves once
 * the running ones are counted, never below zero.
 *
 * @example
 * ```ts
 * const slots = claimSlots(input.maxConcurrency, runningCount); // 4 allowed, 3 running: 1
 * ```
 */
export function claimSlots(maxConcurrency: number, running: number): number {
  return Math.max(0, maxConcurrency - running);
}

/**
 * A queued job may be claimed once its `availableAt` has come.
 *
 * @example
 * ```ts
 * const claimable = queued.filter((job) => isClaimable(job, now));
 * ```
 */
export function isClaimable(job: Pick<Job, 'status' | 'availableAt'>, now: number): boolean {
  return job.status === 'queued' && job.availableAt <= now;
}

/**
 * The order jobs are claimed (and a claim's jobs returned) in: by
 * `availableAt`, then by id (creation order).
 *
 * @example
 * ```ts
 * const next = claimable.sort(byClaimOrder).slice(0, slots);
 * ```
 */
export function byClaimOrder(a: Pick<Job, 'availableAt' | 'id'>, b: Pick<Job, 'availableAt' | 'id'>): number {
  return a.availableAt - b.availableAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
