import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { z } from 'zod';
import { GATES_PKG } from '../git/run.js';

/**
 * The merge gate's settings. `leaseTtlMs` may be shorter than the retest: the
 * gate renews the lease every third of it while it works.
 */
export const mergeSettingsSchema = z.object({
  /** when false the gate passes without doing anything */
  enabled: z.boolean().default(true),
  /** repositories (`owner/name`) the gate acts on; empty = every repository it is registered for */
  repos: z.array(z.string().min(1)).default([]),
  /** the branch tasks merge into */
  baseBranch: z.string().min(1).default('main'),
  /** the remote's name in the local clone */
  remote: z.string().min(1).default('origin'),
  /** the repository's test command, run by a shell in the rebased worktree */
  retestCommand: z.string().min(1),
  retestTimeoutMs: z.number().int().positive().default(600_000),
  /** per git command */
  gitTimeoutMs: z.number().int().positive().default(120_000),
  /** the merge lease's time to live; renewed every third of it */
  leaseTtlMs: z.number().int().min(100).default(120_000),
  /** how long to wait before trying again when the lease is busy */
  deferMs: z.number().int().nonnegative().default(30_000),
  /** after this many consecutive deferrals the gate fails instead of deferring again */
  maxDeferrals: z.number().int().positive().default(20),
  /** where the local clones and per-task worktrees live */
  worktreeRoot: z.string().min(1),
  /** how the forge merges (the rebased head makes every method safe; `fast-forward-only` is the strictest) */
  mergeMethod: z.enum(['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only']).default('merge'),
  /** how many trailing lines and bytes of a red retest become the finding */
  tailLines: z.number().int().positive().default(50),
  tailBytes: z.number().int().positive().default(8192),
  /** retries of a merge the forge refused as `head_out_of_date` right after our push (forges update PR heads asynchronously) */
  mergeHeadRetries: z.number().int().nonnegative().default(2),
  mergeHeadRetryDelayMs: z.number().int().nonnegative().default(1000),
  /** the committer of rebased commits */
  identity: z
    .object({ name: z.string().min(1), email: z.string().min(1) })
    .default({ name: 'Conveyor', email: 'conveyor@localhost' }),
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
 * const s = parseMergeSettings({ retestCommand: 'npm test', worktreeRoot: '/srv/conveyor/wt' });
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
