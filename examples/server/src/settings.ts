import { join } from 'node:path';
import {
  ConveyorError,
  type CoreSettings,
  coreSettingsSchema,
  DELIVERY_CLAIM_MS,
  describeSettings,
  envName,
  err,
  ok,
  parseEnvSettings,
  type Result,
} from '@conveyor/core';
import {
  type MergeSettings,
  mergeSettingsSchema,
  type SecuritySettings,
  type StagingSettings,
  securitySettingsSchema,
  stagingSettingsSchema,
} from '@conveyor/gates';
import { z } from 'zod';
import { loadProjectsFile, type ProjectConfig } from './projects.js';

/** How the card follows a task (the Telegram adapter's `CardMode`). */
type CardMode = 'edit' | 'bump';

const PKG = '@conveyor/example-server';

const required = (what: string) => z.string().min(1).describe(what);
const optional = (what: string) => z.string().min(1).optional().describe(what);

/**
 * The example host's own settings: where it listens and stores, how it
 * reaches Plane, Gitea and Telegram, and which command runs each agent.
 */
export const hostSettingsSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(8080).describe('HTTP port (0 = any free port)'),
  listenHost: z.string().min(1).default('127.0.0.1').describe('HTTP address to listen on'),
  dataDir: z
    .string()
    .min(1)
    .default('.conveyor')
    .describe('where the SQLite database, logs, reports and checkouts live'),
  store: z
    .enum(['sqlite', 'postgres'])
    .default('sqlite')
    .describe(
      'where the state lives: `sqlite` (a file in ORCH_DATA_DIR, one machine) or `postgres` (ORCH_PG_URL: several hosts on one database; see docs/postgres.md)',
    ),
  pgUrl: optional(
    'the PostgreSQL connection string, postgres://user:password@host:port/database (required when ORCH_STORE=postgres)',
  ),
  pgSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'expected lower-case letters, digits and _')
    .default('conveyor')
    .describe("the PostgreSQL schema holding the store's tables; every host of one deployment names the same"),
  pgMaxConnections: z
    .number()
    .int()
    .min(1)
    .default(10)
    .describe("connections of this host's PostgreSQL pool (one more is opened for LISTEN)"),
  pgStatementTimeoutMs: z
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe('the server cancels a store statement running longer (ms); the call then fails with a retryable timeout'),
  defaultProjectLimit: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'running jobs allowed per project whose entry in ORCH_PROJECTS_FILE sets no limits.maxRunningJobs (default: only ORCH_MAX_CONCURRENCY); claims are fair across projects either way',
    ),
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(1_048_576)
    .describe('webhook bodies over this many bytes are refused (413)'),
  shutdownGraceMs: z
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe('on SIGTERM, how long running jobs may take before they are killed (ms)'),
  logFormat: z.enum(['json', 'text']).default('json').describe('log line format'),
  dashboardToken: optional(
    'the token that opens the dashboard (/dashboard) and its JSON API (/api/…); required unless the host listens on loopback only',
  ),
  logLevel: z
    .enum(['debug', 'info', 'warn', 'error'])
    .default('info')
    .describe('log lines below this level are dropped'),
  httpHeadersTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('a client must send its request headers within this long (ms), or it is cut off'),
  httpRequestTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe('a client must send its whole request (headers and body) within this long (ms), or it is cut off'),
  httpShutdownGraceMs: z
    .number()
    .int()
    .min(0)
    .default(5_000)
    .describe('on SIGTERM, how long in-flight requests may take before their connections are closed (ms)'),
  webhookClaimMs: z
    .number()
    .int()
    .min(100)
    .default(DELIVERY_CLAIM_MS)
    .describe(
      'a webhook delivery being handled is claimed this long (ms): a redelivery within it answers 503, after it (the host died mid-handling) it is handled again',
    ),

  planeBaseUrl: required("Plane's address, e.g. https://plane.example.com"),
  planeApiKey: required('a Plane API token (X-API-Key)'),
  planeWorkspaceSlug: required('the Plane workspace slug'),
  planeProjectId: optional(
    'the Plane project uuid the host serves (required unless ORCH_PROJECTS_FILE lists the projects)',
  ),
  planeProjectIdentifier: optional('the Plane project identifier (e.g. WEB), for issue keys such as WEB-12'),
  planeWebhookSecret: required('the Plane webhook secret'),
  planeWebhookSecretPrevious: optional('the previous Plane webhook secret, accepted during a rotation'),
  planeStartStates: z
    .array(z.string().min(1))
    .default(['Todo'])
    .describe('Plane states in which a new issue becomes a task'),

  giteaBaseUrl: required("Gitea's address, e.g. https://gitea.example.com"),
  giteaToken: required('a Gitea access token'),
  giteaWebhookSecret: required('the Gitea webhook secret'),
  giteaWebhookSecretPrevious: optional('the previous Gitea webhook secret, accepted during a rotation'),
  giteaCloneUrl: z
    .string()
    .min(1)
    .optional()
    .describe('clone URL template with {repo} (default <giteaBaseUrl>/{repo}.git); credentials via git config'),

  telegramBotToken: required('the Telegram bot token'),
  telegramChatId: required('the chat the task cards live in (numeric id or @channel)'),
  telegramMode: z
    .string()
    .default('edit')
    .transform((mode): CardMode => (mode.trim().toLowerCase() === 'bump' ? 'bump' : 'edit'))
    .describe(
      '`bump` deletes the card and sends it again at the bottom of the chat on every change; any other value means `edit` (the card is edited in place; the host warns about a value that is neither)',
    ),
  telegramLocale: z.enum(['en', 'ru']).default('en').describe('card labels'),
  telegramBaseUrl: optional('the Bot API address (default https://api.telegram.org)'),

  agentAnalystCommand: optional(
    'shell command of the analyst agent (analysis stage); required unless ORCH_PROJECTS_FILE is set',
  ),
  agentDeveloperCommand: optional(
    'shell command of the developer agent (development stage); required unless ORCH_PROJECTS_FILE is set',
  ),
  agentDeployerCommand: optional(
    'shell command of the deployer agent (deploy-staging and deploy stages); required unless ORCH_PROJECTS_FILE is set',
  ),
  projectsFile: optional(
    'a YAML file of the projects this host serves (each: Plane project, repository, agents, gates, limits); replaces ORCH_PLANE_PROJECT_ID, ORCH_HOST_REPO and the agent commands',
  ),
  agentTimeoutSeconds: z.number().int().min(1).default(3_600).describe('an agent running longer is killed'),
  agentRunner: z
    .enum(['command', 'claude-code', 'codex'])
    .default('command')
    .describe(
      'what runs the analyst and developer: `command` (the shell commands above), `claude-code` (the Claude Code CLI) or `codex` (the Codex CLI), each in a per-task workspace; the deployer always runs its shell command',
    ),
  agentModel: optional('the model the agent CLI asks for (claude-code: optional; codex: required)'),
  agentBaseUrl: optional(
    "the model server's address (claude-code: ANTHROPIC_BASE_URL, optional; codex: the provider's base_url, required)",
  ),
  agentApiKey: optional('the API key the agent CLI sends to the model server (required for claude-code and codex)'),
  agentMaxTurns: z
    .number()
    .int()
    .min(1)
    .default(60)
    .describe('an agent taking more turns is stopped (claude-code, codex)'),
  agentMaxCostUsd: z
    .number()
    .min(0)
    .default(5)
    .describe('an agent whose reported cost passes this many US dollars is stopped (claude-code, codex)'),
  agentCliPath: optional("the PATH the agent CLIs (claude, codex) are looked up in (default: the host's PATH)"),

  freshnessStatusContext: z
    .string()
    .min(1)
    .default('image/build')
    .describe(
      'the freshness gate reads this commit status of the branch head: success = the image was built from it; pending or absent = a build is running (defer); failure = rebuild needed',
    ),
  freshnessDeferMs: z
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe('how long the freshness gate waits before looking again while an image builds (ms)'),
});

