import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { execa } from 'execa';
import { GATES_PKG } from './run.js';

/** Options of {@link retest}. */
export interface RetestOptions {
  /** where the command runs (the rebased worktree) */
  readonly cwd: string;
  /** killed (with its whole process group) after this long; default 10 min */
  readonly timeoutMs?: number;
  /** aborts the command (the process group is killed) */
  readonly signal?: AbortSignal;
  /** added to the environment */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * whether the command sees this process's environment (default true). With
   * `false` it gets only `PATH`, `HOME`, `USER`, `LANG`, `LC_ALL`, `TZ`,
   * `TMPDIR` and `env`: untrusted code (a branch's tests) never sees the
   * host's tokens.
   */
  readonly inheritEnv?: boolean;
  /** how many trailing lines of output to keep (default 50) */
  readonly tailLines?: number;
  /** how many trailing bytes of output to keep at most (default 8 KiB) */
  readonly tailBytes?: number;
}

/** How a retest ended. A red test is an outcome, not an error. */
export interface RetestOutcome {
  readonly passed: boolean;
  /** `null` when killed by a signal */
  readonly exitCode: number | null;
  readonly signal?: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** the last lines of stdout and stderr, interleaved */
  readonly tail: string;
  readonly durationMs: number;
}

/** A retest command: a shell line, or an executable and its arguments (no shell). */
export type RetestCommand = string | readonly [string, ...string[]];

/**
 * Runs the repository's test command in `cwd` and keeps only the tail of its
 * output. The command runs in its own process group, so a timeout or an abort
 * kills its children too. Resolves to an error only when the command could
 * not be started at all.
 *
 * @example
 * ```ts
 * const t = await retest('npm test', { cwd: worktree, timeoutMs: 600_000 });
 * if (t.ok && !t.value.passed) console.log(t.value.tail);
 * ```
 */
export async function retest(
  command: RetestCommand,
  options: RetestOptions,
): Promise<Result<RetestOutcome, ConveyorError>> {
  const tailLines = options.tailLines ?? 50;
  const tailBytes = options.tailBytes ?? 8192;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const started = Date.now();
  const tail = new TailBuffer(tailBytes);
  let timedOut = false;
  let aborted = false;
  const [file, args, shell] =
    typeof command === 'string' ? [command, [] as string[], true] : [command[0], command.slice(1), false];
  let child: RetestChild;
  try {
    child = spawnRetest(file, args, shell, options);
  } catch (thrown) {
    return err(startError(command, options.cwd, thrown));
  }
  child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const onAbort = () => {
    aborted = true;
    killGroup();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let result: Awaited<typeof child>;
  try {
    result = await child;
  } catch (thrown) {
    return err(startError(command, options.cwd, thrown));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (result.exitCode === undefined && result.signal === undefined && !timedOut && !aborted) {
    return err(startError(command, options.cwd, result.cause ?? result.shortMessage));
  }
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
  return ok({
    passed: exitCode === 0 && !timedOut && !aborted,
    exitCode,
    ...(result.signal === undefined ? {} : { signal: result.signal }),
    timedOut,
    aborted,
    tail: tail.lines(tailLines),
    durationMs: Date.now() - started,
  });
}

const BASIC_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;

function retestEnv(options: RetestOptions): Record<string, string> {
  if (options.inheritEnv !== false) return { ...(options.env ?? {}) };
  const basic: Record<string, string> = {};
  for (const name of BASIC_ENV) {
    const value = process.env[name];
    if (value !== undefined) basic[name] = value;
  }
  return { ...basic, ...(options.env ?? {}) };
}

function spawnRetest(file: string, args: readonly string[], shell: boolean, options: RetestOptions) {
  return execa(file, [...args], {
    cwd: options.cwd,
    shell,
    env: retestEnv(options),
    extendEnv: options.inheritEnv !== false,
    reject: false,
    stdin: 'ignore',
    buffer: false,
    detached: true,
    cleanup: true,
  });
}

type RetestChild = ReturnType<typeof spawnRetest>;

function startError(command: RetestCommand, cwd: string, cause: unknown): ConveyorError {
  const text = typeof command === 'string' ? command : command.join(' ');
  return new ConveyorError(GATES_PKG, 'process_failed', `cannot start the retest command \`${text}\` in ${cwd}`, {
    cause,
    details: { cwd },
  });
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  lines(maxLines: number): string {
    const all = Buffer.concat(this.chunks);
    const bytes = all.length > this.limit ? all.subarray(all.length - this.limit) : all;
    const text = bytes.toString('utf8').replace(/\s+$/, '');
    const lines = text.split('\n');
    return lines.slice(Math.max(0, lines.length - maxLines)).join('\n');
  }
}

/** Keeps the last `maxLines` lines and at most `maxBytes` bytes of `text` (a pure helper). */
export function tailOf(text: string, maxLines: number, maxBytes: number): string {
  const buffer = new TailBuffer(maxBytes);
  buffer.push(Buffer.from(text, 'utf8'));
  return buffer.lines(maxLines);
}
