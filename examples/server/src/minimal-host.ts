// The smallest useful Conveyor host (docs/getting-started.md shows this file).
import { createServer } from 'node:http';
import { createGiteaForge, createGiteaWebhook } from '@conveyor/adapter-gitea';
import { createPlaneTracker } from '@conveyor/adapter-plane';
import { createTelegramNotifier } from '@conveyor/adapter-telegram';
import * as core from '@conveyor/core';
import { createMergeGate, createSecurityGate, withTaskCheckout } from '@conveyor/gates';
import { createSqliteStore } from '@conveyor/store-sqlite';

const env = (name: string) => process.env[name] ?? '';
const store = createSqliteStore({ path: 'conveyor.db' }).match({
  ok: (s) => s,
  err: (e) => {
    throw e;
  },
});
const forge = createGiteaForge({ baseUrl: env('GITEA_URL'), token: env('GITEA_TOKEN') });
const remoteUrl = (repo: string) => `${env('GITEA_URL')}/${repo}.git`;
const [clock, logger] = [core.systemClock, core.createConsoleLogger()];

const gates = core.createGateRegistry({ hostRepo: 'acme/web' });
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

const pipeline = core.createPipeline({
  store,
  gates,
  clock,
  logger,
  forge,
  repo: 'acme/web',
  stages: core.DEFAULT_STAGES,
  tracker: createPlaneTracker({
    baseUrl: env('PLANE_URL'),
    apiKey: env('PLANE_KEY'),
    workspaceSlug: 'acme',
    projectId: env('PLANE_PROJECT'),
  }),
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
      commandFor: (job) => ({ command: './agents/run.sh', args: [job.agent] }),
    },
  })
  .start();

const gitea = createGiteaWebhook({ secrets: [env('GITEA_WEBHOOK_SECRET')] });
createServer(async (req, res) => {
  const body = await core.readRawBody(req, core.DEFAULT_WEBHOOK_MAX_BYTES, 'my-host');
  const receipt = body.andThen((rawBody) => gitea.receive({ headers: req.headers, rawBody }));
  if (!receipt.ok) return void res.writeHead(core.webhookErrorStatus(receipt.error)).end(receipt.error.message);
  const delivery = { source: 'gitea', deliveryId: receipt.value.deliveryId, now: clock.now() };
  const first = (await store.recordDelivery(delivery)).unwrapOr({ firstSeen: false }).firstSeen;
  if (first && receipt.value.event.kind !== 'ignored') await pipeline.handle(receipt.value.event);
  res.writeHead(200).end();
}).listen(8080);