/** The example host's own settings, parsed. */
export type HostSettings = z.output<typeof hostSettingsSchema>;

/** Every setting the host reads, by package. */
export interface ServerSettings {
  readonly host: HostSettings;
  readonly core: CoreSettings;
  readonly security: SecuritySettings;
  readonly merge: MergeSettings;
  readonly staging: StagingSettings;
  /** the projects of `ORCH_PROJECTS_FILE`; absent: one project from `ORCH_PLANE_PROJECT_ID` and `ORCH_HOST_REPO` */
  readonly projects?: readonly ProjectConfig[];
  /** unknown `ORCH_*` variables (likely typos), a card mode that is neither `edit` nor `bump`, no repository route */
  readonly warnings: readonly string[];
}

/** The schemas the host reads, in the order `.env.example` lists them. */
export const SERVER_SETTING_SCHEMAS = Object.freeze({
  host: hostSettingsSchema,
  core: coreSettingsSchema,
  security: securitySettingsSchema,
  merge: mergeSettingsSchema,
  staging: stagingSettingsSchema,
});

/** The problems `parseEnvSettings` listed, one per bad variable. */
function problemsOf(error: ConveyorError): readonly string[] | undefined {
  const problems = (error.details as { problems?: unknown } | undefined)?.problems;
  return Array.isArray(problems) && problems.every((p) => typeof p === 'string') ? problems : undefined;
}

