import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createGiteaForge, createGiteaWebhook } from '@conveyor/adapter-gitea';
import { createPlaneTracker, createPlaneWebhook, planeDeliveryFingerprint } from '@conveyor/adapter-plane';
import { createTelegramNotifier } from '@conveyor/adapter-telegram';
import {
  type Clock,
  createConsoleLogger,
  createDaemons,
  createEventBus,
  createGateRegistry,
  createPipeline,
  createProcessLauncher,
  DEFAULT_STAGES,
  defineStages,
  type Logger,
  type Pipeline,
  systemClock,
} from '@conveyor/core';
import { createMergeGate, createSecurityGate, withTaskCheckout } from '@conveyor/gates';
import { createSqliteStore, type SqliteStore } from '@conveyor/store-sqlite';
import { createHostHttpHandler } from './http-app.js';
import type { ServerSettings } from './settings.js';

/** What `createHost` may take instead of the real thing (tests pass a clock or a logger). */
export interface HostOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** environment of agent processes (default: the host's) */
  readonly agentEnv?: Readonly<Record<string, string>>;
}

/** A running Conveyor host. */
export interface Host {
  /** `http://<host>:<port>` once started */
  readonly url: () => string;
  readonly store: SqliteStore;
  readonly pipeline: Pipeline;
  /** starts the HTTP server and the daemons */
  start(): Promise<void>;
  /** stops in order: stop accepting, drain webhooks, stop the daemons (jobs finish or are handed back), close the store */
  stop(reason: string): Promise<void>;
}

const PKG = '@conveyor/example-server';

/**
 * Assembles a Conveyor host from settings: the SQLite store, the Plane
 * tracker, the Gitea forge, the Telegram card, the security and merge gates
 * on `deploy-staging -> deploy`, the pipeline, the worker/reaper/reconciler
 * daemons, and the webhook HTTP server.
 */
export function createHost(settings: ServerSettings, overrides: HostOverrides = {}): Host {
  const { host: cfg, core } = settings;
  const clock = overrides.clock ?? systemClock;
  const logger =
    overrides.logger ?? createConsoleLogger({ json: cfg.logFormat === 'json' }).child({ service: 'conveyor' });
  const events = createEventBus({
    onListenerError: (error, event) => logger.error('event listener failed', { event, error: String(error) }),
  });

  const opened = createSqliteStore({ path: join(cfg.dataDir, 'conveyor.db') });
  if (!opened.ok) throw opened.error;
  const store = opened.value;

  const tracker = createPlaneTracker({
    baseUrl: cfg.planeBaseUrl,
    apiKey: cfg.planeApiKey,
    workspaceSlug: cfg.planeWorkspaceSlug,
    projectId: cfg.planeProjectId,
    ...(cfg.planeProjectIdentifier ? { projectIdentifier: cfg.planeProjectIdentifier } : {}),
  });
  const forge = createGiteaForge({ baseUrl: cfg.giteaBaseUrl, token: cfg.giteaToken });
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
      project: cfg.planeProjectId,
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
  const gates = createGateRegistry({ hostRepo: core.hostRepo, defaultTimeoutMs: core.gateTimeoutMs, clock, events });
  const edge = 'deploy-staging->deploy';
  const checkout = { root: join(cfg.dataDir, 'checkouts'), remoteUrl: cloneUrl };
  for (const registered of [
    gates.register(edge, withTaskCheckout(createSecurityGate(settings.security), checkout), {
      order: 10,
      enabled: () => core.securityGateEnabled,
      scope: core.securityGateRepos,
    }),
    gates.register(edge, createMergeGate({ store, forge, settings: settings.merge, remoteUrl: cloneUrl }), {
      order: 20,
      enabled: () => core.mergeGateEnabled,
      scope: core.mergeGateRepos,
    }),
  ]) {
    if (!registered.ok) throw registered.error;
  }

  const pipeline = createPipeline({
    store,
    stages: stages.value,
    gates,
    clock,
    logger,
    tracker,
    forge,
    notifier,
    events,
    ...(core.hostRepo ? { repo: core.hostRepo } : {}),
    startStates: cfg.planeStartStates,
    reportDir: join(cfg.dataDir, 'reports'),
  });

  const commands: Record<string, string> = {
    analyst: cfg.agentAnalystCommand,
    developer: cfg.agentDeveloperCommand,
    deployer: cfg.agentDeployerCommand,
  };
  const daemons = createDaemons({
    store,
    pipeline,
    clock,
    logger,
    events,
    notifier,
    worker: {
      enabled: core.workerEnabled,
      launcher: createProcessLauncher({ logDir: join(cfg.dataDir, 'logs') }),
      maxConcurrency: core.maxConcurrency,
      intervalMs: core.workerIntervalMs,
      commandFor: (job, task) => ({
        command: '/bin/sh',
        args: ['-c', commands[job.agent] ?? `echo "no command for agent ${job.agent}" >&2; exit 2`],
        env: {
          ...(overrides.agentEnv ?? {}),
          CONVEYOR_TASK_ID: task.id,
          CONVEYOR_ISSUE_ID: task.issueId,
          CONVEYOR_REPO: task.repo,
          CONVEYOR_BRANCH: task.branch,
          CONVEYOR_STAGE: job.stage,
          CONVEYOR_ATTEMPT: String(job.attempt),
          CONVEYOR_TASK_DESCRIPTION: job.input.description,
          CONVEYOR_FINDINGS: job.input.findings ?? '',
        },
        logFile: join(cfg.dataDir, 'logs', `${job.id}.log`),
        timeoutMs: cfg.agentTimeoutSeconds * 1000,
      }),
    },
    reaper: {
      enabled: core.reaperEnabled,
      intervalMs: core.reaperIntervalMs,
      deadTicks: core.reaperDeadTicks,
      maxRunningSeconds: core.reaperMaxRunningSeconds,
      leaseReclaimEnabled: core.reaperLeaseReclaimEnabled,
    },
    reconciler: {
      enabled: core.reconcilerEnabled,
      intervalMs: core.reconcilerIntervalMs,
      graceSeconds: core.reconcilerGraceSeconds,
      ...(core.reconcilerTrackerPollingEnabled
        ? { tracker, pollStates: [...cfg.planeStartStates, ...stages.value.trackerStates.approve] }
        : {}),
    },
  });

  events.on('edge.decided', ({ taskId, verdict }) =>
    logger.info('edge decided', { taskId, edge: verdict.edge, status: verdict.status, summary: verdict.summary }),
  );

  let stopping = false;
  const handler = createHostHttpHandler({
    receivers,
    handle: (event) => pipeline.handle(event),
    store,
    now: () => clock.now(),
    logger,
    maxBodyBytes: cfg.maxBodyBytes,
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
  const server: Server = createServer(handler);
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await handler.idle();
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
