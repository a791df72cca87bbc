import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { revParse } from './refs.js';
import { GATES_PKG, type GitCommonOptions, git, pickGitOptions } from './run.js';

/** Options of {@link pushTaskBranch}. */
export interface PushOptions extends GitCommonOptions {
  readonly cwd: string;
  /** default `origin` */
  readonly remote?: string;
  /** the task branch on the remote (`task/PLN-1` or `refs/heads/task/PLN-1`) */
  readonly branch: string;
  /** what the remote branch must still point at; `''` means "must not exist yet" */
  readonly expectedSha: string;
  /** the local revision to push (default `HEAD`) */
  readonly source?: string;
  /** the base branch: never pushed to (default `main`) */
  readonly baseBranch?: string;
  /** more branches that are never pushed to (`main` and `master` always are) */
  readonly protectedBranches?: readonly string[];
}

/** The outcome of {@link pushTaskBranch}. A lease rejection is an outcome, not an error. */
export type PushOutcome =
  | { readonly status: 'pushed'; readonly sha: string }
  /** the remote branch moved away from `expectedSha`: nothing was overwritten */
  | { readonly status: 'rejected'; readonly reason: string };

const ALWAYS_PROTECTED = ['main', 'master'];

/**
 * Pushes the task branch with `--force-with-lease=<branch>:<expectedSha>`: the
 * push only lands when the remote branch is still where we last saw it, so a
 * commit someone else pushed meanwhile is never overwritten. Pushing to the
 * base branch (or `main`/`master`, or any `protectedBranches`) is refused
 * before git runs (`invalid_input`).
 *
 * @example
 * ```ts
 * const p = await pushTaskBranch({ cwd: worktree, branch: 'task/PLN-1', expectedSha: before, baseBranch: 'main' });
 * if (p.ok && p.value.status === 'rejected') console.log('someone pushed meanwhile');
 * ```
 */
export async function pushTaskBranch(options: PushOptions): Promise<Result<PushOutcome, ConveyorError>> {
  const remote = options.remote ?? 'origin';
  const branch = options.branch.replace(/^refs\/heads\//, '');
  const guard = checkPushTarget(branch, options);
  if (!guard.ok) return err(guard.error);
  if (options.expectedSha !== '' && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(options.expectedSha)) {
    return err(
      new ConveyorError(
        GATES_PKG,
        'invalid_input',
        `expectedSha must be a full commit sha, got "${options.expectedSha}"`,
        {
          details: { branch },
        },
      ),
    );
  }
  const common = pickGitOptions(options);
  const source = await revParse({ cwd: options.cwd, rev: options.source ?? 'HEAD', ...common });
  if (!source.ok) return err(source.error);
  const pushed = await git(
    [
      'push',
      '--porcelain',
      `--force-with-lease=refs/heads/${branch}:${options.expectedSha}`,
      remote,
      `${source.value}:refs/heads/${branch}`,
    ],
    { cwd: options.cwd, acceptExitCodes: [0, 1], ...common },
  );
  if (!pushed.ok) return err(pushed.error);
  if (pushed.value.exitCode === 0) return ok({ status: 'pushed', sha: source.value });
  const text = `${pushed.value.stdout}\n${pushed.value.stderr}`;
  if (/stale info|\[rejected\]|fetch first|non-fast-forward/i.test(text)) {
    return ok({
      status: 'rejected',
      reason: `the remote ${branch} is no longer at ${options.expectedSha || '(absent)'}: someone pushed meanwhile`,
    });
  }
  return err(
    new ConveyorError(GATES_PKG, 'git_failed', `git push of ${branch} to ${remote} failed`, {
      details: { branch, remote, stdout: pushed.value.stdout, stderr: pushed.value.stderr },
    }),
  );
}

function checkPushTarget(branch: string, options: PushOptions): Result<void, ConveyorError> {
  const base = (options.baseBranch ?? 'main').replace(/^refs\/heads\//, '');
  const protectedNames = new Set(
    [...ALWAYS_PROTECTED, base, ...(options.protectedBranches ?? [])].map((b) => b.replace(/^refs\/heads\//, '')),
  );
  if (
    branch === '' ||
    branch === 'HEAD' ||
    branch.startsWith('refs/') ||
    branch.startsWith('-') ||
    /[\s:+^~?*[\\]/.test(branch) ||
    branch.includes('..')
  ) {
    return err(
      new ConveyorError(GATES_PKG, 'invalid_input', `refusing to push to "${branch}": not a plain task branch name`, {
        details: { branch },
      }),
    );
  }
  if (protectedNames.has(branch)) {
    return err(
      new ConveyorError(
        GATES_PKG,
        'invalid_input',
        `refusing to push to ${branch}: only task branches are pushed, never the base branch`,
        {
          details: { branch, baseBranch: base },
        },
      ),
    );
  }
  return ok();
}
