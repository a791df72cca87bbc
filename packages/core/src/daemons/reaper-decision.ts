import type { Job } from '../ports/domain.js';

/** Settings of the reaper's decision. */
export interface ReaperPolicy {
  /** consecutive ticks a pid must be seen dead before the job is flipped */
  readonly deadTicks: number;
  /** a job running longer than this is flipped (and its process killed) */
  readonly maxRunningMs: number;
  /** a running job with no pid stamped after this long is flipped (its worker died before starting it) */
  readonly noPidGraceMs: number;
}

/** What the reaper saw of one running job this tick. */
export interface ReaperObservation {
  readonly job: Job;
  /** `undefined` when the job has no pid or the probe failed; `true` also when a live worker watches it */
  readonly alive?: boolean;
  /** the exit code, when it is known (an exit record) */
  readonly exitCode?: number | null;
}

/** One terminal flip the reaper must perform. */
export interface ReapAction {
  readonly jobId: string;
  readonly status: 'succeeded' | 'failed';
  readonly exitCode: number | null;
  readonly reason: string;
  /** kill this pid first (a job running past the maximum) */
  readonly killPid?: number;
}

/** The output of {@link decideReaping}. */
export interface ReaperDecision {
  readonly actions: readonly ReapAction[];
  /** dead-tick counts to carry to the next tick, by job id (jobs no longer running are dropped) */
  readonly deadCounts: ReadonlyMap<string, number>;
}

/**
 * The reaper's decision, pure: given the running jobs, what the probe said,
 * the dead-tick counts of the last tick and the time, which jobs to flip.
 *
 * - running longer than `maxRunningMs` → `failed` (kill the pid if alive);
 * - no pid after `noPidGraceMs` → `failed`;
 * - pid dead and exit code known → flipped at once: `succeeded` for exit 0
 *   (the stage's gates then decide, not the exit code), `failed` otherwise;
 * - pid dead for `deadTicks` consecutive ticks, exit unknown → `failed`, exit code `null`.
 *
 * @example
 * ```ts
 * const { actions, deadCounts } = decideReaping(observations, previousCounts, clock.now(), { deadTicks: 3, maxRunningMs: 3_600_000, noPidGraceMs: 60_000 });
 * ```
 */
export function decideReaping(
  observations: readonly ReaperObservation[],
  previous: ReadonlyMap<string, number>,
  now: number,
  policy: ReaperPolicy,
): ReaperDecision {
  const actions: ReapAction[] = [];
  const deadCounts = new Map<string, number>();
  for (const { job, alive, exitCode } of observations) {
    if (job.status !== 'running') continue;
    const startedAt = job.startedAt ?? job.createdAt;
    const ranMs = now - startedAt;
    if (ranMs > policy.maxRunningMs) {
      actions.push({
        jobId: job.id,
        status: 'failed',
        exitCode: null,
        reason: `ran ${Math.round(ranMs / 1000)} s, longer than the maximum ${Math.round(policy.maxRunningMs / 1000)} s`,
        ...(job.pid !== undefined && alive !== false ? { killPid: job.pid } : {}),
      });
      continue;
    }
    if (job.pid === undefined) {
      // `alive: true` without a pid: a live worker is watching it
      if (alive !== true && ranMs > policy.noPidGraceMs) {
        actions.push({
          jobId: job.id,
          status: 'failed',
          exitCode: null,
          reason: `no pid stamped ${Math.round(ranMs / 1000)} s after the claim (its worker died before starting it)`,
        });
      }
      continue;
    }
    const before = previous.get(job.id) ?? 0;
    const count = alive === false ? before + 1 : alive === true ? 0 : before;
    if (alive === false && exitCode !== undefined) {
      actions.push({
        jobId: job.id,
        status: exitCode === 0 ? 'succeeded' : 'failed',
        exitCode,
        reason: `pid ${job.pid} ended with ${exitCode === null ? 'a signal' : `exit code ${exitCode}`} and no worker recorded it`,
      });
      continue;
    }
    if (count >= policy.deadTicks) {
      actions.push({
        jobId: job.id,
        status: 'failed',
        exitCode: null,
        reason: `pid ${job.pid} dead for ${count} consecutive reaper ticks`,
      });
      continue;
    }
    if (count > 0) deadCounts.set(job.id, count);
  }
  return { actions, deadCounts };
}
