import type { Lease, Task } from '../ports/domain.js';
import type { FinishAndClaim, FinishAndClaimOutcome, JobStore } from '../ports/job-store.js';
import type { Store, StoreBackend } from '../ports/store.js';
import type { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { createStoreErrors } from './store-errors.js';

const fallbackErrors = createStoreErrors('@conveyor/core');

/** How many tasks a fallback finder reads per page. */
const FALLBACK_PAGE = 200;

/** Pages through `listTasks(query)` until `found` matches. */
async function scanTasks(
  backend: StoreBackend,
  query: { readonly project?: string; readonly repo?: string },
  found: (task: Task) => boolean,
): Promise<Result<Task | undefined, ConveyorError>> {
  let afterId: string | undefined;
  for (;;) {
    const page = await backend.listTasks({
      ...query,
      limit: FALLBACK_PAGE,
      ...(afterId === undefined ? {} : { afterId }),
    });
    if (!page.ok) return err(page.error);
    const hit = page.value.find(found);
    if (hit) return ok(hit);
    const last = page.value[page.value.length - 1];
    if (!last || page.value.length < FALLBACK_PAGE) return ok(undefined);
    afterId = last.id;
  }
}

/**
 * The fallback of `finishAndClaim`: `finishJob`, then `claimJobs` (two round
 * trips). A failed flip is the error; a claim failing after the flip is
 * reported in `claimError` beside the flip, with nothing claimed.
 */
async function finishThenClaim(
  jobs: Pick<JobStore, 'finishJob' | 'claimJobs'>,
  input: FinishAndClaim,
): Promise<Result<FinishAndClaimOutcome, ConveyorError>> {
  // a claim that cannot succeed must not leave the flip behind it
  const bad = fallbackErrors.checkMaxConcurrency(input.claim.maxConcurrency);
  if (bad) return err(bad);
  const finished = await jobs.finishJob(input.finish);
  if (!finished.ok) return err(finished.error);
  const claimed = await jobs.claimJobs(input.claim);
  return ok(
    claimed.ok
      ? { finished: finished.value, claimed: claimed.value }
      : { finished: finished.value, claimed: [], claimError: claimed.error },
  );
}

/**
 * Turns a store backend into a {@link Store}: the one place that falls back
 * when an optional method is missing (`findTaskByIssue` and
 * `findTaskByBranch` page through `listTasks`; `getLease` reads
 * `listLeases`; `finishAndClaim` is `finishJob` then `claimJobs`). Methods the backend has are used as they are, bound to it. A
 * backend that has every extra is returned unchanged.
 *
 * @example
 * ```ts
 * const store = completeStore(createPostgresBackend(pool)); // implements only the required methods
 * const task = await store.findTaskByBranch('acme/web', 'task/PLN-1');
 * ```
 */
export function completeStore(backend: StoreBackend): Store {
  const { findTaskByIssue, findTaskByBranch, getLease, finishAndClaim } = backend;
  if (findTaskByIssue && findTaskByBranch && getLease && finishAndClaim) return backend as Store;
  const store: Store = {
    createTaskIfAbsent: (input) => backend.createTaskIfAbsent(input),
    getTask: (taskId) => backend.getTask(taskId),
    listTasks: (query) => backend.listTasks(query),
    saveTransition: (input) => backend.saveTransition(input),
    listHistory: (taskId) => backend.listHistory(taskId),
    findTaskByIssue: findTaskByIssue
      ? findTaskByIssue.bind(backend)
      : (project, issueId) => scanTasks(backend, { project }, (t) => t.issueId === issueId),
    findTaskByBranch: findTaskByBranch
      ? findTaskByBranch.bind(backend)
      : (repo, branch) => scanTasks(backend, { repo }, (t) => t.branch === branch),

    enqueueJob: (input) => backend.enqueueJob(input),
    claimJobs: (input) => backend.claimJobs(input),
    setJobPid: (jobId, pid) => backend.setJobPid(jobId, pid),
    finishJob: (input) => backend.finishJob(input),
    finishAndClaim: finishAndClaim ? finishAndClaim.bind(backend) : (input) => finishThenClaim(backend, input),
    getJob: (jobId) => backend.getJob(jobId),
    listJobs: (query) => backend.listJobs(query),
    cancelQueuedJobs: (taskId, reason, now) => backend.cancelQueuedJobs(taskId, reason, now),

    acquireLease: (input) => backend.acquireLease(input),
    renewLease: (input) => backend.renewLease(input),
    releaseLease: (input) => backend.releaseLease(input),
    listLeases: () => backend.listLeases(),
    reclaimExpiredLeases: (now) => backend.reclaimExpiredLeases(now),
    getLease: getLease
      ? getLease.bind(backend)
      : async (name): Promise<Result<Lease | undefined, ConveyorError>> => {
          const all = await backend.listLeases();
          if (!all.ok) return err(all.error);
          return ok(all.value.find((lease) => lease.name === name));
        },

    recordDelivery: (input) => backend.recordDelivery(input),
    markDeliveryHandled: (input) => backend.markDeliveryHandled(input),
    markDeliveryFailed: (input) => backend.markDeliveryFailed(input),

    getCardRef: (taskId, channel) => backend.getCardRef(taskId, channel),
    setCardRef: (taskId, channel, ref) => backend.setCardRef(taskId, channel, ref),
    deleteCardRef: (taskId, channel) => backend.deleteCardRef(taskId, channel),

    close: () => backend.close(),
  };
  return Object.freeze(store);
}
