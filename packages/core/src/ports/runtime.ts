import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/** What to start for a job. */
export interface LaunchSpec {
  readonly jobId: string;
  /** the executable */
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** added to the host's environment */
  readonly env?: Readonly<Record<string, string>>;
  /** stdout and stderr go here */
  readonly logFile?: string;
  /** killed after this long */
  readonly timeoutMs?: number;
}

/** How a process ended. */
export interface ProcessExit {
  /** `null` when killed by a signal */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** why it ended, when the launcher knows better than the exit code (an agent's summary or failure); redacted */
  readonly reason?: string;
}

/** A started process. */
export interface LaunchedProcess {
  readonly pid: number;
  /** Resolves when the process ends; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Sends a signal (default SIGTERM). */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts agent processes.
 *
 * @example
 * ```ts
 * const started = await launcher.launch({ jobId: job.id, command: 'node', args: ['agent.js'], logFile: '/var/log/job.log' });
 * if (started.ok) await store.setJobPid(job.id, started.value.pid);
 * ```
 */
export interface Launcher {
  launch(spec: LaunchSpec): AsyncResult<LaunchedProcess, ConveyorError>;
}

/**
 * Tells whether a pid is alive.
 *
 * @example
 * ```ts
 * const alive = await probe.isAlive(job.pid);
 * ```
 */
export interface ProcessProbe {
  isAlive(pid: number): AsyncResult<boolean, ConveyorError>;
}

/**
 * The time. Injected so daemons and leases are testable with a fake clock.
 * Synchronous and infallible on purpose: reading the time cannot fail.
 *
 * @example
 * ```ts
 * const systemClock: Clock = { now: () => Date.now() };
 * ```
 */
export interface Clock {
  /** epoch milliseconds */
  now(): number;
}

/** Structured fields of a log line. Never put a secret here. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * A structured logger. Synchronous and infallible on purpose: the runtime
 * wraps calls so a throwing logger cannot break a daemon.
 *
 * @example
 * ```ts
 * logger.info('task advanced', { taskId, from: 'development', to: 'deploy-staging' });
 * ```
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}