/** What the chosen agent runner needs and is not set. */
function agentRunnerProblems(host: HostSettings): string[] {
  const need: (keyof HostSettings)[] =
    host.agentRunner === 'claude-code'
      ? ['agentApiKey']
      : host.agentRunner === 'codex'
        ? ['agentApiKey', 'agentBaseUrl', 'agentModel']
        : [];
  return need
    .filter((key) => host[key] === undefined)
    .map((key) => `${envName(key)} (${key}): required when ORCH_AGENT_RUNNER=${host.agentRunner}`);
}

/**
 * Reads every setting from `env`. All problems of all schemas come back in one
 * `invalid_config` error, so a person fixes them in one go.
 */
export function loadServerSettings(
  env: Readonly<Record<string, string | undefined>>,
): Result<ServerSettings, ConveyorError> {
  const known = Object.values(SERVER_SETTING_SCHEMAS).flatMap((schema) => describeSettings(schema).map((s) => s.env));
  const host = parseEnvSettings(hostSettingsSchema, env, { known });
  const core = parseEnvSettings(coreSettingsSchema, env, { known, warnUnknown: false });
  const security = parseEnvSettings(securitySettingsSchema, env, { known, warnUnknown: false });
  // The merge gate's worktrees live in the data folder unless the operator says otherwise.
  const dataDir = host.ok ? host.value.settings.dataDir : '.conveyor';
  const mergeEnv = { ORCH_MERGE_WORKTREE_ROOT: join(dataDir, 'worktrees'), ...env };
  const merge = parseEnvSettings(mergeSettingsSchema, mergeEnv, { known, warnUnknown: false });
  const staging = parseEnvSettings(stagingSettingsSchema, env, { known, warnUnknown: false });
  const problems = [host, core, security, merge, staging].flatMap((r) =>
    r.ok ? [] : (problemsOf(r.error) ?? [r.error.message]),
  );
  let projects: readonly ProjectConfig[] | undefined;
  // read even when other settings are bad, so one run lists every problem
  const projectsFile = host.ok ? host.value.settings.projectsFile : env.ORCH_PROJECTS_FILE?.trim() || undefined;
  if (projectsFile !== undefined) {
    const loaded = loadProjectsFile(projectsFile);
    if (loaded.ok) projects = loaded.value;
    else problems.push(`ORCH_PROJECTS_FILE (projectsFile): ${loaded.error.message}`);
  } else {
    // one project from the environment: its Plane project and agents are required
    // a CLI runner (claude-code, codex) runs the analyst and developer: only the deployer needs a command
    const runner = host.ok ? host.value.settings.agentRunner : env.ORCH_AGENT_RUNNER?.trim() || 'command';
    const keys =
      runner === 'command'
        ? (['planeProjectId', 'agentAnalystCommand', 'agentDeveloperCommand', 'agentDeployerCommand'] as const)
        : (['planeProjectId', 'agentDeployerCommand'] as const);
    for (const key of keys) {
      const value = host.ok ? host.value.settings[key] : env[envName(key)]?.trim() || undefined;
      if (value === undefined)
        problems.push(`${envName(key)} (${key}): required but not set (or set ORCH_PROJECTS_FILE)`);
    }
  }
  if (host.ok) problems.push(...agentRunnerProblems(host.value.settings));
  // checked even when other settings are bad, so one run lists every problem
  const storeKind = host.ok ? host.value.settings.store : env.ORCH_STORE?.trim().toLowerCase();
  const pgUrl = host.ok ? host.value.settings.pgUrl : env.ORCH_PG_URL?.trim() || undefined;
  if (storeKind === 'postgres' && pgUrl === undefined) {
    problems.push('ORCH_PG_URL (pgUrl): required when ORCH_STORE=postgres');
  }
  if (!host.ok || !core.ok || !security.ok || !merge.ok || !staging.ok || problems.length > 0) {
    return err(
      new ConveyorError(PKG, 'invalid_config', `invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
        details: { problems },
      }),
    );
  }
  const warnings = [...host.value.warnings];
  const mode = env.ORCH_TELEGRAM_MODE?.trim().toLowerCase();
  if (mode !== undefined && mode !== '' && mode !== 'edit' && mode !== 'bump') {
    warnings.push(
      `ORCH_TELEGRAM_MODE=${JSON.stringify(env.ORCH_TELEGRAM_MODE)} is neither edit nor bump: the card is edited in place (edit)`,
    );
  }
  if (core.value.settings.hostRepo === undefined && projects === undefined) {
    warnings.push(
      'ORCH_HOST_REPO is not set: no Plane issue has a repository route, so every issue is ignored ("no repository route") until it is set',
    );
  }
  return ok({
    host: host.value.settings,
    core: core.value.settings,
    security: security.value.settings,
    merge: merge.value.settings,
    staging: staging.value.settings,
    ...(projects === undefined ? {} : { projects }),
    warnings,
  });
}
