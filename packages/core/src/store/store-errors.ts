import type { Lease } from '../ports/domain.js';
import { ConveyorError } from '../result/errors.js';

/**
 * The errors every `Store` reports, with the same codes, words and details
 * whatever the backend, so callers (and the conformance suite) can rely on
 * them. Validators return `undefined` when the input is fine.
 */
export interface StoreErrors {
  /** `internal`: a method called after `close()` */
  closed(method: string, store: string): ConveyorError;
  /** `invalid_input` when `limit` is given and is not a non-negative integer */
  checkLimit(method: string, limit: number | undefined): ConveyorError | undefined;
  /** `invalid_input` when `maxConcurrency` is not a non-negative integer */
  checkMaxConcurrency(maxConcurrency: number): ConveyorError | undefined;
  /** `invalid_input` when a lease's `ttlMs` is not positive */
  checkTtl(method: string, name: string, ttlMs: number): ConveyorError | undefined;
  /** `not_found`: no such task */
  taskNotFound(method: string, taskId: string): ConveyorError;
  /** `conflict`: `saveTransition` with a stale version; nothing was written */
  versionConflict(taskId: string, actualVersion: number, expectedVersion: number): ConveyorError;
  /** `not_found`: no such job */
  jobNotFound(method: string, jobId: string): ConveyorError;
  /** `conflict`: the job is not running */
  jobNotRunning(method: string, jobId: string, status: string): ConveyorError;
  /** `lease_lost`: a renewal by a holder or token that no longer holds the lease */
  leaseLost(
    input: { name: string; holder: string; token: number },
    current: Pick<Lease, 'holder' | 'token'> | undefined,
  ): ConveyorError;
}

/**
 * The {@link StoreErrors} of a store package.
 *
 * @example
 * ```ts
 * const errors = createStoreErrors('@conveyor/store-postgres');
 * const bad = errors.checkLimit('listTasks', query.limit);
 * if (bad) return err(bad);
 * ```
 */
export function createStoreErrors(pkg: string): StoreErrors {
  const invalid = (message: string) => new ConveyorError(pkg, 'invalid_input', message);
  return Object.freeze({
    closed: (method: string, store: string) =>
      new ConveyorError(pkg, 'internal', `${method}() called on ${store} after close()`),
    checkLimit: (method: string, limit: number | undefined) =>
      limit !== undefined && (!Number.isInteger(limit) || limit < 0)
        ? invalid(`${method}: limit must be a non-negative integer, got ${limit}`)
        : undefined,
    checkMaxConcurrency: (maxConcurrency: number) =>
      !Number.isInteger(maxConcurrency) || maxConcurrency < 0
        ? invalid(`claimJobs: maxConcurrency must be a non-negative integer, got ${maxConcurrency}`)
        : undefined,
    checkTtl: (method: string, name: string, ttlMs: number) =>
      ttlMs > 0 ? undefined : invalid(`${method} ${name}: ttlMs must be positive, got ${ttlMs}`),
    taskNotFound: (method: string, taskId: string) =>
      new ConveyorError(pkg, 'not_found', `${method}: task ${taskId} does not exist`),
    versionConflict: (taskId: string, actualVersion: number, expectedVersion: number) =>
      new ConveyorError(
        pkg,
        'conflict',
        `saveTransition: task ${taskId} is at version ${actualVersion}, expected ${expectedVersion}`,
        { details: { taskId, expectedVersion, actualVersion } },
      ),
    jobNotFound: (method: string, jobId: string) =>
      new ConveyorError(pkg, 'not_found', `${method}: job ${jobId} does not exist`),
    jobNotRunning: (method: string, jobId: string, status: string) =>
      new ConveyorError(pkg, 'conflict', `${method}: job ${jobId} is ${status}, not running`, {
        details: { jobId, status },
      }),
    leaseLost: (
      input: { name: string; holder: string; token: number },
      current: Pick<Lease, 'holder' | 'token'> | undefined,
    ) =>
      new ConveyorError(
        pkg,
        'lease_lost',
        `renewLease: lease ${input.name} is no longer held by ${input.holder} with token ${input.token}`,
        {
          details: {
            name: input.name,
            holder: input.holder,
            token: input.token,
            ...(current ? { currentHolder: current.holder, currentToken: current.token } : {}),
          },
        },
      ),
  });
}
