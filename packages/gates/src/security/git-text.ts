import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { git } from '../git/run.js';
import type { SecurityRange } from './git-range.js';
import { PATCH_LOG_FORMAT } from './patch.js';

const PKG = '@conveyor/gates';
/** A whole range's patch may be large: keep up to 1 GiB of git output in memory. */
const PATCH_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * Runs git for the scanner through the shared {@link git} helper: paths
 * unquoted, C locale, output kept exactly as printed (a range's patch can be
 * large), no time limit unless the caller gives one (the gate's own timeout
 * aborts through `signal`). A timeout is reported as `timeout`.
 */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Result<string, ConveyorError>> {
  const res = await git(['-c', 'core.quotePath=false', ...args], {
    cwd,
    env: { LC_ALL: 'C' },
    raw: true,
    maxBufferBytes: PATCH_MAX_BYTES,
    timeoutMs: options.timeoutMs ?? 0,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (res.ok) return ok(res.value.stdout);
  if (res.error.details.timedOut !== true) return err(res.error);
  return err(new ConveyorError(PKG, 'timeout', res.error.message, { cause: res.error, details: res.error.details }));
}

/**
 * The `git log -p -U0` text of the commits in `base..head` (added lines with
 * their line numbers, combined diffs for merges), in the shape
 * `parsePatchLog` reads.
 */
export async function readRangePatch(
  cwd: string,
  range: SecurityRange,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Result<string, ConveyorError>> {
  return runGit(cwd, rangePatchArgs(`${range.baseSha}..${range.headSha}`), options);
}

/**
 * The `git log` arguments of {@link readRangePatch} for `revisions` (a range, or `HEAD` for a whole history).
 *
 * @internal the patch reader's and its benchmark's
 */
export function rangePatchArgs(revisions: string): string[] {
  return [
    'log',
    '-p',
    '-U0',
    '--cc',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--find-renames',
    '--src-prefix=a/',
    '--dst-prefix=b/',
    PATCH_LOG_FORMAT,
    revisions,
    '--',
  ];
}

/** A file's content at a commit, or `undefined` when it does not exist there. */
export async function readFileAt(
  cwd: string,
  sha: string,
  path: string,
): Promise<Result<string | undefined, ConveyorError>> {
  const res = await git(['cat-file', '-p', `${sha}:${path}`], {
    cwd,
    raw: true,
    maxBufferBytes: PATCH_MAX_BYTES,
    acceptExitCodes: [0, 128],
  });
  if (!res.ok) return err(res.error);
  if (res.value.exitCode === 0) return ok(res.value.stdout);
  const exists = await git(['cat-file', '-e', `${sha}^{commit}`], { cwd, acceptExitCodes: [0, 1, 128] });
  if (!exists.ok || exists.value.exitCode !== 0) {
    return err(new ConveyorError(PKG, 'git_failed', `commit ${sha} is not readable in ${cwd}`, { details: { sha } }));
  }
  return ok(undefined);
}

/** The paths changed between two commits. */
export async function changedPaths(cwd: string, from: string, to: string): Promise<Result<string[], ConveyorError>> {
  const res = await runGit(cwd, ['diff', '--name-only', '-z', '--no-renames', from, to]);
  if (!res.ok) return err(res.error);
  return ok(res.value.split('\0').filter((p) => p !== ''));
}
