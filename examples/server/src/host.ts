import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createGiteaForge, createGiteaWebhook } from '@conveyor/adapter-gitea';
import { createPlaneTracker, createPlaneWebhook, planeDeliveryFingerprint } from '@conveyor/adapter-plane';
import { createTelegramNotifier } from '@conveyor/adapter-telegram';
import {
  type Clock,
  ConveyorError,
  type CoreSettings,
  createConsoleLogger,
  createDaemons,
  createEventBus,
  createGateRegistry,
  createPipeline,
  createProcessLauncher,
  DEFAULT_STAGES,
  defineStages,
  type Forge,
  type Job,
  type Logger,
  ok,
  type Pipeline,
  readExitRecord,
  systemClock,
  type Task,
  type TrackerIssue,
} from '@conveyor/core';
import { createGitPinResolver } from '@conveyor/gates';
import { recordedAgentCommand } from './agent-command.js';
import { createHostAgents } from './agents.js';
import { dashboardDecision, hostArtifacts, hostRedactor } from './dashboard/artifacts.js';
import { createDashboard } from './dashboard/dashboard.js';
import { DELIVERY_EDGE, registerHostGates, stagingChecksFile } from './gates.js';
import { createHostHttpHandler } from './http-app.js';
import { createProjectsTracker, gateScope, type ProjectConfig } from './projects.js';
import type { ServerSettings } from './settings.js';
import { type HostStore, openSqliteHostStore } from './store.js';

/**
 * The gates' switches and scopes of a multi-project host: a gate runs for the
 * repositories of the projects that leave it on, and is off when none does
 * (an empty scope would mean every repository).
 */
function projectGateSettings(core: CoreSettings, projects: readonly ProjectConfig[]): CoreSettings {
  const scoped = (gate: 'security' | 'staging' | 'merge' | 'freshness', enabled: boolean) => {
    const scope = gateScope(projects, gate);
    return { enabled: enabled && scope !== undefined, repos: scope ?? [] };
  };
  const security = scoped('security', core.securityGateEnabled);
  const staging = scoped('staging', core.stagingGateEnabled);
  const merge = scoped('merge', core.mergeGateEnabled);
  const freshness = scoped('freshness', core.freshnessGateEnabled);
  return {
    ...core,
    hostRepo: undefined,
    securityGateEnabled: security.enabled,
    securityGateRepos: security.repos,
    stagingGateEnabled: staging.enabled,
    stagingGateRepos: staging.repos,
    mergeGateEnabled: merge.enabled,
    mergeGateRepos: merge.repos,
    freshnessGateEnabled: freshness.enabled,
    freshnessGateRepos: freshness.repos,
  };
}

/** What `createHost` may take instead of the real thing (tests pass a clock or a logger). */
export interface HostOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** environment of agent processes (default: the host's) */
  readonly agentEnv?: Readonly<Record<string, string>>;
  /** added to the environment of the gates' git (tests) */
  readonly gitEnv?: Readonly<Record<string, string>>;
  /** the forge (default: Gitea from the settings); tests pass a local git forge */
  readonly forge?: Forge;
  /**
   * The store, opened by `openHostStore` (required with `ORCH_STORE=postgres`,
   * which opens asynchronously); default: the SQLite file in the data folder.
   * The host closes it on `stop()`.
   */
  readonly store?: HostStore;
}

/** A running Conveyor host. */
export interface Host {
  /** `http://<host>:<port>` once started */
  readonly url: () => string;
  readonly store: HostStore;
  readonly pipeline: Pipeline;
  /** starts the HTTP server and the daemons */
  start(): Promise<void>;
  /** stops in order: stop accepting, drain webhooks, stop the daemons (jobs finish or are handed back), close the store */
  stop(reason: string): Promise<void>;
}

const PKG = '@conveyor/example-server';
/** The stage whose job reports the staging checks: the one the delivery edge leaves. */
const STAGING_STAGE = DELIVERY_EDGE.split('->')[0];

/**
 * Assembles a Conveyor host from settings: the store (SQLite, or the
 * PostgreSQL store `openHostStore` opened), with the projects' limits, the Plane
 * tracker, the Gitea forge, the Telegram card, the security, staging, merge
 * and freshness gates on `deploy-staging -> deploy` (each behind its
 * kill-switch and scope), the pipeline, the worker/reaper/reconciler daemons
 * (the reaper reads the agents' exit records), and the webhook HTTP server.
 */
