import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AgentBudget, type AgentPricing, startAgentProcess } from './agent-process.js';
import { parseCodexLine } from './parse-codex.js';
import { type AgentRunner, type AgentRunRequest, baseAgentEnv, mergeBudget } from './runner.js';

/** The npm package that provides the `codex` command. */
export const CODEX_PACKAGE = '@openai/codex';

/** The environment variable the Codex runner hands the API key in. */
export const CODEX_API_KEY_ENV = 'CONVEYOR_MODEL_API_KEY';

/** Options of {@link createCodexRunner}. */
export interface CodexRunnerOptions {
  /** the executable (default `codex`, looked up on `path`) */
  readonly command?: string;
  /** PATH of the agent (default the host's PATH) */
  readonly path?: string;
  /** the API key (handed in {@link CODEX_API_KEY_ENV}, named by the provider's `env_key`; redacted everywhere) */
  readonly apiKey: string;
  /** the Responses API base URL, e.g. `https://api.openai.com/v1` or a local fake's `<url>/v1` */
  readonly baseUrl: string;
  /** default model, e.g. `gpt-5-codex` */
  readonly model: string;
  /** the `model_providers.<id>` written to `CODEX_HOME/config.toml` (default `conveyor`) */
  readonly providerId?: string;
  /** default `workspace-write` */
  readonly sandbox?: 'workspace-write' | 'read-only';
  readonly budget?: AgentBudget;
  /** Codex reports tokens, not money: prices turn them into a cost for the budget */
  readonly pricing?: AgentPricing;
  /** the CLI's own retries of a failed request (`request_max_retries`, default 4) */
  readonly cliRetries?: number;
  readonly killGraceMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

const tomlString = (value: string) => JSON.stringify(value);

/**
 * A runner for Codex: `codex exec --json --sandbox workspace-write` with the
 * prompt on stdin and a private `CODEX_HOME` whose `config.toml` names one
 * model provider (`base_url`, `wire_api = "responses"`, `env_key`). Codex
 * exits 0 even when its turn failed; the runner reads `turn.failed` instead.
 *
 * @example
 * ```ts
 * const codex = createCodexRunner({ apiKey: process.env.OPENAI_API_KEY ?? '', baseUrl: 'https://api.openai.com/v1',
 *   model: 'gpt-5-codex', pricing: { inputPerMTok: 1.25, outputPerMTok: 10 }, budget: { maxCostUsd: 2 } });
 * ```
 */
export function createCodexRunner(options: CodexRunnerOptions): AgentRunner {
  const frozen = Object.freeze({ ...options });
  const providerId = frozen.providerId ?? 'conveyor';
  return Object.freeze({
    kind: 'codex',
    secrets: [frozen.apiKey],
    start(request: AgentRunRequest) {
      const budget = mergeBudget(frozen.budget, request.budget);
      const home = path.join(request.stateDir, 'home');
      const codexHome = path.join(request.stateDir, 'codex');
      fs.mkdirSync(home, { recursive: true, mode: 0o700 });
      fs.mkdirSync(codexHome, { recursive: true, mode: 0o700 });
      const model = request.model ?? frozen.model;
      const retries = frozen.cliRetries ?? 4;
      const config = [
        `model = ${tomlString(model)}`,
        `model_provider = ${tomlString(providerId)}`,
        ...(request.systemPrompt ? [`developer_instructions = ${tomlString(request.systemPrompt)}`] : []),
        '',
        `[model_providers.${providerId}]`,
        `name = ${tomlString(providerId)}`,
        `base_url = ${tomlString(frozen.baseUrl)}`,
        `env_key = ${tomlString(CODEX_API_KEY_ENV)}`,
        'wire_api = "responses"',
        `request_max_retries = ${retries}`,
        `stream_max_retries = ${retries}`,
        '',
      ].join('\n');
      fs.writeFileSync(path.join(codexHome, 'config.toml'), config, { mode: 0o600 });
      const args = [
        'exec',
        '--json',
        '--sandbox',
        frozen.sandbox ?? 'workspace-write',
        '--skip-git-repo-check',
        '--cd',
        request.cwd,
        '-',
      ];
      const env: Record<string, string> = {
        ...baseAgentEnv(frozen.path ?? process.env.PATH ?? '', home),
        ...(frozen.env ?? {}),
        ...(request.env ?? {}),
        CODEX_HOME: codexHome,
        [CODEX_API_KEY_ENV]: frozen.apiKey,
      };
      return startAgentProcess({
        command: frozen.command ?? 'codex',
        args,
        cwd: request.cwd,
        env,
        stdin: request.prompt,
        parseLine: parseCodexLine,
        transcriptFile: request.transcriptFile,
        redact: request.redact,
        budget,
        installHint: CODEX_PACKAGE,
        ...(frozen.pricing === undefined ? {} : { pricing: frozen.pricing }),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(request.onEvent === undefined ? {} : { onEvent: request.onEvent }),
        ...(frozen.killGraceMs === undefined ? {} : { killGraceMs: frozen.killGraceMs }),
      });
    },
  } satisfies AgentRunner);
}
