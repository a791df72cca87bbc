import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@conveyor/core';
import {
  type FakePlane,
  type FakeTelegram,
  type GitBackedGitea,
  sendPlaneWebhook,
  startFakePlane,
  startFakeTelegram,
  startGitBackedGitea,
} from '@conveyor/testkit';
import { createHost, type Host } from '../host.js';
import { loadServerSettings } from '../settings.js';

/** The Plane states of the local stack's project, in workflow order. */
export const LOCAL_STATES = [
  'Todo',
  'Analysis',
  'Approved',
  'In Progress',
  'Staging',
  'Deploying',
  'Done',
  'Cancelled',
];
const PLANE = { apiKey: 'local-plane-key', workspaceSlug: 'local', projectId: 'local-project' } as const;
const PLANE_SECRET = 'local-plane-webhook-secret';
const GITEA_TOKEN = 'local-gitea-token-0123456789';
const TG_TOKEN = '123456:local-telegram-bot-token';
/** the repository the local stack's tasks change */
export const LOCAL_REPO = 'acme/web';
const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** where the host's database, checkouts and the agents' working copies live */
  readonly dir: string;
  /** the host's port; default 0 (any free port) */
  readonly port?: number;
  readonly logger?: Logger;
  /** more `ORCH_*` settings for the host */
  readonly env?: Readonly<Record<string, string>>;
}

/** A running local stack: the host and the fakes it talks to. */
export interface LocalStack {
  readonly host: Host;
  readonly plane: FakePlane;
  readonly gitea: GitBackedGitea;
  readonly telegram: FakeTelegram;
  /** creates an issue in Plane (state `Todo`) and delivers Plane's signed `created` webhook; resolves to the issue id */
  createIssue(title: string, description?: string): Promise<string>;
  /** moves an issue to `state` in Plane and delivers the signed `updated` webhook */
  setState(issueId: string, state: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the example host against local fakes that follow the real APIs: a
 * Plane that the stack drives with signed webhooks, a Telegram, and a Gitea
 * whose repositories are real bare git repositories behind git's smart HTTP
 * (so the agents push, and the gates fetch, rebase, retest and merge, real
 * commits). The agents are a scripted stand-in (`dev/agent.mjs`) that does an
 * agent's git work without a model.
 *
 * @example
 * ```ts
 * const stack = await startLocalStack({ dir: '/tmp/conveyor-dev' });
 * const issue = await stack.createIssue('Add a login page');
 * await stack.setState(issue, 'Approved');
 * ```
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.dir, { recursive: true });
  const plane = await startFakePlane({ ...PLANE, states: LOCAL_STATES.map((name) => ({ name })) });
  const telegram = await startFakeTelegram({ token: TG_TOKEN });
  const gitea = await startGitBackedGitea({
    token: GITEA_TOKEN,
    repos: [LOCAL_REPO],
    root: join(options.dir, 'forge'),
    initialFiles: {
      'README.md': "# web\n\nThe local stack's sample repository.\n",
      'check.sh':
        '#!/bin/sh\n# the retest: every feature note has a title line\nfor f in features/*.md; do [ -e "$f" ] || exit 0; head -n1 "$f" | grep -q "^# " || exit 1; done\n',
    },
  });
  const basic = Buffer.from(`conveyor:${GITEA_TOKEN}`).toString('base64');
  // the host's git commands authenticate like the agents: a header from git's config environment
  const gitEnv = {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
  const node = process.execPath;
  const agent = `"${node}" "${AGENT}"`;
  const settings = loadServerSettings({
    ORCH_PORT: String(options.port ?? 0),
    ORCH_LISTEN_HOST: '127.0.0.1',
    ORCH_DATA_DIR: join(options.dir, 'host'),
    ORCH_HOST_REPO: LOCAL_REPO,
    ORCH_PLANE_BASE_URL: plane.url,
    ORCH_PLANE_API_KEY: PLANE.apiKey,
    ORCH_PLANE_WORKSPACE_SLUG: PLANE.workspaceSlug,
    ORCH_PLANE_PROJECT_ID: PLANE.projectId,
    ORCH_PLANE_WEBHOOK_SECRET: PLANE_SECRET,
    ORCH_GITEA_BASE_URL: gitea.url,
    ORCH_GITEA_TOKEN: GITEA_TOKEN,
    ORCH_GITEA_WEBHOOK_SECRET: 'local-gitea-webhook-secret',
    ORCH_TELEGRAM_BOT_TOKEN: TG_TOKEN,
    ORCH_TELEGRAM_CHAT_ID: '-1001',
    ORCH_TELEGRAM_BASE_URL: telegram.url,
    ORCH_AGENT_ANALYST_COMMAND: agent,
    ORCH_AGENT_DEVELOPER_COMMAND: agent,
    ORCH_AGENT_DEPLOYER_COMMAND: agent,
    ORCH_MERGE_RETEST_COMMAND: 'sh ./check.sh',
    ORCH_WORKER_INTERVAL_MS: '200',
    ORCH_RECONCILER_INTERVAL_MS: '60000',
    ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false',
    // the sample deploy stage reports no staging checks and builds no image: those two gates have nothing to read
    ORCH_STAGING_GATE_ENABLED: 'false',
    ORCH_FRESHNESS_GATE_ENABLED: 'false',
    ...(options.env ?? {}),
  });
  if (!settings.ok) throw settings.error;
  const host = createHost(settings.value, {
    ...(options.logger ? { logger: options.logger } : {}),
    gitEnv,
    agentEnv: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? options.dir,
      DEV_CLONE_URL: gitea.cloneUrl(LOCAL_REPO),
      DEV_GIT_TOKEN: GITEA_TOKEN,
      DEV_WORK_ROOT: join(options.dir, 'agents'),
    },
  });
  await host.start();

  const deliver = async (payload: ReturnType<FakePlane['issueWebhookPayload']>) => {
    const sent = await sendPlaneWebhook(`${host.url()}/webhooks/plane`, payload, { secret: PLANE_SECRET });
    if (!sent.ok) throw sent.error;
    if (sent.value.status >= 300) throw new Error(`the host answered the Plane webhook ${sent.value.status}`);
  };

  return {
    host,
    plane,
    gitea,
    telegram,
    async createIssue(title, description = '') {
      const issue = plane.addIssue({
        name: title,
        state: 'Todo',
        ...(description ? { description_html: `<p>${description}</p>` } : {}),
      });
      await deliver(plane.issueWebhookPayload(issue.id, 'created'));
      return issue.id;
    },
    async setState(issueId, state) {
      const target = plane.states().find((s) => s.name === state);
      const before = plane.issue(issueId);
      if (!target || !before) throw new Error(`local stack: no state "${state}" or no issue ${issueId}`);
      const res = await fetch(`${plane.apiBase}issues/${issueId}/`, {
        method: 'PATCH',
        headers: { 'x-api-key': PLANE.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ state: target.id }),
      });
      if (!res.ok) throw new Error(`local stack: Plane refused the state change (${res.status})`);
      await deliver(
        plane.issueWebhookPayload(issueId, 'updated', {
          field: 'state',
          old_value: before.state,
          new_value: target.id,
        }),
      );
    },
    async close() {
      await host.stop('local stack closed');
      await Promise.all([plane.close(), telegram.close(), gitea.close()]);
    },
  };
}
