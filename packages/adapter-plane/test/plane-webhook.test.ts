import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createPlaneWebhook, planeDeliveryFingerprint } from '@conveyor/adapter-plane';
import { readRawBody, type WebhookReceipt, webhookErrorStatus } from '@conveyor/core';
import {
  FIXTURES_MISSING_MESSAGE,
  pythonJsonDumps,
  sendPlaneWebhook,
  sharedFixturesDir,
  signPlaneWebhook,
  startFakePlane,
} from '@conveyor/testkit';
import { describe, expect, it } from 'vitest';

// Test-only secrets; .gitleaks.toml allowlists packages/*/test/.
const SECRET = 'plane-webhook-secret-current';
const PREVIOUS = 'plane-webhook-secret-previous';

const ownFixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

function deliver(body: Uint8Array | string, headers: Record<string, string | undefined> = {}, secret = SECRET) {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    headers: {
      'content-type': 'application/json',
      'x-plane-delivery': 'delivery-1',
      'x-plane-event': 'issue',
      'x-plane-signature': signPlaneWebhook(raw, secret),
      ...headers,
    },
    rawBody: raw,
  };
}

const receiver = createPlaneWebhook({ secrets: [SECRET, PREVIOUS] });

function expectReceipt(result: ReturnType<typeof receiver.receive>): WebhookReceipt {
  if (!result.ok) expect.fail(`receive failed: [${result.error.code}] ${result.error.message}`);
  return result.value;
}

describe('createPlaneWebhook: verification', () => {
  const body = ownFixture('v1-issue-state-updated.json');

  it('accepts the current and the previous secret', () => {
    expect(receiver.receive(deliver(body)).ok).toBe(true);
    expect(receiver.receive(deliver(body, {}, PREVIOUS)).ok).toBe(true);
  });

  it('refuses a wrong, missing or malformed signature with unauthorized (401)', () => {
    for (const headers of [
      { 'x-plane-signature': signPlaneWebhook(body, 'someone-else') },
      { 'x-plane-signature': undefined },
      { 'x-plane-signature': 'not-hex' },
    ]) {
      const result = receiver.receive(deliver(body, headers));
      expect(!result.ok && result.error.code).toBe('unauthorized');
      expect(!result.ok && webhookErrorStatus(result.error)).toBe(401);
    }
  });

  it('verifies the raw bytes: Plane’s Python JSON, not a JS re-serialisation', () => {
    const reserialised = JSON.stringify(JSON.parse(body.toString('utf8')));
    const signatureOfReserialised = signPlaneWebhook(reserialised, SECRET);
    expect(signatureOfReserialised).not.toBe(signPlaneWebhook(body, SECRET));
    // The raw body (with `\u` escapes and ", " separators) verifies; the same JSON under another byte form does not.
    expect(receiver.receive(deliver(body)).ok).toBe(true);
    const forged = receiver.receive(deliver(body, { 'x-plane-signature': signatureOfReserialised }));
    expect(!forged.ok && forged.error.code).toBe('unauthorized');
  });

  it('checks the size before the signature, and refuses everything without a secret', () => {
    const small = createPlaneWebhook({ secrets: [SECRET], maxBodyBytes: 64 });
    const big = small.receive(deliver(body, { 'x-plane-signature': undefined }));
    expect(!big.ok && big.error.code).toBe('too_large');
    expect(!big.ok && webhookErrorStatus(big.error)).toBe(413);
    const none = createPlaneWebhook({ secrets: [''] }).receive(deliver(body));
    expect(!none.ok && none.error.code).toBe('invalid_config');
  });

  it('needs a delivery id for a v1 delivery', () => {
    const result = receiver.receive(deliver(body, { 'x-plane-delivery': undefined }));
    expect(!result.ok && result.error.code).toBe('invalid_input');
    expect(!result.ok && result.error.message).toContain('X-Plane-Delivery');
  });

  it('rejects a body that is not JSON, or not an object, with a message (400)', () => {
    for (const text of ['{"event": "issue", ', '[1, 2]', 'null', '"issue"']) {
      const result = receiver.receive(deliver(text));
      expect(!result.ok && result.error.code).toBe('invalid_input');
      expect(!result.ok && webhookErrorStatus(result.error)).toBe(400);
    }
  });
});

