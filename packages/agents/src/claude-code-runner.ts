import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AgentBudget, type AgentPricing, startAgentProcess } from './agent-process.js';
import { parseClaudeLine } from './parse-claude.js';
import { type AgentRunner, type AgentRunRequest, baseAgentEnv, mergeBudget } from './runner.js';

/** The npm package that provides the `claude` command. */
export const CLAUDE_CODE_PACKAGE = '@anthropic-ai/claude-code';

/** Tools a Claude Code agent gets when neither the template nor the options say. */
export const CLAUDE_DEFAULT_TOOLS: readonly string[] = Object.freeze([
  'Read',
  'Write',
  'Edit',
  'Glob',
  'Grep',
  'Bash(npm test:*)',
  'Bash(npm run:*)',
  'Bash(node:*)',
  'Bash(ls:*)',
  'Bash(cat:*)',
  'Bash(git status:*)',
  'Bash(git diff:*)',
  'Bash(git log:*)',
]);

/** Options of {@link createClaudeCodeRunner}. */
export interface ClaudeCodeRunnerOptions {
  /** the executable (default `claude`, looked up on `path`) */
  readonly command?: string;
  /** PATH of the agent (default the host's PATH) */
  readonly path?: string;
  /** the Anthropic API key (sent as `ANTHROPIC_API_KEY`; redacted from every transcript) */
  readonly apiKey: string;
  /** `ANTHROPIC_BASE_URL`, e.g. a gateway or a local fake (default: the CLI's own) */
  readonly baseUrl?: string;
  /** default model, e.g. `claude-sonnet-4-5` */
  readonly model?: string;
  /** default allowed tools (default {@link CLAUDE_DEFAULT_TOOLS}) */
  readonly allowedTools?: readonly string[];
  /** default `acceptEdits` (`--dangerously-skip-permissions` is refused as root and never used) */
  readonly permissionMode?: 'acceptEdits' | 'default' | 'plan';
  /** appended to every job's system prompt, before the template's own */
  readonly appendSystemPrompt?: string;
  /** default budget (`maxTurns` → `--max-turns`, `maxCostUsd` → `--max-budget-usd`) */
  readonly budget?: AgentBudget;
  /** prices to estimate the cost while the run goes (the CLI reports its own total only at the end) */
  readonly pricing?: AgentPricing;
  /** `CLAUDE_CODE_MAX_RETRIES`: the CLI's own retries of 429/5xx with backoff (default 4) */
  readonly cliRetries?: number;
  readonly killGraceMs?: number;
  /** more environment for the agent */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A runner for Claude Code: `claude -p` with the prompt on stdin,
 * `--output-format stream-json --verbose`, allowed tools, a permission mode,
 * model, `--max-turns`, `--max-budget-usd` and an appended system prompt. The
 * CLI gets a private config dir and HOME per job, reads only those settings
 * (`--setting-sources user`), so a repository cannot widen its own permissions.
 *
 * @example
 * ```ts
 * const claude = createClaudeCodeRunner({ apiKey: process.env.ANTHROPIC_API_KEY ?? '', model: 'claude-sonnet-4-5',
 *   budget: { timeoutMs: 20 * 60_000, maxTurns: 40, maxCostUsd: 2 } });
 * ```
 */
export function createClaudeCodeRunner(options: ClaudeCodeRunnerOptions): AgentRunner {
  const frozen = Object.freeze({ ...options });
  return Object.freeze({
    kind: 'claude-code',
    secrets: [frozen.apiKey],
    start(request: AgentRunRequest) {
      const budget = mergeBudget(frozen.budget, request.budget);
      const home = path.join(request.stateDir, 'home');
      const configDir = path.join(request.stateDir, 'claude');
      fs.mkdirSync(home, { recursive: true, mode: 0o700 });
      fs.mkdirSync(configDir, { recursive: true, mode: 0o700 });
      const tools = request.allowedTools ?? frozen.allowedTools ?? CLAUDE_DEFAULT_TOOLS;
      const model = request.model ?? frozen.model;
      const system = [frozen.appendSystemPrompt, request.systemPrompt].filter((s) => s !== undefined && s !== '');
      const args = [
        '-p',
        '--output-format',
        'stream-json',
        '--verbose',
        '--permission-mode',
        frozen.permissionMode ?? 'acceptEdits',
        '--setting-sources',
        'user',
        '--strict-mcp-config',
        '--no-session-persistence',
        ...(tools.length > 0 ? ['--allowedTools', tools.join(',')] : []),
        ...(model === undefined ? [] : ['--model', model]),
        ...(budget.maxTurns === undefined ? [] : ['--max-turns', String(budget.maxTurns)]),
        ...(budget.maxCostUsd === undefined ? [] : ['--max-budget-usd', String(budget.maxCostUsd)]),
        ...(system.length > 0 ? ['--append-system-prompt', system.join('\n\n')] : []),
      ];
      const env: Record<string, string> = {
        ...baseAgentEnv(frozen.path ?? process.env.PATH ?? '', home),
        ...(frozen.env ?? {}),
        ...(request.env ?? {}),
        ANTHROPIC_API_KEY: frozen.apiKey,
        CLAUDE_CONFIG_DIR: configDir,
        CLAUDE_CODE_MAX_RETRIES: String(frozen.cliRetries ?? 4),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        ...(frozen.baseUrl === undefined ? {} : { ANTHROPIC_BASE_URL: frozen.baseUrl }),
      };
      return startAgentProcess({
        command: frozen.command ?? 'claude',
        args,
        cwd: request.cwd,
        env,
        stdin: request.prompt,
        parseLine: parseClaudeLine,
        transcriptFile: request.transcriptFile,
        redact: request.redact,
        budget,
        installHint: CLAUDE_CODE_PACKAGE,
        ...(frozen.pricing === undefined ? {} : { pricing: frozen.pricing }),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(request.onEvent === undefined ? {} : { onEvent: request.onEvent }),
        ...(frozen.killGraceMs === undefined ? {} : { killGraceMs: frozen.killGraceMs }),
      });
    },
  } satisfies AgentRunner);
}
