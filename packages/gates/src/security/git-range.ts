import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { runScanGit } from './git-objects.js';

const PKG = '@conveyor/gates';
/** A resolved commit range: both ends verified to exist. */
export interface SecurityRange {
  /** as written, e.g. `origin/main` */
  readonly baseRef: string;
  readonly headRef: string;
  readonly baseSha: string;
  readonly headSha: string;
  /** the merge base of both ends (what the lockfile audit compares against) */
  readonly mergeBaseSha: string;
}

/**
 * The commit `ref` names, by the scan's hardened git (no system config, none
 * of the caller's `GIT_*` variables): the range is resolved in the same
 * repository, with the same settings, as the commits are then read.
 */
async function verify(cwd: string, ref: string, signal?: AbortSignal): Promise<Result<string, ConveyorError>> {
  if (ref === '' || ref.startsWith('-')) {
    return err(new ConveyorError(PKG, 'invalid_input', `range end ${JSON.stringify(ref)} is not a ref`));
  }
  const res = await runScanGit(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
    ...(signal ? { signal } : {}),
  });
  const sha = res.ok ? res.value.stdout.toString('utf8').trim() : '';
  if (sha === '') {
    return err(
      new ConveyorError(PKG, 'not_found', `range end '${ref}' does not resolve to a commit in ${cwd}`, {
        details: { ref },
      }),
    );
  }
  return ok(sha);
}

/**
 * Parses `A..B` (or `A...B`, treated the same) and verifies both ends with
 * `git rev-parse --verify`; an end that does not resolve is an error, never an
 * empty range. Compute it before any rebase so the task is judged only on its
 * own commits.
 *
 * @example
 * ```ts
 * const range = await resolveSecurityRange('/repo', 'origin/main..HEAD');
 * ```
 */
export async function resolveSecurityRange(
  cwd: string,
  range: string,
  signal?: AbortSignal,
): Promise<Result<SecurityRange, ConveyorError>> {
  const m = /^(.*?)\.\.\.?(.*)$/.exec(range);
  if (!m) {
    return err(
      new ConveyorError(PKG, 'invalid_input', `range '${range}' is not of the form BASE..HEAD`, { details: { range } }),
    );
  }
  const baseRef = m[1] ?? '';
  const headRef = m[2] === '' ? 'HEAD' : (m[2] ?? 'HEAD');
  // both ends at once (two short git runs); the base's error first, as when they ran in turn
  const [base, head] = await Promise.all([verify(cwd, baseRef, signal), verify(cwd, headRef, signal)]);
  if (!base.ok) return err(base.error);
  if (!head.ok) return err(head.error);
  const mb = await runScanGit(cwd, ['merge-base', base.value, head.value], signal ? { signal } : {});
  const mergeBase = mb.ok ? mb.value.stdout.toString('utf8').trim() : '';
  return ok({ baseRef, headRef, baseSha: base.value, headSha: head.value, mergeBaseSha: mergeBase || base.value });
}
