import type { ServerResponse } from 'node:http';
import type { ConveyorEventBus } from '@conveyor/core';

/** The events the dashboard forwards to browsers. */
export const LIVE_EVENTS = ['transition', 'edge.decided', 'job.started', 'job.finished'] as const;

/** A server-sent-events hub: every client gets every forwarded event. */
export interface LiveHub {
  /** takes over `res` as an event stream until the client leaves or the hub closes */
  attach(res: ServerResponse): void;
  readonly clients: () => number;
  /** ends every stream (shutdown) */
  close(): void;
}

/** Options of {@link createLiveHub}. */
export interface LiveHubOptions {
  readonly events: ConveyorEventBus;
  /** keeps proxies from closing an idle stream; default 15 s */
  readonly heartbeatMs?: number;
  /** more clients than this are answered 503; default 1,000 */
  readonly maxClients?: number;
  /** applied to every payload before it is sent */
  readonly redact: (text: string) => string;
}

/**
 * Forwards the bus's task events to every connected browser as SSE
 * (`event: transition`, `data: {...}`). A client that cannot keep up (its
 * socket buffer is full) is dropped rather than buffered without bound; the
 * page reloads what it shows when it reconnects.
 */
export function createLiveHub(options: LiveHubOptions): LiveHub {
  const clients = new Set<ServerResponse>();
  const maxClients = options.maxClients ?? 1000;
  const unsubscribe = LIVE_EVENTS.map((name) =>
    options.events.on(name, (payload: unknown) => {
      const taskId = (payload as { taskId?: string }).taskId;
      const slim =
        name === 'edge.decided'
          ? {
              taskId,
              edge: (payload as { verdict: { edge: string } }).verdict.edge,
              status: (payload as { verdict: { status: string } }).verdict.status,
              summary: (payload as { verdict: { summary: string } }).verdict.summary,
            }
          : payload;
      const frame = `event: ${name}\ndata: ${options.redact(JSON.stringify(slim))}\n\n`;
      for (const res of clients) {
        if (res.writableNeedDrain) {
          clients.delete(res);
          res.destroy();
          continue;
        }
        res.write(frame);
      }
    }),
  );
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  return {
    clients: () => clients.size,
    attach(res) {
      if (clients.size >= maxClients) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"too many live clients"}\n');
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n: connected\n\n');
      clients.add(res);
      res.on('close', () => clients.delete(res));
    },
    close() {
      clearInterval(heartbeat);
      for (const off of unsubscribe) off();
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