describe('createPlaneWebhook: v1 events', () => {
  it('turns an issue update into tracker.issue with the state name', () => {
    const receipt = expectReceipt(receiver.receive(deliver(ownFixture('v1-issue-state-updated.json'))));
    expect(receipt).toEqual({
      deliveryId: 'delivery-1',
      eventName: 'issue',
      event: {
        kind: 'tracker.issue',
        action: 'updated',
        issue: {
          id: '4f8e2b1a-6c3d-4e5f-8a7b-9c0d1e2f3a4b',
          project: '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
          title: 'Экспорт отчёта – CSV ✓',
          description: '<p>Нужен экспорт в CSV</p>',
          state: 'Подтверждение BRD',
          stateId: '1b6f0d2c-7a45-4e1b-9c3d-2f8e6a4b5c71',
          updatedAt: '2025-06-02T11:40:55.004512Z',
        },
      },
    });
  });

  it('turns a comment into tracker.comment', () => {
    const receipt = expectReceipt(
      receiver.receive(deliver(ownFixture('v1-comment-created.json'), { 'x-plane-event': 'issue_comment' })),
    );
    expect(receipt.event).toEqual({
      kind: 'tracker.comment',
      project: '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
      issueId: '4f8e2b1a-6c3d-4e5f-8a7b-9c0d1e2f3a4b',
      html: '<p>/approve — looks good</p>',
    });
  });

  it('accepts the older action spellings and maps deletes', () => {
    const base = JSON.parse(ownFixture('v1-issue-state-updated.json').toString('utf8')) as Record<string, unknown>;
    const update = expectReceipt(receiver.receive(deliver(pythonJsonDumps({ ...base, action: 'update' }))));
    expect(update.event.kind === 'tracker.issue' && update.event.action).toBe('updated');
    const create = expectReceipt(receiver.receive(deliver(pythonJsonDumps({ ...base, action: 'create' }))));
    expect(create.event.kind === 'tracker.issue' && create.event.action).toBe('created');

    const scopedReceiver = createPlaneWebhook({ secrets: [SECRET], project: 'p-1' });
    for (const action of ['deleted', 'delete']) {
      const deleted = { ...base, action, data: { id: 'gone-1' } };
      const receipt = expectReceipt(scopedReceiver.receive(deliver(pythonJsonDumps(deleted))));
      expect(receipt.event).toEqual({ kind: 'tracker.issue_deleted', project: 'p-1', issueId: 'gone-1' });
    }
  });

  it('ignores other events and actions explicitly, with a reason', () => {
    const base = JSON.parse(ownFixture('v1-issue-state-updated.json').toString('utf8')) as Record<string, unknown>;
    for (const [event, action] of [
      ['cycle', 'created'],
      ['project', 'updated'],
      ['issue', 'archived'],
      ['issue_comment', 'deleted'],
    ]) {
      const receipt = expectReceipt(
        receiver.receive(deliver(pythonJsonDumps({ ...base, event, action }), { 'x-plane-event': event })),
      );
      expect(receipt.eventName).toBe(event);
      expect(receipt.event.kind).toBe('ignored');
      expect(receipt.event.kind === 'ignored' && receipt.event.reason.length).toBeGreaterThan(10);
    }
  });

  it('ignores deliveries about another project when scoped to one', () => {
    const scoped = createPlaneWebhook({ secrets: [SECRET], project: 'another-project' });
    const receipt = expectReceipt(scoped.receive(deliver(ownFixture('v1-issue-state-updated.json'))));
    expect(receipt.event.kind === 'ignored' && receipt.event.reason).toContain('7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09');
  });

  it('names the field when an issue payload is wrong', () => {
    const base = JSON.parse(ownFixture('v1-issue-state-updated.json').toString('utf8')) as {
      data: Record<string, unknown>;
    };
    const result = receiver.receive(deliver(pythonJsonDumps({ ...base, data: { ...base.data, name: 7 } })));
    expect(!result.ok && result.error.message).toContain('data.name');
    const noData = receiver.receive(deliver(pythonJsonDumps({ ...base, data: 'x' })));
    expect(!noData.ok && noData.error.message).toContain('body.data');
  });
});

