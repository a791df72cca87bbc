import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHttpServer, startFakeHttpServer } from '../src/index.js';

let fake: FakeHttpServer;
beforeAll(async () => {
  fake = await startFakeHttpServer((req) =>
    req.path === '/ping' ? { status: 200, body: { pong: req.json ?? null } } : undefined,
  );
});
afterAll(() => fake.close());

describe('startFakeHttpServer', () => {
  it('answers routes, 404s the rest, and records the bytes', async () => {
    const res = await fetch(`${fake.url}/ping?x=1`, { method: 'POST', body: '{"a":1}' });
    expect(await res.json()).toEqual({ pong: { a: 1 } });
    expect((await fetch(`${fake.url}/nope`)).status).toBe(404);
    expect(fake.requests[0]?.query.get('x')).toBe('1');
    expect(fake.requests[0]?.body).toBe('{"a":1}');
  });

  it('injects status bursts, rate limits, malformed JSON and drops, then recovers', async () => {
    fake.inject({ kind: 'status', status: 503, times: 2 });
    expect((await fetch(`${fake.url}/ping`)).status).toBe(503);
    expect((await fetch(`${fake.url}/ping`)).status).toBe(503);
    expect((await fetch(`${fake.url}/ping`)).status).toBe(200);

    fake.inject({ kind: 'rate-limit', retryAfterSeconds: 2 });
    const limited = await fetch(`${fake.url}/ping`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');

    fake.inject({ kind: 'rate-limit', retryAfterSeconds: 5, style: 'telegram' });
    expect(((await (await fetch(`${fake.url}/ping`)).json()) as { parameters: unknown }).parameters).toEqual({
      retry_after: 5,
    });

    fake.inject({ kind: 'malformed-json' });
    await expect((await fetch(`${fake.url}/ping`)).json()).rejects.toThrow();

    fake.inject({ kind: 'drop', path: '/ping' });
    await expect(fetch(`${fake.url}/ping`)).rejects.toThrow();
    expect((await fetch(`${fake.url}/ping`)).status).toBe(200);
  });
});
