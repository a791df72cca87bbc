import { join } from 'node:path';
import {
  type AgentRunner,
  agentCommandFor,
  attachWorkspaceCleanup,
  createAgentLauncher,
  createClaudeCodeRunner,
  createCodexRunner,
  createCommandRunner,
  createWorkspaces,
} from '@conveyor/agents';
import type { ConveyorEventBus, Job, Launcher, LaunchSpec, Logger, Store, Task, Tracker } from '@conveyor/core';
import { compileSecretsConfig, DEFAULT_SECRETS_CONFIG, scanText } from '@conveyor/gates';
import type { HostSettings } from './settings.js';

/** What {@link createHostAgents} needs from the host. */
export interface HostAgentsOptions {
  readonly settings: HostSettings;
  readonly store: Store;
  readonly tracker: Pick<Tracker, 'comment'>;
  readonly events: ConveyorEventBus;
  readonly logger: Logger;
  /** the repository's clone URL (no credentials in it) */
  readonly remoteUrl: (repo: string) => string;
  /** the main branch the workspaces start from */
  readonly baseBranch: string;
  /** the deployer's shell command of a task (its project's, or `ORCH_AGENT_DEPLOYER_COMMAND`) */
  readonly deployCommandOf: (task: Task) => string | undefined;
  /** added to the environment of the workspaces' git (tests) */
  readonly gitEnv?: Readonly<Record<string, string>>;
}

/** The worker's launcher and `commandFor` when a coding-agent CLI runs the analyst and developer. */
export interface HostAgents {
  readonly launcher: Launcher;
  /** the launch spec of a job: the launcher reads the job itself; `timeoutMs` and the stage `env` apply */
  readonly commandFor: (
    job: Job,
    task: Task,
    env: Readonly<Record<string, string>>,
    timeoutMs: number,
  ) => Omit<LaunchSpec, 'jobId'>;
}

/** The CLI runner `ORCH_AGENT_RUNNER` names, with the model, server, key and budget settings. */
function cliRunner(cfg: HostSettings): AgentRunner | undefined {
  const budget = {
    timeoutMs: cfg.agentTimeoutSeconds * 1000,
    maxTurns: cfg.agentMaxTurns,
    maxCostUsd: cfg.agentMaxCostUsd,
  };
  const path = cfg.agentCliPath === undefined ? {} : { path: cfg.agentCliPath };
  if (cfg.agentRunner === 'claude-code')
    return createClaudeCodeRunner({
      apiKey: cfg.agentApiKey ?? '',
      ...(cfg.agentBaseUrl === undefined ? {} : { baseUrl: cfg.agentBaseUrl }),
      ...(cfg.agentModel === undefined ? {} : { model: cfg.agentModel }),
      budget,
      ...path,
    });
  if (cfg.agentRunner === 'codex')
    return createCodexRunner({
      apiKey: cfg.agentApiKey ?? '',
      baseUrl: cfg.agentBaseUrl ?? '',
      model: cfg.agentModel ?? '',
      budget,
      ...path,
    });
  return undefined;
}

/**
 * With `ORCH_AGENT_RUNNER=claude-code` or `codex`: the analyst and developer
 * run that CLI in a per-task workspace (a clone on the task branch under
 * `<dataDir>/workspaces`, pushed with the Gitea token through git's askpass,
 * removed when the task ends, its branch deleted after the merge), with a
 * transcript per job in `<dataDir>/agents`; the deployer runs its shell
 * command in the same workspace. `undefined` with `command` (the host runs
 * the shell commands as before).
 *
 * @example
 * ```ts
 * const agents = createHostAgents({ settings: cfg, store, tracker, events, logger, remoteUrl, baseBranch: 'main',
 *   deployCommandOf: () => cfg.agentDeployerCommand });
 * ```
 */
export function createHostAgents(options: HostAgentsOptions): HostAgents | undefined {
  const cfg = options.settings;
  const cli = cliRunner(cfg);
  if (cli === undefined) return undefined;
  const workspaces = createWorkspaces({
    root: join(cfg.dataDir, 'workspaces'),
    remoteUrl: (task) => options.remoteUrl(task.repo),
    baseBranch: options.baseBranch,
    credentials: { username: 'conveyor', password: cfg.giteaToken },
    identity: { name: 'Conveyor agent', email: 'agent@conveyor.invalid' },
    ...(options.gitEnv === undefined ? {} : { gitEnv: options.gitEnv }),
  });
  const deployers = new Map<string, AgentRunner>();
  const deployerOf = (task: Task): AgentRunner | undefined => {
    const command = options.deployCommandOf(task);
    if (command === undefined) return undefined;
    let runner = deployers.get(command);
    if (runner === undefined) {
      runner = createCommandRunner({ command: 'sh', args: ['-c', command] });
      deployers.set(command, runner);
    }
    return runner;
  };
  // agent output is also cleaned of whatever the security gate's built-in rules would flag
  const secretRules = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  const launcher = createAgentLauncher({
    store: options.store,
    workspaces,
    tracker: options.tracker,
    transcriptDir: join(cfg.dataDir, 'agents'),
    runnerFor: (job, task) => (job.agent === 'deployer' ? deployerOf(task) : cli),
    secrets: [cfg.giteaToken, ...(cfg.agentApiKey === undefined ? [] : [cfg.agentApiKey])],
    ...(secretRules.ok
      ? { detectSecrets: (text: string) => scanText(secretRules.value, text).map((f) => f.Secret) }
      : {}),
    logger: options.logger,
  });
  attachWorkspaceCleanup({
    events: options.events,
    store: options.store,
    workspaces,
    deleteBranchAfterMerge: true,
    logger: options.logger,
  });
  return {
    launcher,
    // Every agent gets the stage variables; the launcher redacts only secret ones, so task ids stay readable.
    commandFor: (_job, _task, env, timeoutMs) => ({ ...agentCommandFor(), env, timeoutMs }),
  };
}
