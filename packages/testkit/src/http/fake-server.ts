import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the fake server received, as it came over the wire. */
export interface RecordedRequest {
  readonly method: string;
  /** the path without the query string */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** the raw body text */
  readonly body: string;
  /** the body parsed as JSON, or `undefined` */
  readonly json: unknown;
}

/** What a route answers. */
export interface FakeReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A fault to inject. Each applies to the next `times` requests (default 1)
 * whose path matches `path` (a substring or RegExp; default every path).
 */
export type Fault = (
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'rate-limit';
      readonly retryAfterSeconds: number;
      readonly style?: 'header' | 'telegram' | 'reset-header';
    }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'malformed-json' }
) & { readonly path?: string | RegExp; readonly times?: number };

/** A route handler: return the reply, or `undefined` for 404. */
export type FakeHandler = (request: RecordedRequest) => FakeReply | undefined | Promise<FakeReply | undefined>;

/** A running fake HTTP server on 127.0.0.1 with an ephemeral port. */
export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** every request received, in order (faulted ones included) */
  readonly requests: RecordedRequest[];
  /** queues a fault */
  inject(fault: Fault): void;
  /** drops queued faults and recorded requests */
  reset(): void;
  close(): Promise<void>;
}

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/**
 * Starts an in-process HTTP server on 127.0.0.1, port 0, that records every
 * request and can inject faults (429 with a retry hint, 5xx bursts, slow
 * answers, dropped connections, malformed JSON). The fake Plane, Gitea and
 * Telegram servers are built on it.
 *
 * @example
 * ```ts
 * const fake = await startFakeHttpServer((req) => (req.path === '/ping' ? { status: 200, body: { pong: true } } : undefined));
 * fake.inject({ kind: 'status', status: 503, times: 2 });
 * const res = await fetch(`${fake.url}/ping`); // 503, then 503, then 200
 * await fake.close();
 * ```
 */
export async function startFakeHttpServer(handler: FakeHandler): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  let faults: QueuedFault[] = [];
  const sockets = new Set<Socket>();

  const takeFault = (path: string): Fault | undefined => {
    const index = faults.findIndex(({ fault }) => {
      if (fault.path === undefined) return true;
      return typeof fault.path === 'string' ? path.includes(fault.path) : fault.path.test(path);
    });
    if (index === -1) return undefined;
    const queued = faults[index];
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults.splice(index, 1);
    return queued.fault;
  };

  const send = (res: ServerResponse, reply: FakeReply) => {
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    let payload = '';
    if (reply.body !== undefined) {
      payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
      }
    }
    res.writeHead(reply.status, headers).end(payload);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = body.length > 0 ? (JSON.parse(body) as unknown) : undefined;
        } catch {
          json = undefined;
        }
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
          json,
        };
        requests.push(recorded);
        const fault = takeFault(url.pathname);
        if (fault?.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault?.kind === 'status') {
          send(res, {
            status: fault.status,
            body: fault.body ?? { message: `injected ${fault.status}` },
            ...(fault.headers ? { headers: fault.headers } : {}),
          });
          return;
        }
        if (fault?.kind === 'rate-limit') {
          const style = fault.style ?? 'header';
          if (style === 'telegram') {
            send(res, {
              status: 429,
              body: {
                ok: false,
                error_code: 429,
                description: `Too Many Requests: retry after ${fault.retryAfterSeconds}`,
                parameters: { retry_after: fault.retryAfterSeconds },
              },
            });
          } else if (style === 'reset-header') {
            send(res, {
              status: 429,
              body: { message: 'rate limited' },
              headers: { 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + fault.retryAfterSeconds) },
            });
          } else {
            send(res, {
              status: 429,
              body: { message: 'rate limited' },
              headers: { 'retry-after': String(fault.retryAfterSeconds) },
            });
          }
          return;
        }
        if (fault?.kind === 'malformed-json') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"truncated": ');
          return;
        }
        try {
          const reply = await handler(recorded);
          send(res, reply ?? { status: 404, body: { message: `no route for ${recorded.method} ${recorded.path}` } });
        } catch (thrown) {
          send(res, { status: 500, body: { message: `fake server error: ${(thrown as Error).message}` } });
        }
      })();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject(fault) {
      faults.push({ fault, remaining: fault.times ?? 1 });
    },
    reset() {
      faults = [];
      requests.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