describe('createPlaneWebhook over real HTTP, from the fake Plane', () => {
  it('a host server verifies, parses and answers; a forged delivery gets 401', async () => {
    const projectId = randomUUID();
    const plane = await startFakePlane({ apiKey: 'k', workspaceSlug: 'acme', projectId });
    const issue = plane.addIssue({ name: 'Wire', state: 'In Progress' });
    const webhook = createPlaneWebhook({ secrets: [SECRET], project: projectId });
    const received: WebhookReceipt[] = [];
    const host = createServer((req, res) => {
      void readRawBody(req, 1_000_000, 'test-host').then((raw) => {
        if (!raw.ok) return res.writeHead(webhookErrorStatus(raw.error)).end();
        const result = webhook.receive({ headers: req.headers, rawBody: raw.value });
        if (!result.ok) return res.writeHead(webhookErrorStatus(result.error)).end(result.error.message);
        received.push(result.value);
        res.writeHead(200).end('ok');
      });
    });
    host.listen(0, '127.0.0.1');
    await new Promise((r) => host.once('listening', r));
    const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/plane`;
    try {
      const payload = plane.issueWebhookPayload(issue.id, 'updated', {
        field: 'state',
        old_value: 'Todo',
        new_value: 'In Progress',
      });
      const sent = await sendPlaneWebhook(url, payload, { secret: SECRET });
      expect(sent.ok && sent.value.status).toBe(200);
      expect(received).toHaveLength(1);
      expect(received[0]?.deliveryId).toBe(sent.ok ? sent.value.deliveryId : '');
      expect(received[0]?.event).toMatchObject({
        kind: 'tracker.issue',
        action: 'updated',
        issue: { id: issue.id, project: projectId, title: 'Wire', state: 'In Progress' },
      });

      // Plane retries with a fresh delivery id but the same bytes: the fingerprint is what stays.
      const retried = await sendPlaneWebhook(url, payload, { secret: SECRET });
      expect(received).toHaveLength(2);
      expect(received[1]?.deliveryId).not.toBe(received[0]?.deliveryId);
      const bodies = [sent, retried].map((s) => (s.ok ? Buffer.from(s.value.body, 'utf8') : Buffer.alloc(0)));
      expect(planeDeliveryFingerprint(bodies[0] ?? Buffer.alloc(0))).toBe(
        planeDeliveryFingerprint(bodies[1] ?? Buffer.alloc(1)),
      );
      expect(planeDeliveryFingerprint(bodies[0] ?? Buffer.alloc(0))).toMatch(/^[0-9a-f]{64}$/);

      const forged = await sendPlaneWebhook(url, payload, { secret: 'not-the-secret' });
      expect(forged.ok && forged.value.status).toBe(401);
      const unsigned = await sendPlaneWebhook(url, payload);
      expect(unsigned.ok && unsigned.value.status).toBe(401);
      expect(received).toHaveLength(2);
    } finally {
      await new Promise((r) => host.close(r));
      await plane.close();
    }
  });
});

const fixtures = sharedFixturesDir();
if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);

// Plane's documented webhook payloads live in ../shared/fixtures (not in the repo): skip without them.
describe.skipIf(!fixtures)('against Plane’s documented webhook payloads', () => {
  const raw = (name: string) => readFileSync(join(fixtures ?? '', 'plane', name));

  it('webhook-issue-updated.json (v1) → tracker.issue updated, state name from data.state', () => {
    const receipt = expectReceipt(receiver.receive(deliver(raw('webhook-issue-updated.json'))));
    expect(receipt.event).toEqual({
      kind: 'tracker.issue',
      action: 'updated',
      issue: {
        id: 'issue_id',
        project: 'project_id',
        title: 'Issue Title',
        description: '<p>Issue description</p>',
        state: 'In Progress',
        stateId: 'state_id',
        updatedAt: '2025-01-01T00:00:00Z',
      },
    });
  });

  it('webhook-v1-current-doc.json: the envelope is v1 but the docs elide data, so it is refused naming data.id', () => {
    const result = receiver.receive(deliver(raw('webhook-v1-current-doc.json')));
    expect(!result.ok && result.error.code).toBe('invalid_input');
    expect(!result.ok && result.error.message).toContain('data.id');
    // The same envelope with a real issue in `data` is a creation.
    const envelope = JSON.parse(raw('webhook-v1-current-doc.json').toString('utf8')) as Record<string, unknown>;
    const full = JSON.parse(raw('webhook-issue-updated.json').toString('utf8')) as { data: unknown };
    const receipt = expectReceipt(receiver.receive(deliver(pythonJsonDumps({ ...envelope, data: full.data }))));
    expect(receipt.event.kind === 'tracker.issue' && receipt.event.action).toBe('created');
  });

  it('webhook-v2-example.json → tracker.issue updated with the state id (the name is resolved by the host)', () => {
    const body = raw('webhook-v2-example.json');
    // v2 carries its delivery id in the body too: it is used when the header is absent.
    const receipt = expectReceipt(
      receiver.receive(deliver(body, { 'x-plane-delivery': undefined, 'x-plane-event': undefined })),
    );
    expect(receipt.deliveryId).toBe('2a0d0510-9052-446e-a1c7-a704bbd68cba');
    expect(receipt.eventName).toBe('WebhookScope.ScopeChoices.WORK_ITEM_UPDATED');
    expect(receipt.event).toEqual({
      kind: 'tracker.issue',
      action: 'updated',
      issue: {
        id: '775c5716-5302-4617-bb9f-2cd843911268',
        project: '59e3be42-87ec-4950-99a3-ae639cf2b089',
        title: 'webhook test 3',
        description: '',
        state: '067b88e5-304b-4221-ba09-94340dcc36e5',
        stateId: '067b88e5-304b-4221-ba09-94340dcc36e5',
        updatedAt: '2026-03-31T11:44:41.249304+00:00',
      },
    });
    const dotted = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const asDocumented = expectReceipt(
      receiver.receive(deliver(pythonJsonDumps({ ...dotted, event: 'workitem.updated' }))),
    );
    expect(asDocumented.event.kind).toBe('tracker.issue');
  });

  it('webhook-v2-comment-created.json → tracker.comment, the stripped text made safe HTML', () => {
    const receipt = expectReceipt(receiver.receive(deliver(raw('webhook-v2-comment-created.json'))));
    expect(receipt.event).toEqual({
      kind: 'tracker.comment',
      project: '',
      issueId: '088a83b9-a53f-4dda-b2bc-c860cf455997',
      html: '<p>Webhook Test Comment</p>',
    });
    const scoped = createPlaneWebhook({ secrets: [SECRET], project: 'p-9' });
    const filled = expectReceipt(scoped.receive(deliver(raw('webhook-v2-comment-created.json'))));
    expect(filled.event.kind === 'tracker.comment' && filled.event.project).toBe('p-9');
  });

  it('the HMAC matches Plane’s recipe: hex SHA-256 keyed with the secret over the exact bytes', () => {
    const body = raw('webhook-issue-updated.json');
    const expected = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(signPlaneWebhook(body, SECRET)).toBe(expected);
    expect(receiver.receive(deliver(body, { 'x-plane-signature': expected.toUpperCase() })).ok).toBe(true);
  });
});
