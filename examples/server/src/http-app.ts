import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ConveyorError,
  type DeliveryLog,
  deliveryOutcomeStatus,
  type HandleOutcome,
  handleDelivery,
  type InboundEvent,
  type Logger,
  ok,
  type Result,
  readRawBody,
  type WebhookReceiver,
  webhookErrorStatus,
} from '@conveyor/core';

const PKG = '@conveyor/example-server';

/** What the HTTP layer needs from the rest of the host. */
export interface HostHttpOptions {
  /** one receiver per webhook source: `POST /webhooks/<source>` */
  readonly receivers: Readonly<Record<string, WebhookReceiver>>;
  readonly handle: (event: InboundEvent) => Promise<Result<HandleOutcome, ConveyorError>>;
  /** the delivery log (any `Store`) */
  readonly store: DeliveryLog;
  readonly now: () => number;
  readonly logger: Logger;
  /** webhook bodies over this are refused with 413 */
  readonly maxBodyBytes: number;
  /** how long a delivery being handled is claimed before a redelivery takes it over (ms) */
  readonly claimMs?: number;
  /** the body of `GET /queue` */
  readonly queue: () => Promise<unknown>;
  /**
   * More idempotency keys of a delivery besides its delivery id (Plane gives
   * every retry of one delivery a fresh id, so its body hash is a key too):
   * a delivery is a duplicate when any of its keys was seen.
   */
  readonly deliveryKeys?: (source: string, rawBody: Uint8Array) => readonly string[];
  /** the body of `GET /healthz`; `ok: false` answers 503 */
  readonly health: () => { readonly ok: boolean } & Record<string, unknown>;
}

/** The request handler plus what graceful shutdown needs. */
export interface HostHttpHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** stop taking webhooks (answer 503) while in-flight ones finish */
  drain(): void;
  /** resolves when no request is in flight */
  idle(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
};

/**
 * Routes `POST /webhooks/<source>`, `GET /queue` and `GET /healthz`.
 *
 * A webhook is read with a size limit (413), verified over its raw bytes (401),
 * parsed (400 with the parser's message), de-duplicated by delivery id (a
 * repeat answers 200 and does nothing), then handed to the pipeline. When the
 * pipeline fails after the delivery was recorded the answer is 500 and the
 * reconciler repairs the state (it is level-triggered and polls the tracker).
 */
export function createHostHttpHandler(options: HostHttpOptions): HostHttpHandler {
  let inFlight = 0;
  let draining = false;
  let waiters: (() => void)[] = [];

  const settle = () => {
    inFlight -= 1;
    if (inFlight === 0) {
      for (const wake of waiters) wake();
      waiters = [];
    }
  };

  const webhook = async (source: string, req: IncomingMessage, res: ServerResponse) => {
    const receiver = options.receivers[source];
    if (!receiver) return send(res, 404, { error: `no webhook source "${source}"` });
    if (draining) return send(res, 503, { error: 'shutting down; deliver again later' });
    const raw = await readRawBody(req, options.maxBodyBytes, PKG);
    if (!raw.ok) return send(res, webhookErrorStatus(raw.error), { error: raw.error.message });
    const received = receiver.receive({ headers: req.headers, rawBody: raw.value });
    if (!received.ok) {
      const status = webhookErrorStatus(received.error);
      options.logger.warn('webhook refused', {
        source,
        status,
        code: received.error.code,
        reason: received.error.message,
      });
      return send(res, status, { error: received.error.message });
    }
    const receipt = received.value;
    const { event } = receipt;
    // A delivery counts as handled only once its handling succeeded: the sender's
    // retry after a 500, or after this host died mid-handling, is processed.
    const outcome = await handleDelivery({
      deliveries: options.store,
      source,
      keys: [receipt.deliveryId, ...(options.deliveryKeys?.(source, raw.value) ?? [])],
      now: options.now,
      ...(options.claimMs === undefined ? {} : { claimMs: options.claimMs }),
      handle: async (): Promise<Result<HandleOutcome | { readonly ignored: string }, ConveyorError>> =>
        event.kind === 'ignored' ? ok({ ignored: event.reason }) : options.handle(event),
    });
    if (!outcome.ok) {
      options.logger.error('webhook handling failed', {
        source,
        deliveryId: receipt.deliveryId,
        code: outcome.error.code,
        error: outcome.error.message,
      });
      return send(res, 500, { error: outcome.error.message, deliveryId: receipt.deliveryId });
    }
    const done = outcome.value;
    if (done.kind === 'duplicate') {
      options.logger.info('duplicate delivery ignored', { source, deliveryId: receipt.deliveryId });
      return send(res, 200, { duplicate: true, deliveryId: receipt.deliveryId });
    }
    if (done.kind === 'in_progress') {
      return send(res, deliveryOutcomeStatus(done), { error: 'this delivery is being handled; deliver again later' });
    }
    if (done.unsettled) {
      options.logger.warn('handled, but the delivery log could not record it (a redelivery will be handled again)', {
        source,
        deliveryId: receipt.deliveryId,
        error: done.unsettled.message,
      });
    }
    if ('ignored' in done.value) {
      options.logger.info('webhook ignored', { source, event: receipt.eventName, reason: done.value.ignored });
      return send(res, 202, { ignored: done.value.ignored, deliveryId: receipt.deliveryId });
    }
    return send(res, 200, { deliveryId: receipt.deliveryId, outcome: done.value });
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://host.invalid');
    const match = /^\/webhooks\/([a-z0-9-]+)\/?$/.exec(url.pathname);
    if (match?.[1] && req.method === 'POST') return webhook(match[1], req, res);
    if (match) return send(res, 405, { error: 'use POST' });
    if (url.pathname === '/healthz' && req.method === 'GET') {
      const health = options.health();
      return send(res, health.ok ? 200 : 503, health);
    }
    if (url.pathname === '/queue' && req.method === 'GET') return send(res, 200, await options.queue());
    return send(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    route(req, res)
      .catch((thrown: unknown) => {
        options.logger.error('request failed', { error: thrown instanceof Error ? thrown.message : String(thrown) });
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      })
      .finally(settle);
  }) as HostHttpHandler;
  handler.drain = () => {
    draining = true;
  };
  handler.idle = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));
  return handler;
}
