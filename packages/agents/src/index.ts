/**
 * `@conveyor/agents`: coding-agent runners (Claude Code, Codex, a plain
 * command), per-task git workspaces, prompt templates and transcripts, and a
 * core `Launcher` that runs them as the worker's jobs.
 *
 * @packageDocumentation
 */
export {
  type AgentJobOutcome,
  type AgentLauncher,
  type AgentLauncherOptions,
  agentCommandFor,
  attachWorkspaceCleanup,
  createAgentLauncher,
  type WorkspaceCleanupOptions,
} from './agent-launcher.js';
export {
  type AgentBudget,
  type AgentPricing,
  type AgentProcess,
  type AgentProcessSpec,
  type AgentRunOutcome,
  type AgentRunStatus,
  type AgentStartFailure,
  resolveExecutable,
  startAgentProcess,
} from './agent-process.js';
export {
  CLAUDE_CODE_PACKAGE,
  CLAUDE_DEFAULT_TOOLS,
  type ClaudeCodeRunnerOptions,
  createClaudeCodeRunner,
} from './claude-code-runner.js';
export { CODEX_API_KEY_ENV, CODEX_PACKAGE, type CodexRunnerOptions, createCodexRunner } from './codex-runner.js';
export { type CommandRunnerOptions, createCommandRunner } from './command-runner.js';
export { PKG } from './errors.js';
export {
  type AgentEvent,
  type AgentEventType,
  type AgentLineParser,
  type AgentUsage,
  type ModelErrorKind,
  modelErrorKind,
} from './events.js';
export { parseClaudeLine } from './parse-claude.js';
export { parseCodexLine } from './parse-codex.js';
export {
  BUILT_IN_PROMPTS,
  type PromptTemplate,
  type PromptVariables,
  parsePromptTemplate,
  promptNameFor,
  renderPrompt,
} from './prompts.js';
export {
  createRedactor,
  isSecretEnvName,
  REDACTED,
  type Redactor,
  type RedactorOptions,
  type SecretDetector,
  type SecretEnvOptions,
  secretEnvValues,
} from './redact.js';
export { type AgentRunner, type AgentRunRequest, baseAgentEnv, mergeBudget } from './runner.js';
export {
  createWorkspaces,
  directorySize,
  type GitCredentials,
  type PushOutcome,
  type Workspace,
  type Workspaces,
  type WorkspacesOptions,
} from './workspaces.js';
