import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGiteaWebhook, giteaEventName } from '@conveyor/adapter-gitea';
import { webhookErrorStatus } from '@conveyor/core';
import { FIXTURES_MISSING_MESSAGE, sharedFixturesDir } from '@conveyor/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SECRET = 'gitea-webhook-secret-test-0001';
const OLD_SECRET = 'gitea-webhook-secret-test-0000';
const webhook = createGiteaWebhook({ secrets: [SECRET, OLD_SECRET] });

const sign = (body: Uint8Array | string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const ownFixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

function delivery(body: string | Uint8Array, headers: Record<string, string>, secret = SECRET) {
  const rawBody = typeof body === 'string' ? bytes(body) : body;
  return webhook.receive({
    rawBody,
    headers: { 'x-gitea-signature': sign(rawBody, secret), 'x-gitea-delivery': 'd-1', ...headers },
  });
}

const fixturesDir = sharedFixturesDir();
if (!fixturesDir) console.warn(FIXTURES_MISSING_MESSAGE);

// The captured payloads live outside the repository (../shared/fixtures); without them these cases cannot run.
describe.skipIf(!fixturesDir)('captured Gitea deliveries (shared fixtures)', () => {
  const captured = (name: string) => readFileSync(join(fixturesDir ?? '', 'gitea', 'webhooks', name), 'utf8');

  it.each([
    [
      'pull_request__merged.json',
      {
        action: 'closed',
        merged: true,
        number: 4,
        base: 'main',
        head: 'reaction-metadata',
        headSha: '01efc1fe09d4fba25397a386a6c623fd12eadd79',
      },
    ],
    [
      'pull_request__opened.json',
      {
        action: 'opened',
        merged: false,
        number: 4,
        base: 'master',
        head: 'test-branch',
        headSha: '01efc1fe09d4fba25397a386a6c623fd12eadd79',
      },
    ],
    [
      'pull_request__closed.json',
      {
        action: 'closed',
        merged: false,
        number: 5,
        base: 'master',
        head: 'd',
        headSha: '06902b147a01a3fc0e7c23caf5548e242300e553',
      },
    ],
    [
      'pull_request__reopened.json',
      {
        action: 'reopened',
        merged: false,
        number: 5,
        base: 'master',
        head: 'd',
        headSha: '06902b147a01a3fc0e7c23caf5548e242300e553',
      },
    ],
  ])('%s → forge.pull_request', (file, expected) => {
    const res = delivery(captured(file), { 'x-gitea-event': 'pull_request' });
    expect(res.ok && res.value).toEqual({
      deliveryId: 'd-1',
      eventName: 'pull_request',
      event: { kind: 'forge.pull_request', repo: 'kostekIV/test', ...expected },
    });
  });

  it('push__5_commits.json → forge.push on branch d', () => {
    const res = delivery(captured('push__5_commits.json'), { 'x-gitea-event': 'push' });
    expect(res.ok && res.value.event).toEqual({
      kind: 'forge.push',
      repo: 'kostekIV/test',
      branch: 'd',
      sha: '2ec0c971d04723523aa20f2b378f8b419b47d4ec',
    });
  });

  it.each([
    ['create__branch.json', 'create'],
    ['issue_comment__new.json', 'issue_comment'],
  ])('%s (%s) is ignored explicitly', (file, event) => {
    const res = delivery(captured(file), { 'x-gitea-event': event });
    expect(res.ok && res.value.event).toEqual({ kind: 'ignored', reason: expect.stringContaining(event) });
  });

  it('never uses the deprecated body `secret` for authentication', () => {
    const body = captured('push__5_commits.json');
    expect(JSON.parse(body).secret).toBe('123');
    const res = webhook.receive({
      rawBody: bytes(body),
      headers: { 'x-gitea-event': 'push', 'x-gitea-signature': sign(body, '123') },
    });
    expect(!res.ok && res.error.code).toBe('unauthorized');
  });
});

describe('our own status and workflow_run fixtures', () => {
  it('a status delivery from Gitea 1.23 (empty X-Gitea-Event, X-Gitea-Event-Type: status) → forge.status', () => {
    const res = delivery(ownFixture('status.json'), { 'x-gitea-event': '', 'x-gitea-event-type': 'status' });
    expect(res.ok && res.value).toEqual({
      deliveryId: 'd-1',
      eventName: 'status',
      event: {
        kind: 'forge.status',
        repo: 'acme/web',
        sha: '9f1c2ab7e3d84c6b5a0e1f2d3c4b5a6978e8d7c6',
        context: 'ci/test',
        state: 'failure',
      },
    });
  });

  it('carries `branches` when the sender gives them', () => {
    const body = JSON.stringify({
      ...JSON.parse(ownFixture('status.json')),
      branches: [{ name: 'task/PLN-1' }, { name: 'main' }],
    });
    const res = delivery(body, { 'x-gitea-event': 'status' });
    expect(res.ok && res.value.event).toMatchObject({ kind: 'forge.status', branches: ['task/PLN-1', 'main'] });
  });

  it('a workflow_run delivery → forge.workflow_run', () => {
    const res = delivery(ownFixture('workflow_run.json'), { 'x-gitea-event': 'workflow_run' });
    expect(res.ok && res.value.event).toEqual({
      kind: 'forge.workflow_run',
      repo: 'acme/web',
      sha: '9f1c2ab7e3d84c6b5a0e1f2d3c4b5a6978e8d7c6',
      branch: 'task/PLN-1',
      status: 'completed',
      conclusion: 'success',
    });
  });
});

describe('createGiteaWebhook headers and limits', () => {
  const status = ownFixture('status.json');

  it('accepts the Forgejo twins of every header', () => {
    const rawBody = bytes(status);
    const res = webhook.receive({
      rawBody,
      headers: { 'X-Forgejo-Signature': sign(rawBody), 'X-Forgejo-Event': 'status', 'X-Forgejo-Delivery': 'fj-7' },
    });
    expect(res.ok && res.value).toMatchObject({
      deliveryId: 'fj-7',
      eventName: 'status',
      event: { kind: 'forge.status' },
    });
    expect(giteaEventName({ 'x-forgejo-event': '', 'x-forgejo-event-type': 'status' })).toBe('status');
  });

  it('verifies against the second secret during a rotation, and refuses others', () => {
    expect(delivery(status, { 'x-gitea-event': 'status' }, OLD_SECRET).ok).toBe(true);
    const wrong = delivery(status, { 'x-gitea-event': 'status' }, 'another-secret');
    expect(!wrong.ok && wrong.error.code).toBe('unauthorized');
    expect(!wrong.ok && webhookErrorStatus(wrong.error)).toBe(401);
  });

  it('refuses a missing signature, an empty secret list and an oversized body', () => {
    const missing = webhook.receive({ rawBody: bytes(status), headers: { 'x-gitea-event': 'status' } });
    expect(!missing.ok && missing.error.code).toBe('unauthorized');
    const none = createGiteaWebhook({ secrets: [] }).receive({
      rawBody: bytes(status),
      headers: { 'x-gitea-signature': sign(status) },
    });
    expect(!none.ok && none.error.code).toBe('invalid_config');
    const small = createGiteaWebhook({ secrets: [SECRET], maxBodyBytes: 100 });
    const big = small.receive({
      rawBody: bytes(status),
      headers: { 'x-gitea-signature': sign(status), 'x-gitea-event': 'status' },
    });
    expect(!big.ok && big.error.code).toBe('too_large');
  });

  it('recognises a redelivery by its id, and falls back to a body hash when there is none', () => {
    const first = delivery(status, { 'x-gitea-event': 'status', 'x-gitea-delivery': 'same' });
    const again = delivery(status, { 'x-gitea-event': 'status', 'x-gitea-delivery': 'same' });
    expect(first.ok && again.ok && first.value.deliveryId === again.value.deliveryId).toBe(true);
    const rawBody = bytes(status);
    const anonymous = webhook.receive({
      rawBody,
      headers: { 'x-gitea-signature': sign(rawBody), 'x-gitea-event': 'status' },
    });
    expect(anonymous.ok && anonymous.value.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('ignores tag pushes, branch deletions, other PR actions map to "other", and synchronized is kept', () => {
    const push = (ref: string, after: string) =>
      JSON.stringify({ ref, after, before: '0', repository: { full_name: 'acme/web' } });
    const tag = delivery(push('refs/tags/v1.0.0', 'a'.repeat(40)), { 'x-gitea-event': 'push' });
    expect(tag.ok && tag.value.event).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('refs/tags/v1.0.0'),
    });
    const deleted = delivery(push('refs/heads/task/x', '0'.repeat(40)), { 'x-gitea-event': 'push' });
    expect(deleted.ok && deleted.value.event.kind).toBe('ignored');
    const slashy = delivery(push('refs/heads/task/PLN-1', 'b'.repeat(40)), { 'x-gitea-event': 'push' });
    expect(slashy.ok && slashy.value.event).toMatchObject({ kind: 'forge.push', branch: 'task/PLN-1' });
    const pr = (action: string) =>
      JSON.stringify({
        action,
        number: 3,
        pull_request: {
          number: 3,
          merged: false,
          base: { ref: 'main', sha: 'c'.repeat(40) },
          head: { ref: 'task/x', sha: 'd'.repeat(40) },
        },
        repository: { full_name: 'acme/web' },
      });
    const synced = delivery(pr('synchronized'), {
      'x-gitea-event': 'pull_request',
      'x-gitea-event-type': 'pull_request_sync',
    });
    expect(synced.ok && synced.value.event).toMatchObject({
      kind: 'forge.pull_request',
      action: 'synchronized',
      headSha: 'd'.repeat(40),
    });
    const labelled = delivery(pr('label_updated'), { 'x-gitea-event': 'pull_request' });
    expect(labelled.ok && labelled.value.event).toMatchObject({ kind: 'forge.pull_request', action: 'other' });
    const nameless = delivery(pr('opened'), {});
    expect(nameless.ok && nameless.value.event.kind).toBe('ignored');
  });

  it('rejects a body that is not a JSON object with a message', () => {
    for (const body of ['[]', '"text"', '42', 'null', '{"ref":']) {
      const res = delivery(body, { 'x-gitea-event': 'push' });
      expect(!res.ok && res.error.code).toBe('invalid_input');
      expect(!res.ok && res.error.message.length).toBeGreaterThan(10);
    }
  });
});

describe('property: mutated deliveries (fast-check)', () => {
  const prBody = JSON.stringify({
    action: 'closed',
    number: 9,
    pull_request: {
      number: 9,
      merged: true,
      base: { ref: 'main', sha: 'c'.repeat(40) },
      head: { ref: 'task/x', sha: 'd'.repeat(40) },
    },
    repository: { full_name: 'acme/web' },
  });
  const pushBody = JSON.stringify({
    ref: 'refs/heads/task/x',
    after: 'e'.repeat(40),
    repository: { full_name: 'acme/web' },
  });
  const bodies: Record<string, string> = {
    pull_request: prBody,
    push: pushBody,
    status: JSON.stringify(JSON.parse(ownFixture('status.json'))),
    workflow_run: JSON.stringify(JSON.parse(ownFixture('workflow_run.json'))),
  };
  if (fixturesDir) {
    const captured = (name: string) =>
      JSON.stringify(JSON.parse(readFileSync(join(fixturesDir, 'gitea', 'webhooks', name), 'utf8')));
    bodies.pull_request = captured('pull_request__merged.json');
    bodies.push = captured('push__5_commits.json');
  }
  const required: Record<string, string[][]> = {
    pull_request: [
      ['action'],
      ['pull_request', 'number'],
      ['pull_request', 'head', 'sha'],
      ['pull_request', 'base', 'ref'],
      ['repository', 'full_name'],
    ],
    push: [['ref'], ['after'], ['repository', 'full_name']],
    status: [['sha'], ['state'], ['context'], ['repository']],
    workflow_run: [['workflow_run', 'status'], ['workflow_run'], ['repository', 'full_name']],
  };
  const events = Object.keys(bodies);

  const setPath = (value: unknown, path: readonly string[], replacement: unknown, remove: boolean): unknown => {
    const copy = structuredClone(value) as Record<string, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
    const last = path.at(-1) ?? '';
    if (remove) delete node[last];
    else node[last] = replacement;
    return copy;
  };
  const getPath = (value: unknown, path: readonly string[]): unknown =>
    path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], value);
  const sameType = (a: unknown, b: unknown) =>
    (Array.isArray(a) ? 'array' : a === null ? 'null' : typeof a) ===
    (Array.isArray(b) ? 'array' : b === null ? 'null' : typeof b);

  type Mutation =
    | { kind: 'truncate'; event: string; body: Uint8Array }
    | { kind: 'wrong-type' | 'missing'; event: string; body: Uint8Array; field: string }
    | { kind: 'noise'; event: string; body: Uint8Array };

  // One arbitrary per event, built once (building them inside `chain` per run was the slow part).
  const forEvent = (event: string): fc.Arbitrary<Mutation> => {
    const text = bodies[event] ?? '{}';
    const json = JSON.parse(text) as unknown;
    const paths = required[event] ?? [];
    return fc.oneof(
      fc
        .integer({ min: 0, max: text.length - 1 })
        .map((at): Mutation => ({ kind: 'truncate', event, body: bytes(text.slice(0, at)) })),
      fc
        .tuple(
          fc.constantFrom(...paths),
          fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 8 }), fc.constant([1]), fc.constant({})),
        )
        .filter(([path, value]) => !sameType(getPath(json, path), value))
        .map(
          ([path, value]): Mutation => ({
            kind: 'wrong-type',
            event,
            field: path.join('.'),
            body: bytes(JSON.stringify(setPath(json, path, value, false))),
          }),
        ),
      fc.constantFrom(...paths).map(
        (path): Mutation => ({
          kind: 'missing',
          event,
          field: path.join('.'),
          body: bytes(JSON.stringify(setPath(json, path, undefined, true))),
        }),
      ),
      fc
        .tuple(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 0, max: 255 }))
        .map(([at, byte]): Mutation => {
          const body = bytes(text);
          body[at] = byte;
          return { kind: 'noise', event, body };
        }),
      fc
        .jsonValue({ maxDepth: 3 })
        .map((v): Mutation => ({ kind: 'noise', event, body: bytes(JSON.stringify(v) ?? 'null') })),
      fc.uint8Array({ maxLength: 200 }).map((body): Mutation => ({ kind: 'noise', event, body })),
    );
  };
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(...events.map(forEvent));

  it('10,000 signed mutations: never a throw; truncated, wrong-typed or missing fields rejected with a message naming them', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const res = webhook.receive({
          rawBody: m.body,
          headers: { 'x-gitea-event': m.event, 'x-gitea-delivery': 'p', 'x-gitea-signature': sign(m.body) },
        });
        // plain checks: 10,000 rounds of `expect` would dominate the run time
        if (!res.ok && (res.error.code !== 'invalid_input' || res.error.message.length <= 10)) return false;
        if (m.kind === 'truncate') return !res.ok;
        if (m.kind === 'wrong-type' || m.kind === 'missing')
          return !res.ok && res.error.message.includes(`body.${m.field}`);
        return true;
      }),
      { numRuns: 10_000 },
    );
  });

  it('a bad or missing signature is always rejected, whatever the body', () => {
    const signature = fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc.constant(''),
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.string({ maxLength: 70 }),
    );
    fc.assert(
      fc.property(mutation, signature, fc.boolean(), (m, sig, useOtherSecret) => {
        const header = useOtherSecret ? sign(m.body, 'not-the-secret') : sig;
        const res = webhook.receive({
          rawBody: m.body,
          headers: { 'x-gitea-event': m.event, ...(header === undefined ? {} : { 'x-gitea-signature': header }) },
        });
        return !res.ok && res.error.code === 'unauthorized';
      }),
      { numRuns: 3_000 },
    );
  });
});
