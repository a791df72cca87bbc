import { byClaimOrder } from './claim-rules.js';

/** Per-project limits on running jobs, as a store's options carry them. */
export interface ProjectLimitOptions {
  /** running jobs allowed per project, by project key; others get `defaultProjectLimit` */
  readonly projectLimits?: Readonly<Record<string, number>>;
  /** running jobs allowed per project not named in `projectLimits` (default: only the global `maxConcurrency`) */
  readonly defaultProjectLimit?: number;
}

/** What a fair claim needs to know of a claimable job. */
export interface FairClaimCandidate {
  readonly id: string;
  readonly project: string;
  readonly availableAt: number;
}

/**
 * The running-job limit of one project, or `undefined` when only the global
 * `maxConcurrency` bounds it.
 *
 * @example
 * ```ts
 * projectLimitOf({ projectLimits: { web: 2 }, defaultProjectLimit: 1 }, 'api'); // 1
 * ```
 */
export function projectLimitOf(limits: ProjectLimitOptions, project: string): number | undefined {
  const named = limits.projectLimits;
  if (named !== undefined && Object.hasOwn(named, project)) return named[project];
  return limits.defaultProjectLimit;
}

/**
 * How many jobs of one project a claim may start: the free global `slots`,
 * bounded by what the project's limit leaves once its running jobs are counted.
 *
 * @example
 * ```ts
 * projectClaimQuota({ projectLimits: { web: 2 } }, 'web', 1, 5); // 1
 * ```
 */
export function projectClaimQuota(
  limits: ProjectLimitOptions,
  project: string,
  running: number,
  slots: number,
): number {
  const limit = projectLimitOf(limits, project);
  return limit === undefined ? Math.max(0, slots) : Math.min(slots, Math.max(0, limit - running));
}

/**
 * The jobs one claim starts, in the order it starts them: the first claimable
 * job of every project, then the second of every project, and so on (within
 * a project by {@link byClaimOrder}; projects of one round by their jobs'
 * `availableAt`, then id), at most `slots` in all and never more for a
 * project than its limit leaves once its `running` jobs are counted. A busy
 * project's queue therefore never delays another project's first job.
 *
 * `claimable` may hold only the first few jobs of each project (as many as
 * `slots`); it need not be sorted.
 *
 * @example
 * ```ts
 * const slots = claimSlots(maxConcurrency, runningCount);
 * const starting = pickFairClaims(claimable, runningByProject, slots, { projectLimits: { web: 4 } });
 * ```
 */
export function pickFairClaims<T extends FairClaimCandidate>(
  claimable: readonly T[],
  running: ReadonlyMap<string, number>,
  slots: number,
  limits: ProjectLimitOptions,
): T[] {
  if (slots <= 0) return [];
  const byProject = new Map<string, T[]>();
  for (const job of claimable) {
    const queue = byProject.get(job.project);
    if (queue) queue.push(job);
    else byProject.set(job.project, [job]);
  }
  const ranked: { job: T; rank: number }[] = [];
  for (const [project, queue] of byProject) {
    const quota = projectClaimQuota(limits, project, running.get(project) ?? 0, slots);
    queue.sort(byClaimOrder);
    queue.slice(0, quota).forEach((job, rank) => {
      ranked.push({ job, rank });
    });
  }
  ranked.sort((a, b) => a.rank - b.rank || byClaimOrder(a.job, b.job));
  return ranked.slice(0, slots).map((r) => r.job);
}
