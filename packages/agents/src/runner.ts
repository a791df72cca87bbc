import type { AgentBudget, AgentProcess, AgentStartFailure } from './agent-process.js';
import type { AgentEvent } from './events.js';
import type { Redactor } from './redact.js';

/** One agent run as a runner sees it: what to do, where, and within what. */
export interface AgentRunRequest {
  readonly jobId: string;
  /** the rendered prompt */
  readonly prompt: string;
  /** the task's workspace: the agent's working directory */
  readonly cwd: string;
  /** the JSONL transcript of this job */
  readonly transcriptFile: string;
  /** a private folder for this job's CLI state (config, home); created by the caller */
  readonly stateDir: string;
  readonly redact: Redactor;
  /** appended to the CLI's system prompt (front matter `system`) */
  readonly systemPrompt?: string;
  /** tools the agent may use (front matter `tools`); the runner's default when absent */
  readonly allowedTools?: readonly string[];
  /** the model (front matter `model`); the runner's default when absent */
  readonly model?: string;
  /** overrides of the runner's budget (front matter `max_turns`, `max_cost_usd`, `timeout_minutes`) */
  readonly budget?: AgentBudget;
  readonly signal?: AbortSignal;
  /** each parsed event as it happens (progress, a live card) */
  readonly onEvent?: (event: AgentEvent) => void;
  /** more environment for the agent (the stage's own variables) */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts one kind of coding agent. Implementations: {@link createClaudeCodeRunner},
 * {@link createCodexRunner}, {@link createCommandRunner}.
 *
 * @example
 * ```ts
 * const started = runner.start({ jobId, prompt, cwd, transcriptFile, stateDir, redact });
 * if ('pid' in started) console.log((await started.done).summary);
 * ```
 */
export interface AgentRunner {
  /** `claude-code`, `codex`, `command` */
  readonly kind: string;
  /** the secrets this runner holds (API keys), so the launcher redacts them everywhere */
  readonly secrets: readonly string[];
  start(request: AgentRunRequest): AgentProcess | AgentStartFailure;
}

/** The environment every agent gets: a PATH, a private HOME, a locale; nothing else of the host's. */
export function baseAgentEnv(pathVariable: string, home: string): Record<string, string> {
  return {
    PATH: pathVariable,
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

/**
 * The tighter of two budgets, field by field: a template can lower the host's
 * limits but never raise them.
 *
 * @example
 * ```ts
 * mergeBudget({ maxTurns: 20 }, { maxTurns: 60, maxCostUsd: 1 }); // { maxTurns: 20, maxCostUsd: 1 }
 * ```
 */
export function mergeBudget(base: AgentBudget | undefined, override: AgentBudget | undefined): AgentBudget {
  const out: Record<string, number> = {};
  for (const key of ['timeoutMs', 'maxTurns', 'maxCostUsd', 'maxModelRetries'] as const) {
    const values = [base?.[key], override?.[key]].filter((v): v is number => v !== undefined);
    if (values.length > 0) out[key] = Math.min(...values);
  }
  return out as AgentBudget;
}
