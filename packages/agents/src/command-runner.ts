import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AgentBudget, startAgentProcess } from './agent-process.js';
import { type AgentRunner, type AgentRunRequest, baseAgentEnv, mergeBudget } from './runner.js';

/** Options of {@link createCommandRunner}. */
export interface CommandRunnerOptions {
  /** the executable */
  readonly command: string;
  /** its arguments; `{prompt}` is never substituted: the prompt goes to stdin and `CONVEYOR_PROMPT_FILE` */
  readonly args?: readonly string[];
  /** PATH (default the host's PATH) */
  readonly path?: string;
  readonly budget?: AgentBudget;
  readonly killGraceMs?: number;
  /** environment of the command (the host's is not inherited) */
  readonly env?: Readonly<Record<string, string>>;
  /** values in `env` that are secrets (redacted from the transcript) */
  readonly secrets?: readonly string[];
}

/**
 * A runner for a plain command (a deploy script, a scripted agent): stdout and
 * stderr lines are the transcript, the last stdout line is the summary, exit 0
 * is success. The prompt goes to stdin and to the file named by
 * `CONVEYOR_PROMPT_FILE`.
 *
 * @example
 * ```ts
 * const deploy = createCommandRunner({ command: 'sh', args: ['-c', './deploy.sh staging'], budget: { timeoutMs: 600_000 } });
 * ```
 */
export function createCommandRunner(options: CommandRunnerOptions): AgentRunner {
  const frozen = Object.freeze({ ...options });
  return Object.freeze({
    kind: 'command',
    secrets: [...(frozen.secrets ?? [])],
    start(request: AgentRunRequest) {
      const home = path.join(request.stateDir, 'home');
      fs.mkdirSync(home, { recursive: true, mode: 0o700 });
      const promptFile = path.join(request.stateDir, 'prompt.md');
      fs.writeFileSync(promptFile, request.prompt, { mode: 0o600 });
      return startAgentProcess({
        command: frozen.command,
        args: frozen.args ?? [],
        cwd: request.cwd,
        env: {
          ...baseAgentEnv(frozen.path ?? process.env.PATH ?? '', home),
          ...(frozen.env ?? {}),
          ...(request.env ?? {}),
          CONVEYOR_PROMPT_FILE: promptFile,
        },
        stdin: request.prompt,
        transcriptFile: request.transcriptFile,
        redact: request.redact,
        budget: mergeBudget(frozen.budget, request.budget),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(request.onEvent === undefined ? {} : { onEvent: request.onEvent }),
        ...(frozen.killGraceMs === undefined ? {} : { killGraceMs: frozen.killGraceMs }),
      });
    },
  } satisfies AgentRunner);
}
