import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { revParse } from './refs.js';
import { GATES_PKG, type GitCommonOptions, git, pickGitOptions } from './run.js';

/** Who git records as the committer of rebased commits. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

/** Options of {@link rebaseOntoMain}. */
export interface RebaseOptions extends GitCommonOptions {
  /** the worktree whose `HEAD` is rebased */
  readonly cwd: string;
  /** default `origin/main` */
  readonly onto?: string;
  /**
   * the committer of the rewritten commits; when omitted, `GIT_COMMITTER_*` from
   * `env`, else {@link DEFAULT_GIT_IDENTITY} (never the machine's git config)
   */
  readonly identity?: GitIdentity;
}

/** The outcome of {@link rebaseOntoMain}. A conflict is an outcome, not an error. */
export type RebaseOutcome =
  | { readonly status: 'up_to_date'; readonly head: string }
  | { readonly status: 'rebased'; readonly head: string; readonly previousHead: string }
  | { readonly status: 'conflict'; readonly files: readonly string[]; readonly head: string };

/** The committer used when none is given. */
export const DEFAULT_GIT_IDENTITY: GitIdentity = Object.freeze({ name: 'Conveyor', email: 'conveyor@localhost' });

/**
 * Rebases `HEAD` of the worktree onto `onto`. On a conflict the rebase is
 * aborted (the worktree is back where it was) and the conflicting files are
 * returned as `{ status: 'conflict' }`; any other failure is `git_failed`.
 *
 * @example
 * ```ts
 * const r = await rebaseOntoMain({ cwd: worktree, onto: 'origin/main' });
 * if (r.ok && r.value.status === 'conflict') console.log('conflicts in', r.value.files);
 * ```
 */
export async function rebaseOntoMain(options: RebaseOptions): Promise<Result<RebaseOutcome, ConveyorError>> {
  const onto = options.onto ?? 'origin/main';
  const common = pickGitOptions(options);
  // An explicit identity wins; otherwise the caller's env, then the default.
  const env = {
    GIT_COMMITTER_NAME: DEFAULT_GIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: DEFAULT_GIT_IDENTITY.email,
    ...(options.env ?? {}),
    ...(options.identity === undefined
      ? {}
      : { GIT_COMMITTER_NAME: options.identity.name, GIT_COMMITTER_EMAIL: options.identity.email }),
    GIT_EDITOR: 'true',
  };
  const before = await revParse({ cwd: options.cwd, rev: 'HEAD', ...common });
  if (!before.ok) return err(before.error);
  const rebased = await git(['-c', 'commit.gpgsign=false', 'rebase', '--no-autostash', onto], {
    ...common,
    cwd: options.cwd,
    env,
  });
  if (!rebased.ok) {
    const unmerged = await git(['diff', '--name-only', '--diff-filter=U', '-z'], { cwd: options.cwd, ...common });
    const files = unmerged.ok ? unmerged.value.stdout.split('\0').filter((f) => f.length > 0) : [];
    const aborted = await git(['rebase', '--abort'], { cwd: options.cwd, ...common, env });
    if (files.length > 0 && aborted.ok) return ok({ status: 'conflict', files, head: before.value });
    return err(
      new ConveyorError(
        GATES_PKG,
        'git_failed',
        `rebase onto ${onto} failed in ${options.cwd}: ${rebased.error.message}`,
        {
          cause: rebased.error,
          details: { ...rebased.error.details, aborted: aborted.ok },
        },
      ),
    );
  }
  const after = await revParse({ cwd: options.cwd, rev: 'HEAD', ...common });
  if (!after.ok) return err(after.error);
  return after.value === before.value
    ? ok({ status: 'up_to_date', head: after.value })
    : ok({ status: 'rebased', head: after.value, previousHead: before.value });
}
