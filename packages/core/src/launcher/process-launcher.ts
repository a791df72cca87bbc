import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import type { LaunchedProcess, Launcher, LaunchSpec, ProcessExit } from '../ports/runtime.js';
import { conveyorError, toConveyorError } from '../result/errors.js';
import { err, ok } from '../result/result.js';

const PKG = '@conveyor/core';

/** Options of {@link createProcessLauncher}. */
export interface ProcessLauncherOptions {
  /** where `<jobId>.log` goes when a spec has no `logFile`; without both, output is discarded */
  readonly logDir?: string;
  /** after SIGTERM (timeout or `kill()`), SIGKILL follows this much later (default 5000 ms) */
  readonly killGraceMs?: number;
}

/** What the launcher writes next to a job's log file when the process ends (`<logFile>.exit`). */
export interface ExitRecord extends ProcessExit {
  /** epoch ms */
  readonly at: number;
}

/**
 * The log file a job gets under `logDir`.
 *
 * @example
 * ```ts
 * logFileFor('/var/log/conveyor', 'job-7'); // '/var/log/conveyor/job-7.log'
 * ```
 */
export function logFileFor(logDir: string, jobId: string): string {
  return path.join(logDir, `${encodeURIComponent(jobId)}.log`);
}

/**
 * Reads the exit record the launcher wrote for a log file; `undefined` when
 * there is none (the process has not ended, or its host died first). The
 * reaper uses it to learn the exit code of a job whose worker crashed.
 *
 * @example
 * ```ts
 * const exit = readExitRecord(logFileFor(logDir, job.id));
 * if (exit?.exitCode === 0) console.log('the agent finished');
 * ```
 */
export function readExitRecord(logFile: string): ExitRecord | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(`${logFile}.exit`, 'utf8')) as Partial<ExitRecord>;
    if (value === null || typeof value !== 'object' || !('exitCode' in value)) return undefined;
    return {
      exitCode: typeof value.exitCode === 'number' ? value.exitCode : null,
      signal: typeof value.signal === 'string' ? value.signal : null,
      timedOut: value.timedOut === true,
      at: typeof value.at === 'number' ? value.at : 0,
    };
  } catch {
    return undefined;
  }
}

function spawn(spec: LaunchSpec, output: 'ignore' | { file: string; append: boolean }, killGraceMs: number) {
  return execa(spec.command, [...spec.args], {
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    env: { ...(spec.env ?? {}) },
    extendEnv: true,
    stdin: 'ignore',
    stdout: output,
    stderr: output,
    reject: false,
    ...(spec.timeoutMs === undefined ? {} : { timeout: spec.timeoutMs }),
    killSignal: 'SIGTERM',
    forceKillAfterDelay: killGraceMs,
  });
}

/**
 * A {@link Launcher} on execa: stdout and stderr appended to the job's log
 * file, a timeout that sends SIGTERM and then SIGKILL after `killGraceMs`,
 * `kill()` with the same escalation, and `exited` that never rejects. The pid
 * is known as soon as `launch` resolves. When the process ends, an exit record
 * is written to `<logFile>.exit` so a later reaper can read the exit code.
 *
 * @example
 * ```ts
 * const launcher = createProcessLauncher({ logDir: '/var/log/conveyor', killGraceMs: 2000 });
 * const started = await launcher.launch({ jobId: 'job-1', command: 'node', args: ['agent.js'], timeoutMs: 600_000 });
 * if (started.ok) console.log((await started.value.exited).exitCode);
 * ```
 */
export function createProcessLauncher(options: ProcessLauncherOptions = {}): Launcher {
  const killGraceMs = options.killGraceMs ?? 5000;
  const logDir = options.logDir;

  return Object.freeze({
    async launch(spec: LaunchSpec) {
      const logFile = spec.logFile ?? (logDir === undefined ? undefined : logFileFor(logDir, spec.jobId));
      try {
        if (logFile !== undefined) {
          fs.mkdirSync(path.dirname(logFile), { recursive: true });
          fs.rmSync(`${logFile}.exit`, { force: true });
        }
      } catch (thrown) {
        return err(toConveyorError(PKG, thrown, 'internal', `job ${spec.jobId}: cannot prepare log file ${logFile}`));
      }
      const output = logFile === undefined ? ('ignore' as const) : { file: logFile, append: true };
      let subprocess: ReturnType<typeof spawn>;
      try {
        subprocess = spawn(spec, output, killGraceMs);
      } catch (thrown) {
        return err(toConveyorError(PKG, thrown, 'process_failed', `job ${spec.jobId}: cannot start ${spec.command}`));
      }
      const pid = subprocess.pid;
      if (pid === undefined) {
        const result = await subprocess.then(
          (r) => r,
          (e: unknown) => e,
        );
        const cause = result instanceof Error ? result.message : String((result as { message?: string }).message);
        return err(
          conveyorError(PKG, 'process_failed', `job ${spec.jobId}: cannot start ${spec.command}: ${cause}`, {
            cause: result,
          }),
        );
      }
      const exited: Promise<ProcessExit> = subprocess.then(
        (result) => {
          const exit: ProcessExit = {
            exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
            signal: result.signal ?? null,
            timedOut: result.timedOut === true,
          };
          if (logFile !== undefined) {
            try {
              fs.writeFileSync(`${logFile}.exit`, JSON.stringify({ ...exit, at: Date.now() } satisfies ExitRecord));
            } catch {
              /* the exit record is a convenience for the reaper */
            }
          }
          return exit;
        },
        (thrown: unknown): ProcessExit => ({
          exitCode: null,
          signal: thrown instanceof Error ? thrown.message : 'unknown',
          timedOut: false,
        }),
      );
      const launched: LaunchedProcess = {
        pid,
        exited,
        kill(signal?: NodeJS.Signals) {
          try {
            subprocess.kill(signal ?? 'SIGTERM');
          } catch {
            /* already gone */
          }
        },
      };
      return ok(launched);
    },
  } satisfies Launcher);
}
