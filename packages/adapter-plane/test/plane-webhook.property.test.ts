import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPlaneWebhook } from '@conveyor/adapter-plane';
import type { ConveyorError, Result, WebhookReceipt } from '@conveyor/core';
import { pythonJsonDumps, sharedFixturesDir, signPlaneWebhook } from '@conveyor/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Test-only secrets; .gitleaks.toml allowlists packages/*/test/.
const SECRET = 'prop-secret-current';
const PREVIOUS = 'prop-secret-previous';
const receiver = createPlaneWebhook({ secrets: [SECRET, PREVIOUS] });

/** Mutations start from real bodies: ours (always) and Plane's documented ones when present. */
const bases: Buffer[] = [
  readFileSync(new URL('./fixtures/v1-issue-state-updated.json', import.meta.url)),
  readFileSync(new URL('./fixtures/v1-comment-created.json', import.meta.url)),
];
const shared = sharedFixturesDir();
if (shared) {
  for (const name of ['webhook-issue-updated.json', 'webhook-v2-example.json', 'webhook-v2-comment-created.json']) {
    // Trailing whitespace is trimmed so that every strict prefix is truncated JSON.
    bases.push(Buffer.from(readFileSync(join(shared, 'plane', name), 'utf8').trimEnd(), 'utf8'));
  }
}

function receive(body: Uint8Array, signature: string | undefined): Result<WebhookReceipt, ConveyorError> {
  return receiver.receive({
    headers: {
      'x-plane-delivery': 'd-1',
      'x-plane-event': 'issue',
      ...(signature === undefined ? {} : { 'x-plane-signature': signature }),
    },
    rawBody: body,
  });
}

const signed = (body: Uint8Array) => receive(body, signPlaneWebhook(body, SECRET));

/** Either a well-formed receipt or an error with a message: never anything else. */
function expectWellFormed(result: Result<WebhookReceipt, ConveyorError>) {
  if (result.ok) {
    expect(result.value.deliveryId.length).toBeGreaterThan(0);
    expect(['tracker.issue', 'tracker.issue_deleted', 'tracker.comment', 'ignored']).toContain(result.value.event.kind);
  } else {
    expect(result.error.message.length).toBeGreaterThan(0);
    expect(['invalid_input', 'unauthorized', 'too_large']).toContain(result.error.code);
  }
}

const baseArb = fc.integer({ min: 0, max: bases.length - 1 }).map((i) => bases[i] ?? Buffer.alloc(0));

/** Required fields per body shape, and a wrong-typed value for each. */
function requiredPaths(body: Record<string, unknown>): string[][] {
  if (body.version === 'v2') {
    const data = body.data as Record<string, unknown>;
    return 'comment' in data
      ? [['event'], ['data'], ['data', 'id'], ['data', 'comment']]
      : [['event'], ['data'], ['data', 'id'], ['data', 'name']];
  }
  return body.event === 'issue_comment'
    ? [['event'], ['action'], ['webhook_id'], ['workspace_id'], ['data'], ['data', 'issue'], ['data', 'comment_html']]
    : [['event'], ['action'], ['webhook_id'], ['workspace_id'], ['data'], ['data', 'id'], ['data', 'name']];
}

function withField(body: unknown, path: readonly string[], value: unknown, remove: boolean): unknown {
  const [head, ...rest] = path;
  if (head === undefined || body === null || typeof body !== 'object') return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  if (rest.length > 0) copy[head] = withField(copy[head], rest, value, remove);
  else if (remove) delete copy[head];
  else copy[head] = value;
  return copy;
}

describe('createPlaneWebhook under 10,000+ mutated bodies (fast-check)', () => {
  it('the unmutated bases are accepted', () => {
    for (const body of bases) expect(signed(body).ok).toBe(true);
  });

  it('truncated bodies are rejected with a message (2,500 runs)', () => {
    fc.assert(
      fc.property(baseArb, fc.double({ min: 0, max: 1, noNaN: true }), (base, at) => {
        const body = base.subarray(0, Math.floor(at * (base.length - 1)));
        const result = signed(body);
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.code).toBe('invalid_input');
          expect(result.error.message).toMatch(/not valid JSON|not a JSON object/);
        }
      }),
      { numRuns: 2_500 },
    );
  });

  it('byte flips never throw; with the old signature they are always refused (2,500 runs)', () => {
    fc.assert(
      fc.property(
        baseArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (base, flips) => {
          const body = Buffer.from(base);
          for (const [index, mask] of flips) {
            const i = index % body.length;
            body[i] = (body[i] ?? 0) ^ mask;
          }
          const changed = !body.equals(base);
          const stale = receive(body, signPlaneWebhook(base, SECRET));
          if (changed) {
            expect(stale.ok).toBe(false);
            if (!stale.ok) expect(stale.error.code).toBe('unauthorized');
          }
          expectWellFormed(signed(body));
        },
      ),
      { numRuns: 2_500 },
    );
  });

  it('wrong-typed or missing required fields are rejected naming the field (2,500 runs)', () => {
    const wrong = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.constant(null),
      fc.constant({}),
    );
    fc.assert(
      fc.property(baseArb, fc.nat(), wrong, fc.boolean(), (base, pick, value, remove) => {
        const parsed = JSON.parse(base.toString('utf8')) as Record<string, unknown>;
        const paths = requiredPaths(parsed);
        const path = paths[pick % paths.length] ?? ['event'];
        const field = path[path.length - 1] ?? '';
        // `{}` is a valid `data` and `comment` object: only the other values are wrong for those.
        if (!remove && (field === 'data' || field === 'comment') && value !== null && typeof value === 'object') {
          if (!Array.isArray(value)) return;
        }
        const body = Buffer.from(pythonJsonDumps(withField(parsed, path, value, remove)), 'utf8');
        const result = signed(body);
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.code).toBe('invalid_input');
          expect(result.error.message).toContain(field);
        }
      }),
      { numRuns: 2_500 },
    );
  });

  it('random JSON, signed, never throws and is either understood or refused (1,500 runs)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        expectWellFormed(signed(Buffer.from(pythonJsonDumps(value), 'utf8')));
      }),
      { numRuns: 1_500 },
    );
  });

  it('random bytes never throw; unsigned or wrongly signed they are always refused (1,000 runs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.option(fc.string({ maxLength: 70 })), (bytes, signature) => {
        const result = receive(bytes, signature ?? undefined);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error.code).toBe('unauthorized');
        expectWellFormed(signed(bytes));
      }),
      { numRuns: 1_000 },
    );
  });
});
