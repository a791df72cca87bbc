import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpClient, retryAfterMs } from '../src/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let queue: Handler[] = [];
let seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const next = queue.shift();
      if (!next) {
        res.writeHead(500).end('no handler queued');
        return;
      }
      next(req, body, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  queue = [];
  seen = [];
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => {
  return (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
};

const noSleep = async () => {};

describe('createHttpClient', () => {
  it('sends JSON with the configured headers and parses the answer', async () => {
    queue.push(json(201, { id: 7 }));
    const http = createHttpClient({ pkg: 'test', baseUrl, headers: { 'X-API-Key': 'k1' }, sleep: noSleep });
    const res = await http.request({
      method: 'POST',
      path: '/things/',
      query: { per_page: 5, skip: undefined },
      body: { a: 1 },
    });
    expect(res.ok && res.value.body).toEqual({ id: 7 });
    expect(seen[0]?.url).toBe('/api/things/?per_page=5');
    expect(seen[0]?.headers['x-api-key']).toBe('k1');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ a: 1 });
  });

  it('retries 5xx with backoff and succeeds', async () => {
    queue.push(json(502, { message: 'bad gateway' }), json(503, { message: 'unavailable' }), json(200, { ok: true }));
    const waits: number[] = [];
    const http = createHttpClient({ pkg: 'test', baseUrl, retries: 3, sleep: async (ms) => void waits.push(ms) });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(res.ok && res.value.attempts).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('gives up after the retries with the server message and says the API answered', async () => {
    queue.push(json(500, { message: 'db down' }), json(500, { message: 'db down' }));
    const http = createHttpClient({ pkg: 'test', baseUrl, retries: 1, sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe('api_refused');
    expect(res.error.message).toContain('db down');
    expect(res.error.details.status).toBe(500);
    expect(seen).toHaveLength(2);
  });

  it('never retries other 4xx and maps them to codes', async () => {
    queue.push(json(404, { detail: 'Issue not found' }));
    const http = createHttpClient({ pkg: 'test', baseUrl, sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'missing' });
    expect(!res.ok && res.error.code).toBe('not_found');
    expect(!res.ok && res.error.message).toContain('Issue not found');
    expect(seen).toHaveLength(1);
    queue.push(json(403, { error: 'forbidden' }));
    const denied = await http.request({ method: 'GET', path: 'x' });
    expect(!denied.ok && denied.error.code).toBe('unauthorized');
  });

  it('returns accepted statuses as responses', async () => {
    queue.push(json(404, { message: 'none' }));
    const http = createHttpClient({ pkg: 'test', baseUrl, sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'pr', acceptStatuses: [404] });
    expect(res.ok && res.value.status).toBe(404);
  });

  it('honours Retry-After on 429', async () => {
    queue.push(json(429, { message: 'slow down' }, { 'retry-after': '2' }), json(200, {}));
    const waits: number[] = [];
    const http = createHttpClient({ pkg: 'test', baseUrl, sleep: async (ms) => void waits.push(ms) });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(res.ok).toBe(true);
    expect(waits).toEqual([2000]);
  });

  it('honours a Telegram-style retry_after in the body', async () => {
    queue.push(
      json(429, { ok: false, description: 'Too Many Requests', parameters: { retry_after: 3 } }),
      json(200, {}),
    );
    const waits: number[] = [];
    const http = createHttpClient({ pkg: 'test', baseUrl, sleep: async (ms) => void waits.push(ms) });
    expect((await http.request({ method: 'POST', path: 'sendMessage' })).ok).toBe(true);
    expect(waits).toEqual([3000]);
  });

  it('fails rate_limited without waiting when the server asks for too long', async () => {
    queue.push(json(429, { message: 'later' }, { 'retry-after': '3600' }));
    const waits: number[] = [];
    const http = createHttpClient({
      pkg: 'test',
      baseUrl,
      maxRetryAfterMs: 10_000,
      sleep: async (ms) => void waits.push(ms),
    });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(!res.ok && res.error.code).toBe('rate_limited');
    expect(!res.ok && res.error.details.retryAfterMs).toBe(3_600_000);
    expect(waits).toEqual([]);
  });

  it('times out a slow answer and says it was the network', async () => {
    queue.push((_req, _body, res) => {
      setTimeout(() => res.writeHead(200).end('{}'), 1_000);
    });
    const http = createHttpClient({ pkg: 'test', baseUrl, timeoutMs: 50, retries: 0, sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'slow' });
    expect(!res.ok && res.error.code).toBe('timeout');
  });

  it('reports a dropped connection as a network error and retries it', async () => {
    queue.push((req) => req.socket.destroy(), json(200, { fine: true }));
    const http = createHttpClient({ pkg: 'test', baseUrl, retries: 1, sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(res.ok && res.value.body).toEqual({ fine: true });
    queue.push((req) => req.socket.destroy());
    const failed = await createHttpClient({ pkg: 'test', baseUrl, retries: 0, sleep: noSleep }).request({
      method: 'GET',
      path: 'x',
    });
    expect(!failed.ok && failed.error.code).toBe('network');
  });

  it('refuses a closed port as a network error', async () => {
    const http = createHttpClient({ pkg: 'test', baseUrl: 'http://127.0.0.1:1/', retries: 0, sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(!res.ok && res.error.code).toBe('network');
  });

  it('does not send a POST again after a 5xx or a dropped connection: it may have been carried out', async () => {
    const http = createHttpClient({ pkg: 'test', baseUrl, retries: 3, sleep: noSleep });
    queue.push(json(502, { description: 'Bad Gateway' }), json(200, { ok: true }));
    const afterServerError = await http.request({ method: 'POST', path: 'sendMessage', body: { text: 'hi' } });
    expect(!afterServerError.ok && afterServerError.error.details).toMatchObject({ status: 502, attempts: 1 });
    expect(seen.filter((r) => r.url.endsWith('sendMessage'))).toHaveLength(1);

    queue = [];
    seen = [];
    queue.push((req) => req.socket.destroy(), json(200, { ok: true }));
    const afterDrop = await http.request({ method: 'PATCH', path: 'issues/1', body: { state: 's' } });
    expect(!afterDrop.ok && afterDrop.error.code).toBe('network');
    expect(seen).toHaveLength(1);
  });

  it('retries a POST that carries an idempotency key or opts in with retry: true, and a 429 always', async () => {
    const http = createHttpClient({ pkg: 'test', baseUrl, retries: 2, sleep: noSleep });
    queue.push(json(503, {}), json(200, { ok: 1 }));
    const keyed = await http.request({ method: 'POST', path: 'pay', body: {}, idempotencyKey: 'task_1:step_3' });
    expect(keyed.ok && keyed.value.attempts).toBe(2);
    expect(seen.map((r) => r.headers['idempotency-key'])).toEqual(['task_1:step_3', 'task_1:step_3']);

    queue.push((req) => req.socket.destroy(), json(200, { ok: 2 }));
    const optedIn = await http.request({ method: 'POST', path: 'editMessageText', body: {}, retry: true });
    expect(optedIn.ok && optedIn.value.body).toEqual({ ok: 2 });

    queue.push(json(429, { parameters: { retry_after: 0 } }), json(200, { ok: 3 }));
    const limited = await http.request({ method: 'POST', path: 'sendMessage', body: {} });
    expect(limited.ok && limited.value.attempts).toBe(2);

    queue.push(json(500, {}), json(200, {}));
    const optedOut = await http.request({ method: 'GET', path: 'x', retry: false });
    expect(!optedOut.ok && optedOut.error.details.status).toBe(500);
    queue = [];
  });

  it('retries a POST whose connection was refused: nothing was sent', async () => {
    // a port that was just free: nothing listens there, the connection is refused
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const waits: number[] = [];
    const http = createHttpClient({
      pkg: 'test',
      baseUrl: `http://127.0.0.1:${port}/`,
      retries: 2,
      sleep: async (ms) => void waits.push(ms),
    });
    const res = await http.request({ method: 'POST', path: 'sendMessage', body: {} });
    expect(!res.ok && res.error.code).toBe('network');
    expect(!res.ok && res.error.details.attempts).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('answers a base URL that is not a URL with invalid_config instead of throwing', async () => {
    const http = createHttpClient({ pkg: 'test', baseUrl: 'not a url', sleep: noSleep });
    const res = await http.request({ method: 'GET', path: 'x' });
    expect(!res.ok && res.error.code).toBe('invalid_config');
  });

  it('keeps redacted strings out of error messages', async () => {
    queue.push(json(400, { description: 'Bad Request: chat not found' }));
    const token = '123456:SECRETSECRET';
    const http = createHttpClient({ pkg: 'test', baseUrl: `${baseUrl}bot${token}/`, redact: [token], sleep: noSleep });
    const res = await http.request({ method: 'POST', path: 'sendMessage' });
    expect(!res.ok && res.error.message).not.toContain(token);
    expect(JSON.stringify(!res.ok && res.error.toJSON())).not.toContain(token);
  });
});

describe('retryAfterMs', () => {
  it('reads an HTTP date, epoch and delta X-RateLimit-Reset', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), undefined, now)).toBe(5000);
    expect(retryAfterMs(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 7) }), undefined, now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'x-ratelimit-reset': '4' }), undefined, now)).toBe(4000);
    expect(retryAfterMs(new Headers(), { parameters: {} }, now)).toBeUndefined();
  });
});
