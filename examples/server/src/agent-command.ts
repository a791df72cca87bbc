import type { LaunchSpec } from '@conveyor/core';

/**
 * The shell that runs an agent command and then writes the launcher's exit
 * record (`<logFile>.exit`, the format `readExitRecord` reads) itself. The
 * launcher writes that record too, but from the host process: when the host
 * dies mid-job only this one is written, so the next host's reaper decides the
 * job from its exit code at once (exit 0: the stage's gates decide) instead of
 * waiting for dead ticks and running the agent again. SIGTERM (a timeout, a
 * stop) is passed on to the agent.
 */
const WRAPPER = [
  '/bin/sh -c "$1" &',
  'child=$!',
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT',
  'wait "$child"; code=$?',
  'while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done',
  'printf \'{"exitCode":%s,"signal":null,"timedOut":false,"at":%s000}\\n\' "$code" "$(date +%s)" > "$2.exit.tmp" && mv -f "$2.exit.tmp" "$2.exit"',
  'exit "$code"',
].join('\n');

/**
 * The launch of one agent shell command with its exit recorded next to its
 * log file, so it survives the host (see `exitCodeOf` of the reaper).
 *
 * @example
 * ```ts
 * const spec = recordedAgentCommand('claude -p "$CONVEYOR_TASK_DESCRIPTION"', '/var/conveyor/logs/job-1.log');
 * // { command: '/bin/sh', args: ['-c', …, 'conveyor-agent', 'claude -p …', '/var/conveyor/logs/job-1.log'], logFile }
 * ```
 */
export function recordedAgentCommand(
  command: string,
  logFile: string,
): Pick<LaunchSpec, 'command' | 'args' | 'logFile'> {
  return { command: '/bin/sh', args: ['-c', WRAPPER, 'conveyor-agent', command, logFile], logFile };
}