export function createHost(settings: ServerSettings, overrides: HostOverrides = {}): Host {
  const { host: cfg, core } = settings;
  const clock = overrides.clock ?? systemClock;
  const logger =
    overrides.logger ??
    createConsoleLogger({ json: cfg.logFormat === 'json', level: cfg.logLevel }).child({ service: 'conveyor' });
  const events = createEventBus({
    onListenerError: (error, event) => logger.error('event listener failed', { event, error: String(error) }),
  });

  mkdirSync(cfg.dataDir, { recursive: true });
  let store: HostStore;
  if (overrides.store !== undefined) store = overrides.store;
  else if (cfg.store === 'postgres') {
    throw new ConveyorError(
      PKG,
      'invalid_config',
      'ORCH_STORE=postgres: open the store with openHostStore(settings) and pass it as createHost(settings, { store })',
    );
  } else {
    const opened = openSqliteHostStore(settings);
    if (!opened.ok) throw opened.error;
    store = opened.value;
  }

  // One project from ORCH_PLANE_PROJECT_ID / ORCH_HOST_REPO, or every project of ORCH_PROJECTS_FILE.
  const projects = settings.projects;
  const planeFor = (projectId: string, projectIdentifier: string | undefined) =>
    createPlaneTracker({
      baseUrl: cfg.planeBaseUrl,
      apiKey: cfg.planeApiKey,
      workspaceSlug: cfg.planeWorkspaceSlug,
      projectId,
      ...(projectIdentifier ? { projectIdentifier } : {}),
    });
  const projectTracker =
    projects === undefined
      ? undefined
      : createProjectsTracker(
          new Map(projects.map((p) => [p.planeProjectId, planeFor(p.planeProjectId, p.planeProjectIdentifier)])),
          (project, error) =>
            logger.warn('polling a project failed; the other projects are polled', {
              project: projectOf(project)?.name ?? project,
              error: error.message,
            }),
        );
  const tracker = projectTracker ?? planeFor(cfg.planeProjectId ?? '', cfg.planeProjectIdentifier);
  const projectOf = (planeProjectId: string): ProjectConfig | undefined =>
    projects?.find((p) => p.planeProjectId === planeProjectId);
  const forge = overrides.forge ?? createGiteaForge({ baseUrl: cfg.giteaBaseUrl, token: cfg.giteaToken });
  const notifier = createTelegramNotifier({
    botToken: cfg.telegramBotToken,
    chatId: cfg.telegramChatId,
    cards: store,
    mode: cfg.telegramMode,
    locale: cfg.telegramLocale,
    ...(cfg.telegramBaseUrl ? { baseUrl: cfg.telegramBaseUrl } : {}),
  });
  const secrets = (current: string, previous: string | undefined) => (previous ? [current, previous] : [current]);
  const receivers = {
    plane: createPlaneWebhook({
      secrets: secrets(cfg.planeWebhookSecret, cfg.planeWebhookSecretPrevious),
      maxBodyBytes: cfg.maxBodyBytes,
      // with a project file the handler routes each delivery to its project
      ...(projects === undefined && cfg.planeProjectId ? { project: cfg.planeProjectId } : {}),
    }),
    gitea: createGiteaWebhook({
      secrets: secrets(cfg.giteaWebhookSecret, cfg.giteaWebhookSecretPrevious),
      maxBodyBytes: cfg.maxBodyBytes,
    }),
  };

  const stages = defineStages({
    stages: DEFAULT_STAGES.stages,
    maxDeveloperRetries: core.maxDeveloperRetries,
    maxDeferrals: core.maxDeferrals,
    deferDelayMs: core.deferDelayMs,
  });
  if (!stages.ok) throw stages.error;

  const cloneUrl = (repo: string) =>
    (cfg.giteaCloneUrl ?? `${cfg.giteaBaseUrl.replace(/\/+$/, '')}/{repo}.git`).replace('{repo}', repo);
  const gates = createGateRegistry({
    hostRepo: core.hostRepo,
    defaultTimeoutMs: core.gateTimeoutMs,
    clock,
    events,
    stages: stages.value,
    allowForeignScope: core.allowForeignGateScopes,
  });
  const registered = registerHostGates({
    registry: gates,
    store,
    forge,
    core: projects === undefined ? core : projectGateSettings(core, projects),
    security: settings.security,
    merge: settings.merge,
    staging: settings.staging,
    dataDir: cfg.dataDir,
    remoteUrl: cloneUrl,
    freshnessStatusContext: cfg.freshnessStatusContext,
    freshnessDeferMs: cfg.freshnessDeferMs,
    ...(overrides.gitEnv === undefined ? {} : { gitEnv: overrides.gitEnv }),
  });
  if (!registered.ok) throw registered.error;

  const pipeline = createPipeline({
    store,
    stages: stages.value,
    gates,
    clock,
    logger,
    // every decision is bound to the task head and the main it starts on (invariant 8)
    resolvePin: createGitPinResolver({
      remoteUrl: cloneUrl,
      baseBranch: settings.merge.mergeBaseBranch,
      ...(overrides.gitEnv === undefined ? {} : { gitEnv: overrides.gitEnv }),
    }),
    tracker,
    forge,
    notifier,
    events,
    ...(projects !== undefined
      ? {
          route: (issue: TrackerIssue) => {
            const project = projectOf(issue.project);
            return project && { repo: project.repo, branch: `task/${issue.key ?? issue.id}` };
          },
        }
      : core.hostRepo
        ? { repo: core.hostRepo }
        : {}),
    startStates: cfg.planeStartStates,
    reportDir: join(cfg.dataDir, 'reports'),
  });

  const commandsOf = (task: Task): Readonly<Record<string, string | undefined>> =>
    projectOf(task.project)?.agents ?? {
      analyst: cfg.agentAnalystCommand,
      developer: cfg.agentDeveloperCommand,
      deployer: cfg.agentDeployerCommand,
    };
  const logFileOf = (job: Pick<Job, 'id'>) => join(cfg.dataDir, 'logs', `${job.id}.log`);
  // ORCH_AGENT_RUNNER=claude-code|codex: the analyst and developer run a coding-agent CLI in a task workspace
  const agents = createHostAgents({
    settings: cfg,
    store,
    tracker,
    events,
    logger,
    remoteUrl: cloneUrl,
    baseBranch: settings.merge.mergeBaseBranch,
    deployCommandOf: (task) => commandsOf(task).deployer,
    ...(overrides.gitEnv === undefined ? {} : { gitEnv: overrides.gitEnv }),
  });
  const daemons = createDaemons({
    store,
    pipeline,
    clock,
    logger,
    events,
    notifier,
    worker: {
      enabled: core.workerEnabled,
      launcher: agents?.launcher ?? createProcessLauncher({ logDir: join(cfg.dataDir, 'logs') }),
      maxConcurrency: core.maxConcurrency,
      intervalMs: core.workerIntervalMs,
      // PostgreSQL's LISTEN/NOTIFY: an enqueue on any host wakes an idle worker at once
      ...(store.onJobAvailable === undefined
        ? {}
        : { wake: (wakeUp: () => void) => store.onJobAvailable?.(wakeUp) ?? (() => {}) }),
      commandFor: (job, task) => {
        const stagingChecks = stagingChecksFile(cfg.dataDir, task.id);
        // A deploy-staging attempt reports afresh: the staging verdict never reads an earlier attempt's checks.
        if (job.stage === STAGING_STAGE) rmSync(stagingChecks, { force: true });
        const stageEnv = {
          CONVEYOR_TASK_ID: task.id,
          CONVEYOR_ISSUE_ID: task.issueId,
          CONVEYOR_REPO: task.repo,
          CONVEYOR_BRANCH: task.branch,
          CONVEYOR_STAGE: job.stage,
          CONVEYOR_ATTEMPT: String(job.attempt),
          CONVEYOR_TASK_DESCRIPTION: job.input.description,
          CONVEYOR_FINDINGS: job.input.findings ?? '',
          CONVEYOR_STAGING_CHECKS: stagingChecks,
        };
        const timeoutMs = (projectOf(task.project)?.limits.agentTimeoutSeconds ?? cfg.agentTimeoutSeconds) * 1000;
        if (agents !== undefined) return agents.commandFor(job, task, stageEnv, timeoutMs);
        return {
          ...recordedAgentCommand(
            commandsOf(task)[job.agent] ?? `echo "no command for agent ${job.agent}" >&2; exit 2`,
            logFileOf(job),
          ),
          env: { ...(overrides.agentEnv ?? {}), ...stageEnv },
          timeoutMs,
        };
      },
    },
    reaper: {
      enabled: core.reaperEnabled,
      intervalMs: core.reaperIntervalMs,
      deadTicks: core.reaperDeadTicks,
      maxRunningSeconds: core.reaperMaxRunningSeconds,
      leaseReclaimEnabled: core.reaperLeaseReclaimEnabled,
      // The exit record the agent's shell wrote survives this host: after a crash a
      // job that exited is decided at once (exit 0: by its gates), not run again.
      exitCodeOf: (job) => readExitRecord(logFileOf(job))?.exitCode,
    },
    reconciler: {
      enabled: core.reconcilerEnabled,
      intervalMs: core.reconcilerIntervalMs,
      graceSeconds: core.reconcilerGraceSeconds,
      ...(core.reconcilerTrackerPollingEnabled
        ? {
            tracker,
            // every state the pipeline reacts to: a lost Cancelled/Rejected webhook is replayed too
            pollStates: [
              ...cfg.planeStartStates,
              ...stages.value.trackerStates.approve,
              ...stages.value.trackerStates.reject,
            ],
          }
        : {}),
    },
  });

  let stopping = false;
  const handler = createHostHttpHandler({
    receivers,
    handle: async (event) => {
      if (projects !== undefined && (event.kind === 'tracker.issue' || event.kind === 'tracker.issue_deleted')) {
        const project = event.kind === 'tracker.issue' ? event.issue.project : event.project;
        if (projectOf(project) === undefined)
          return ok({ action: 'ignored', reason: `Plane project ${project} is not one this host serves` });
        if (event.kind === 'tracker.issue') projectTracker?.remember(event.issue);
      }
      return pipeline.handle(event);
    },
    store,
    now: () => clock.now(),
    logger,
    maxBodyBytes: cfg.maxBodyBytes,
    claimMs: cfg.webhookClaimMs,
    deliveryKeys: (source, rawBody) => (source === 'plane' ? [`body:${planeDeliveryFingerprint(rawBody)}`] : []),
    health: () => ({
      ok: !stopping,
      stopping,
      daemons: daemons.board.snapshot().map((d) => ({ name: d.name, running: d.running })),
    }),
    queue: async () => {
      const [jobs, leases] = await Promise.all([
        store.listJobs({ statuses: ['queued', 'running'], limit: 500 }),
        store.listLeases(),
      ]);
      return {
        jobs: jobs.ok ? jobs.value : { error: jobs.error.message },
        leases: leases.ok ? leases.value : { error: leases.error.message },
        daemons: daemons.board.snapshot(),
      };
    },
  });
  const dashboard = createDashboard({
    store,
    events,
    logger,
    listenHost: cfg.listenHost,
    ...(cfg.dashboardToken ? { token: cfg.dashboardToken } : {}),
    daemons: () => daemons.board.snapshot(),
    redact: hostRedactor(),
    artifactsFor: (task) => hostArtifacts(store, cfg.dataDir, task),
    decisionsFor: async (task) => {
      const listed = await store.listDecisions(task.id);
      return listed.ok ? listed.value.map(dashboardDecision) : [];
    },
  });
  if (!dashboard.ok) throw dashboard.error;
  const routes = (req: Parameters<typeof handler>[0], res: Parameters<typeof handler>[1]) => {
    void dashboard.value.handle(req, res).then((handled) => {
      if (!handled) handler(req, res);
    });
  };
  // A client that trickles its headers or body is cut off, so it can neither pin a
  // request slot nor hold a SIGTERM open.
  const server: Server = createServer(
    {
      headersTimeout: cfg.httpHeadersTimeoutMs,
      requestTimeout: cfg.httpRequestTimeoutMs,
      // how often those two are enforced (Node's default, 30 s, would let a trickler overstay)
      connectionsCheckingInterval: Math.min(1_000, cfg.httpHeadersTimeoutMs),
    },
    routes,
  );
  let address = '';

  return {
    url: () => address,
    store,
    pipeline,
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(cfg.port, cfg.listenHost, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      address = `http://${cfg.listenHost}:${port}`;
      daemons.start();
      logger.info('conveyor host listening', {
        url: address,
        daemons: daemons.enabled,
        gates: gates.snapshot(),
      });
    },
    async stop(reason: string) {
      if (stopping) return;
      stopping = true;
      logger.info('conveyor host stopping', { reason });
      handler.drain();
      dashboard.value.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(() => resolve('grace over'), cfg.httpShutdownGraceMs);
      });
      if ((await Promise.race([handler.idle(), grace])) === 'grace over') {
        logger.warn('requests still in flight when the HTTP grace ran out: closing their connections', {
          graceMs: cfg.httpShutdownGraceMs,
        });
        server.closeAllConnections();
      }
      clearTimeout(timer);
      await closed;
      logger.info('http server closed', {});
      const { handedBack } = await daemons.stop(cfg.shutdownGraceMs);
      logger.info('daemons stopped', { handedBack });
      const closedStore = await store.close();
      if (!closedStore.ok) logger.error('closing the store failed', { error: closedStore.error.message });
      logger.info('conveyor host stopped', { reason, pkg: PKG });
    },
  };
}
