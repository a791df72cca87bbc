import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import * as z from 'zod';
import { GATES_PKG } from '../git/run.js';

/**
 * The merge gate's settings. Whether the gate runs and for which repositories
 * is core's business (`mergeGateEnabled`, `mergeGateRepos` in the core
 * settings, applied by the gate registry). Keys carry the `merge` prefix so
 * they load from the environment (`ORCH_MERGE_RETEST_COMMAND`, …) beside the
 * core settings with `parseEnvSettings`. `mergeLeaseTtlMs` may be shorter than the retest: the
 * gate renews the lease every third of it while it works.
 */
export const mergeSettingsSchema = z.object({
  /** the branch tasks merge into */
  mergeBaseBranch: z.string().min(1).default('main').describe('the branch tasks merge into'),
  /** the remote's name in the local clone */
  mergeRemote: z.string().min(1).default('origin').describe("the remote's name in the local clone"),
  /** the repository's test command, run by a shell in the rebased worktree */
  mergeRetestCommand: z
    .string()
    .min(1)
    .describe("the repository's test command, run by a shell in the rebased worktree"),
  mergeRetestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(600_000)
    .describe('the retest is killed after this long (ms); a timed-out retest fails the gate'),
  /** per git command */
  mergeGitTimeoutMs: z.number().int().positive().default(120_000).describe('per git command'),
  /** the merge lease's time to live; renewed every third of it */
  mergeLeaseTtlMs: z
    .number()
    .int()
    .min(100)
    .default(120_000)
    .describe("the merge lease's time to live; renewed every third of it"),
  /** how long to wait before trying again when the lease is busy */
  mergeDeferMs: z
    .number()
    .int()
    .nonnegative()
    .default(30_000)
    .describe('how long to wait before trying again when the lease is busy'),
  /**
   * when the base branch moves after the retest (a hotfix), how many more
   * times the gate rebases onto the new base and retests before it defers
   */
  mergeBaseRetries: z
    .number()
    .int()
    .nonnegative()
    .default(2)
    .describe(
      'when the base branch moves after the retest, how many more times the gate rebases onto it and retests before deferring',
    ),
  /** where the local clones and per-task worktrees live */
  mergeWorktreeRoot: z.string().min(1).describe('where the local clones and per-task worktrees live'),
  /**
   * how the forge merges. `fast-forward-only` (the default) moves the base
   * branch to exactly the retested commit, and the forge itself refuses when
   * the base moved. Any other method makes the forge build a new commit: the
   * gate then checks right before the merge that the base is still the one
   * it retested on (otherwise it rebases and retests again), but a commit
   * landing on the base in the instant between that check and the forge's
   * merge is not covered.
   */
  mergeMethod: z
    .enum(['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only'])
    .default('fast-forward-only')
    .describe(
      'how the forge merges: `fast-forward-only` (default) puts exactly the retested commit on the base branch; other methods are checked against the retested base right before the merge',
    ),
  /** how many trailing lines and bytes of a red retest become the finding */
  mergeTailLines: z
    .number()
    .int()
    .positive()
    .default(50)
    .describe('the most trailing lines of a red retest output kept as the finding'),
  mergeTailBytes: z
    .number()
    .int()
    .positive()
    .default(8192)
    .describe('the most bytes of a red retest output kept as the finding'),
  /** retries of a merge the forge refused as `head_out_of_date` right after our push (forges update PR heads asynchronously) */
  mergeHeadRetries: z
    .number()
    .int()
    .nonnegative()
    .default(2)
    .describe(
      'retries of a merge the forge refused as `head_out_of_date` right after our push (forges update PR heads asynchronously)',
    ),
  mergeHeadRetryDelayMs: z.number().int().nonnegative().default(1000).describe('delay between those retries (ms)'),
  /** the committer of rebased commits */
  mergeCommitterName: z.string().min(1).default('Conveyor').describe('the committer name of rebased commits'),
  mergeCommitterEmail: z
    .string()
    .min(1)
    .default('conveyor@localhost')
    .describe('the committer e-mail of rebased commits'),
});

/** Parsed merge settings (every default filled in). */
export type MergeSettings = z.output<typeof mergeSettingsSchema>;
/** Merge settings as written by a person (defaults optional). */
export type MergeSettingsInput = z.input<typeof mergeSettingsSchema>;

/**
 * Validates merge settings; the error names every wrong key.
 *
 * @example
 * ```ts
 * const s = parseMergeSettings({ mergeRetestCommand: 'npm test', mergeWorktreeRoot: '/srv/conveyor/wt' });
 * if (!s.ok) console.error(s.error.message);
 * ```
 */
export function parseMergeSettings(input: unknown): Result<MergeSettings, ConveyorError> {
  const parsed = mergeSettingsSchema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return err(
    new ConveyorError(GATES_PKG, 'invalid_config', `invalid merge settings: ${issues.join('; ')}`, {
      details: { issues },
    }),
  );
}
