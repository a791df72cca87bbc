import { existsSync, rmSync } from 'node:fs';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { GATES_PKG, type GitCommonOptions, git, pickGitOptions } from './run.js';

/** Options of {@link createWorktree}. */
export interface WorktreeOptions extends GitCommonOptions {
  /** the repository (bare or not) the worktree belongs to */
  readonly repoDir: string;
  /** where the worktree goes; replaced when it already exists */
  readonly path: string;
  /** the commit to check out, detached (so two tasks never fight over a branch) */
  readonly ref: string;
}

/**
 * Creates a detached worktree of `repoDir` at `path`, checked out at `ref`. A
 * leftover worktree at `path` (a crashed run) is removed first.
 *
 * @example
 * ```ts
 * const wt = await createWorktree({ repoDir, path: '/srv/wt/task-1', ref: 'origin/task/PLN-1' });
 * ```
 */
export async function createWorktree(options: WorktreeOptions): Promise<Result<string, ConveyorError>> {
  if (existsSync(options.path)) {
    const removed = await removeWorktree({ repoDir: options.repoDir, path: options.path, ...pickGitOptions(options) });
    if (!removed.ok) return err(removed.error);
  }
  const added = await git(['worktree', 'add', '--force', '--detach', options.path, options.ref], {
    cwd: options.repoDir,
    ...pickGitOptions(options),
  });
  return added.ok ? ok(options.path) : err(added.error);
}

/**
 * Removes the worktree at `path` (forced: its changes are throw-away) and
 * prunes git's record of it. Removing a missing worktree succeeds.
 *
 * @example
 * ```ts
 * await removeWorktree({ repoDir, path: '/srv/wt/task-1' });
 * ```
 */
export async function removeWorktree(
  options: GitCommonOptions & { readonly repoDir: string; readonly path: string },
): Promise<Result<void, ConveyorError>> {
  const common = pickGitOptions(options);
  if (existsSync(options.path)) {
    const removed = await git(['worktree', 'remove', '--force', '--force', options.path], {
      cwd: options.repoDir,
      ...common,
    });
    if (removed.ok) return ok();
    // Not a registered worktree (or half-created): delete the directory itself.
    try {
      rmSync(options.path, { recursive: true, force: true });
    } catch (thrown) {
      return err(
        new ConveyorError(GATES_PKG, 'git_failed', `cannot remove worktree ${options.path}`, {
          cause: thrown,
          details: { path: options.path },
        }),
      );
    }
  }
  const pruned = await git(['worktree', 'prune'], { cwd: options.repoDir, ...common });
  return pruned.ok ? ok() : err(pruned.error);
}
