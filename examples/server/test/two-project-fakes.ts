import {
  type FakeGitea,
  type FakePlane,
  type FakeTelegram,
  sendPlaneWebhook,
  startFakeGitea,
  startFakePlane,
  startFakeTelegram,
} from '@conveyor/testkit';

/** Fake Plane (projects proj-a and proj-b share its states), Gitea (acme/web, acme/api) and Telegram. */
export interface TwoProjectFakes {
  readonly plane: FakePlane;
  readonly gitea: FakeGitea;
  readonly telegram: FakeTelegram;
  close(): Promise<void>;
}

/** Starts the fakes a two-project host talks to (keys `plane-key`, `gitea-token`, `1:tg`). */
export async function startTwoProjectFakes(): Promise<TwoProjectFakes> {
  const plane = await startFakePlane({
    apiKey: 'plane-key',
    workspaceSlug: 'acme',
    projectId: 'proj-a',
    states: ['Todo', 'Analysis', 'Approved', 'Cancelled'].map((name) => ({ name })),
  });
  const gitea = await startFakeGitea({ token: 'gitea-token', repos: ['acme/web', 'acme/api'] });
  const telegram = await startFakeTelegram({ token: '1:tg' });
  return {
    plane,
    gitea,
    telegram,
    close: async () => {
      await Promise.all([plane.close(), gitea.close(), telegram.close()]);
    },
  };
}

/**
 * Sends the fake Plane's "created" webhook of `issueId`, as from Plane project
 * `project`, to the host at `hostUrl` (secret `plane-secret`); the host's answer.
 */
export async function sendIssueCreated(
  plane: FakePlane,
  hostUrl: string,
  issueId: string,
  project: string,
): Promise<{ outcome?: { action: string; reason?: string } }> {
  const payload = plane.issueWebhookPayload(issueId, 'created') as { data: Record<string, unknown> };
  const sent = await sendPlaneWebhook(
    `${hostUrl}/webhooks/plane`,
    { ...payload, data: { ...payload.data, project } } as never,
    { secret: 'plane-secret' },
  );
  if (!sent.ok) throw sent.error;
  return JSON.parse(sent.value.text) as { outcome?: { action: string; reason?: string } };
}
