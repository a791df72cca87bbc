import { createHmac, randomUUID } from 'node:crypto';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';

/** A Plane v1 webhook payload, keys in the order Plane writes them. */
export interface PlaneWebhookPayload {
  readonly event: string;
  readonly action: string;
  readonly webhook_id: string;
  readonly workspace_id: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly activity: Readonly<Record<string, unknown>> | null;
}

/**
 * Serialises a value as Python's `json.dumps` does with its defaults — what
 * Plane signs and sends: `", "` and `": "` separators, non-ASCII (and DEL)
 * escaped as lower-case `\uXXXX`, key order kept. (JS numbers cannot tell
 * `1.0` from `1`; pass strings when that matters.)
 *
 * @example
 * ```ts
 * pythonJsonDumps({ a: 'é', b: [1, 2] }); // '{"a": "\\u00e9", "b": [1, 2]}'
 * ```
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  return 'null';
}

/**
 * The `X-Plane-Signature` of a body: lower-case hex HMAC-SHA256 keyed with
 * the webhook secret, over the exact bytes sent.
 *
 * @example
 * ```ts
 * const body = pythonJsonDumps(payload);
 * const signature = signPlaneWebhook(body, 'whsec');
 * ```
 */
export function signPlaneWebhook(body: string | Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Options of {@link sendPlaneWebhook}. */
export interface SendPlaneWebhookOptions {
  /** signs the body; without it no `X-Plane-Signature` is sent (as Plane does for a webhook with no secret) */
  readonly secret?: string;
  /** `X-Plane-Event`; default the payload's `event` */
  readonly event?: string;
  /** `X-Plane-Delivery`; default a fresh uuid, as Plane makes for each attempt */
  readonly deliveryId?: string;
  /** headers to add or override (e.g. a forged signature) */
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof globalThis.fetch;
}

/** What the receiving host answered. */
export interface SentPlaneWebhook {
  readonly status: number;
  readonly text: string;
  readonly deliveryId: string;
  /** the exact bytes sent (and signed) */
  readonly body: string;
}

/**
 * Posts a webhook to a URL the way Plane does: the body is Python's
 * `json.dumps(payload)` (or the given string as is), with `Content-Type`,
 * `User-Agent: Autopilot`, `X-Plane-Delivery`, `X-Plane-Event` and, when a
 * secret is given, `X-Plane-Signature`. Resolves to the host's answer; a
 * network failure is an err `network`.
 *
 * @example
 * ```ts
 * const sent = await sendPlaneWebhook(`${host}/webhooks/plane`, plane.issueWebhookPayload(id, 'updated'), { secret });
 * if (sent.ok) expect(sent.value.status).toBe(200);
 * ```
 */
export async function sendPlaneWebhook(
  url: string,
  payload: PlaneWebhookPayload | Readonly<Record<string, unknown>> | string,
  options: SendPlaneWebhookOptions = {},
): Promise<Result<SentPlaneWebhook, ConveyorError>> {
  const body = typeof payload === 'string' ? payload : pythonJsonDumps(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const event =
    options.event ??
    (typeof payload === 'object' && typeof payload.event === 'string' ? payload.event : undefined) ??
    'issue';
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'Autopilot',
    'X-Plane-Delivery': deliveryId,
    'X-Plane-Event': event,
    ...(options.secret === undefined ? {} : { 'X-Plane-Signature': signPlaneWebhook(body, options.secret) }),
    ...(options.headers ?? {}),
  };
  try {
    const res = await (options.fetch ?? globalThis.fetch)(url, { method: 'POST', headers, body });
    return ok({ status: res.status, text: await res.text(), deliveryId, body });
  } catch (thrown) {
    return err(
      new ConveyorError(
        '@conveyor/testkit',
        'network',
        `sending the Plane webhook to ${url} failed: ${String(thrown)}`,
        {
          cause: thrown,
        },
      ),
    );
  }
}
