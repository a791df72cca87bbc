// The smallest useful Conveyor host (docs/getting-started.md shows this file).
import { createServer } from 'node:http';
import { createGiteaForge, createGiteaWebhook } from '@conveyor/adapter-gitea';
import { createPlaneTracker, createPlaneWebhook } from '@conveyor/adapter-plane';
import { createTelegramNotifier } from '@conveyor/adapter-telegram';
import * as core from '@conveyor/core';
import { createMergeGate, createSecurityGate, withTaskCheckout } from '@conveyor/gates';
import { createSqliteStore } from '@conveyor/store-sqlite';

const NEEDED = ['REPO', 'PLANE_URL', 'PLANE_KEY', 'PLANE_WORKSPACE', 'PLANE_PROJECT', 'PLANE_WEBHOOK_SECRET']
  .concat(['GITEA_URL', 'GITEA_TOKEN', 'GITEA_WEBHOOK_SECRET', 'TG_TOKEN', 'TG_CHAT'])
  .filter((name) => !process.env[name]);
if (NEEDED.length > 0) {
  process.stderr.write(`my-host: cannot start, not set:\n${NEEDED.map((name) => `  ${name}\n`).join('')}`);
  process.exit(2);
}
const env = (name: string) => process.env[name] as string;
const repo = env('REPO'); // owner/name: every Plane issue of the project becomes a task on it
const store = createSqliteStore({ path: 'conveyor.db' }).match({
  ok: (s) => s,
  err: (e) => {
    throw e;
  },
});
const forge = createGiteaForge({ baseUrl: env('GITEA_URL'), token: env('GITEA_TOKEN') });
const remoteUrl = (name: string) => `${env('GITEA_URL')}/${name}.git`;
const [clock, logger] = [core.systemClock, core.createConsoleLogger()];

const gates = core.createGateRegistry({ hostRepo: repo });
gates.register('deploy-staging->deploy', withTaskCheckout(createSecurityGate(), { root: 'checkouts', remoteUrl }), {
  order: 10,
});
gates.register(
  'deploy-staging->deploy',
  createMergeGate({
    store,
    forge,
    remoteUrl,
    settings: { mergeRetestCommand: 'npm test', mergeWorktreeRoot: 'worktrees' },
  }),
  { order: 20 },
);

const tracker = createPlaneTracker({
  baseUrl: env('PLANE_URL'),
  apiKey: env('PLANE_KEY'),
  workspaceSlug: env('PLANE_WORKSPACE'),
  projectId: env('PLANE_PROJECT'),
});
const pipeline = core.createPipeline({
  store,
  gates,
  clock,
  logger,
  forge,
  tracker,
  repo,
  stages: core.DEFAULT_STAGES,
  notifier: createTelegramNotifier({ botToken: env('TG_TOKEN'), chatId: env('TG_CHAT'), cards: store, mode: 'edit' }),
});
core
  .createDaemons({
    store,
    pipeline,
    clock,
    logger,
    worker: {
      launcher: core.createProcessLauncher({ logDir: 'logs' }),
      commandFor: (job, task) => ({
        command: './agents/run.sh',
        args: [job.agent],
        env: {
          CONVEYOR_TASK_ID: task.id,
          CONVEYOR_REPO: task.repo,
          CONVEYOR_BRANCH: task.branch,
          CONVEYOR_STAGE: job.stage,
          CONVEYOR_TASK_DESCRIPTION: job.input.description,
          CONVEYOR_FINDINGS: job.input.findings ?? '',
        },
      }),
    },
    // Polls Plane and replays what no webhook delivered: new issues, approvals, cancellations.
    reconciler: { tracker, pollStates: ['Todo', 'Approved', 'Cancelled', 'Rejected'] },
  })
  .start();

const webhooks: Record<string, core.WebhookReceiver> = {
  '/webhooks/plane': createPlaneWebhook({ secrets: [env('PLANE_WEBHOOK_SECRET')], project: env('PLANE_PROJECT') }),
  '/webhooks/gitea': createGiteaWebhook({ secrets: [env('GITEA_WEBHOOK_SECRET')] }),
};
const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, async (req, res) => {
  const receiver = req.method === 'POST' ? webhooks[req.url ?? ''] : undefined;
  if (!receiver) return void res.writeHead(404).end();
  const body = await core.readRawBody(req, core.DEFAULT_WEBHOOK_MAX_BYTES, 'my-host');
  const receipt = body.andThen((rawBody) => receiver.receive({ headers: req.headers, rawBody }));
  if (!receipt.ok) return void res.writeHead(core.webhookErrorStatus(receipt.error)).end(receipt.error.message);
  const { event, deliveryId } = receipt.value;
  // handled only once the handling succeeded: a retry after a 500 or a crash is processed
  const outcome = await core.handleDelivery({
    deliveries: store,
    source: req.url ?? '',
    keys: [deliveryId],
    now: clock.now,
    handle: async () => (event.kind === 'ignored' ? core.ok(null) : pipeline.handle(event)),
  });
  res.writeHead(outcome.ok ? core.deliveryOutcomeStatus(outcome.value) : 500).end();
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => logger.info('listening', { at: server.address() }));
