import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConveyorError,
  checkBodySize,
  getHeader,
  parseJsonBody,
  readRawBody,
  verifyHmacSha256Hex,
  webhookErrorStatus,
} from '../src/index.js';

const sign = (body: Uint8Array | string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');
const bytes = (s: string) => new TextEncoder().encode(s);

describe('verifyHmacSha256Hex', () => {
  const body = bytes('{"action":"opened"}');

  it('accepts the current and the previous secret during a rotation', () => {
    const current = verifyHmacSha256Hex(body, sign(body, 'new'), ['new', 'old'], 'p');
    const previous = verifyHmacSha256Hex(body, `sha256=${sign(body, 'old')}`, ['new', 'old'], 'p');
    expect(current.ok && current.value.secretIndex).toBe(0);
    expect(previous.ok && previous.value.secretIndex).toBe(1);
  });

  it('rejects missing, malformed and wrong signatures as unauthorized', () => {
    for (const signature of [undefined, '', 'zz', sign(body, 'other'), sign(bytes('{"action":"closed"}'), 'new')]) {
      const res = verifyHmacSha256Hex(body, signature, ['new'], 'p');
      expect(!res.ok && res.error.code).toBe('unauthorized');
    }
  });

  it('refuses everything when no secret is configured', () => {
    const res = verifyHmacSha256Hex(body, sign(body, ''), [''], 'p');
    expect(!res.ok && res.error.code).toBe('invalid_config');
  });

  it('never accepts a body it was not signed for (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
        fc.pre(Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0);
        return !verifyHmacSha256Hex(b, sign(a, 's'), ['s'], 'p').ok;
      }),
      { numRuns: 500 },
    );
  });
});

describe('webhook helpers', () => {
  it('reads headers case-insensitively', () => {
    expect(getHeader({ 'x-gitea-event': 'push' }, 'X-Gitea-Event')).toBe('push');
    expect(getHeader({ 'x-a': ['1', '2'] }, 'x-a')).toBe('1');
    expect(getHeader({}, 'x-a')).toBeUndefined();
  });

  it('limits the body size and parses JSON with clear errors', () => {
    expect(checkBodySize(bytes('12345'), 4, 'p').ok).toBe(false);
    expect(checkBodySize(bytes('1234'), 4, 'p').ok).toBe(true);
    const bad = parseJsonBody(bytes('{"a":'), 'p');
    expect(!bad.ok && bad.error.code).toBe('invalid_input');
    const good = parseJsonBody(bytes('{"a":1}'), 'p');
    expect(good.ok && good.value).toEqual({ a: 1 });
  });

  it('maps errors to HTTP statuses', () => {
    expect(webhookErrorStatus(new ConveyorError('p', 'unauthorized', 'x'))).toBe(401);
    expect(webhookErrorStatus(new ConveyorError('p', 'too_large', 'x'))).toBe(413);
    expect(webhookErrorStatus(new ConveyorError('p', 'invalid_input', 'x'))).toBe(400);
    expect(webhookErrorStatus(new ConveyorError('p', 'internal', 'x'))).toBe(500);
  });

  it('reads a raw body over real HTTP and stops at the limit', async () => {
    const results: string[] = [];
    const server = createServer(async (req, res) => {
      const raw = await readRawBody(req, 10, 'p');
      results.push(raw.ok ? raw.value.toString('utf8') : raw.error.code);
      res.writeHead(raw.ok ? 200 : 413).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const small = await fetch(url, { method: 'POST', body: 'hello' });
    const large = await fetch(url, { method: 'POST', body: 'x'.repeat(5000) }).catch(() => undefined);
    server.closeAllConnections();
    server.close();
    expect(small.status).toBe(200);
    expect(large === undefined || large.status === 413).toBe(true);
    expect(results).toEqual(['hello', 'too_large']);
  });
});
