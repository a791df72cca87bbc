import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { execa } from 'execa';

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

/** Runs git without throwing; stdout as text. */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Result<string, ConveyorError>> {
  const res = await execa('git', ['-c', 'core.quotePath=false', ...args], {
    cwd,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 1024 * 1024 * 1024,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
  });
  if (res.timedOut) {
    return err(new ConveyorError(PKG, 'timeout', `git ${args[0] ?? ''} timed out in ${cwd}`, { details: { args } }));
  }
  if (res.exitCode !== 0) {
    const stderr =
      String(res.stderr ?? '')
        .trim()
        .split('\n')[0] ?? '';
    return err(
      new ConveyorError(PKG, 'git_failed', `git ${args.join(' ')} failed in ${cwd}: ${stderr || res.shortMessage}`, {
        details: { args, exitCode: res.exitCode },
      }),
    );
  }
  return ok(String(res.stdout ?? ''));
}

async function verify(cwd: string, ref: string, signal?: AbortSignal): Promise<Result<string, ConveyorError>> {
  if (ref === '' || ref.startsWith('-')) {
    return err(new ConveyorError(PKG, 'invalid_input', `range end ${JSON.stringify(ref)} is not a ref`));
  }
  const res = await runGit(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
    ...(signal ? { signal } : {}),
  });
  if (!res.ok || res.value.trim() === '') {
    return err(
      new ConveyorError(PKG, 'not_found', `range end '${ref}' does not resolve to a commit in ${cwd}`, {
        details: { ref },
      }),
    );
  }
  return ok(res.value.trim());
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
  const base = await verify(cwd, baseRef, signal);
  if (!base.ok) return err(base.error);
  const head = await verify(cwd, headRef, signal);
  if (!head.ok) return err(head.error);
  const mb = await runGit(cwd, ['merge-base', base.value, head.value], signal ? { signal } : {});
  const mergeBaseSha = mb.ok ? mb.value.trim() : base.value;
  return ok({ baseRef, headRef, baseSha: base.value, headSha: head.value, mergeBaseSha });
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
  return runGit(
    cwd,
    [
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
      '--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e',
      `${range.baseSha}..${range.headSha}`,
      '--',
    ],
    options,
  );
}

/** A file's content at a commit, or `undefined` when it does not exist there. */
export async function readFileAt(
  cwd: string,
  sha: string,
  path: string,
): Promise<Result<string | undefined, ConveyorError>> {
  const res = await execa('git', ['cat-file', '-p', `${sha}:${path}`], {
    cwd,
    reject: false,
    stripFinalNewline: false,
  });
  if (res.exitCode === 0) return ok(String(res.stdout));
  const exists = await execa('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd, reject: false });
  if (exists.exitCode !== 0) {
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
