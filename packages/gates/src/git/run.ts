import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { execa } from 'execa';

/** The package name errors carry. */
export const GATES_PKG = '@conveyor/gates';

/** Options of {@link git}. */
export interface GitRunOptions {
  /** where git runs */
  readonly cwd: string;
  /** added to the environment (e.g. `GIT_COMMITTER_NAME`) */
  readonly env?: Readonly<Record<string, string>>;
  /** killed after this long (default 120 s) */
  readonly timeoutMs?: number;
  /** aborts the command */
  readonly signal?: AbortSignal;
  /** exit codes that count as success (default `[0]`); e.g. `[0, 1]` for `merge-base --is-ancestor` */
  readonly acceptExitCodes?: readonly number[];
  /** the most output kept in memory (default execa's); a whole range's patch can be larger */
  readonly maxBufferBytes?: number;
  /** keep stdout exactly as printed (default: the final newline is stripped) */
  readonly raw?: boolean;
}

/** What a git command printed. */
export interface GitOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

const DEFAULT_GIT_TIMEOUT_MS = 120_000;

/**
 * Runs `git <args>` without a shell and never throws: a non-zero exit (not in
 * `acceptExitCodes`), a timeout, an abort or a missing binary is an error with
 * code `git_failed`, the arguments, exit code and stderr in `details`.
 *
 * Git never prompts (`GIT_TERMINAL_PROMPT=0`), so a missing credential fails
 * instead of hanging.
 *
 * @example
 * ```ts
 * const head = await git(['rev-parse', 'HEAD'], { cwd: '/srv/worktrees/task-1' });
 * if (head.ok) console.log(head.value.stdout);
 * ```
 */
export async function git(args: readonly string[], options: GitRunOptions): Promise<Result<GitOutput, ConveyorError>> {
  const accept = options.acceptExitCodes ?? [0];
  let result: Awaited<ReturnType<typeof runExeca>>;
  if (options.signal?.aborted) {
    return err(
      new ConveyorError(GATES_PKG, 'git_failed', `git ${args.slice(0, 2).join(' ')} was aborted in ${options.cwd}`, {
        details: { args: [...args], cwd: options.cwd, aborted: true },
      }),
    );
  }
  try {
    result = await runExeca(args, options);
  } catch (thrown) {
    return err(
      new ConveyorError(GATES_PKG, 'git_failed', `git ${args[0] ?? ''} could not start in ${options.cwd}`, {
        cause: thrown,
        details: { args: [...args], cwd: options.cwd },
      }),
    );
  }
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : -1;
  if (result.timedOut || result.isCanceled || result.exitCode === undefined || !accept.includes(exitCode)) {
    const why = result.timedOut
      ? `timed out after ${options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS} ms`
      : result.isCanceled
        ? 'was aborted'
        : result.exitCode === undefined
          ? `could not run (${result.shortMessage ?? 'unknown failure'})`
          : `exited ${exitCode}`;
    const firstLine = stderr.trim().split('\n').slice(-1)[0] ?? '';
    return err(
      new ConveyorError(
        GATES_PKG,
        'git_failed',
        `git ${args.slice(0, 2).join(' ')} ${why} in ${options.cwd}${firstLine ? `: ${firstLine}` : ''}`,
        { details: { args: [...args], cwd: options.cwd, exitCode, stderr, timedOut: result.timedOut === true } },
      ),
    );
  }
  return ok({ stdout, stderr, exitCode });
}

/**
 * git runs in its own process group, and an abort or a timeout kills the
 * whole group: the helpers git starts (upload-pack, ssh, credential helpers,
 * hooks) die with it instead of lingering after the gate gave up.
 */
async function runExeca(args: readonly string[], options: GitRunOptions) {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const child = execa('git', [...args], {
    cwd: options.cwd,
    env: { GIT_TERMINAL_PROMPT: '0', ...(options.env ?? {}) },
    reject: false,
    stdin: 'ignore',
    detached: true,
    cleanup: true,
    timeout: timeoutMs,
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    ...(options.maxBufferBytes === undefined ? {} : { maxBuffer: options.maxBufferBytes }),
    ...(options.raw ? { stripFinalNewline: false } : {}),
  });
  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  // 0 means no timeout (as for execa)
  const timer = timeoutMs > 0 ? setTimeout(killGroup, timeoutMs) : undefined;
  timer?.unref();
  if (options.signal?.aborted) killGroup();
  options.signal?.addEventListener('abort', killGroup, { once: true });
  try {
    const result = await child;
    // git gave up (aborted, timed out): what it started must not outlive it.
    if (result.isCanceled || result.timedOut) killGroup();
    return result;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', killGroup);
  }
}

/** The shared part of the options of the git helpers. */
export type GitCommonOptions = Omit<GitRunOptions, 'cwd' | 'acceptExitCodes'>;

/** Copies `env`, `timeoutMs` and `signal` from `options` (omitting absent ones). */
export function pickGitOptions(options: GitCommonOptions): GitCommonOptions {
  return {
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}
