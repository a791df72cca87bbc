import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebhookReceipt } from '../events/inbound.js';
import { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';

/** Request headers as Node gives them (names lower-case). */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A webhook request: the headers and the RAW body bytes, before any parsing. */
export interface WebhookRequest {
  readonly headers: WebhookHeaders;
  readonly rawBody: Uint8Array;
}

/**
 * Verifies and parses one kind of webhook. `receive` never throws: a bad or
 * missing signature is `unauthorized`, a body over the size limit `too_large`,
 * malformed input `invalid_input` — see {@link webhookErrorStatus}.
 */
export interface WebhookReceiver {
  receive(request: WebhookRequest): Result<WebhookReceipt, ConveyorError>;
}

/** The default size limit of a webhook body: 1 MiB. */
export const DEFAULT_WEBHOOK_MAX_BYTES = 1024 * 1024;

/**
 * Reads a header case-insensitively; the first value when repeated.
 *
 * @example
 * ```ts
 * const event = getHeader(req.headers, 'X-Gitea-Event');
 * ```
 */
export function getHeader(headers: WebhookHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : value[0];
  }
  return undefined;
}

/**
 * Checks a hex HMAC-SHA256 signature of the raw body against one or more
 * secrets (several during a rotation), in constant time. Accepts an optional
 * `sha256=` prefix. Resolves to the index of the secret that matched.
 *
 * @example
 * ```ts
 * const verified = verifyHmacSha256Hex(rawBody, getHeader(headers, 'x-gitea-signature'), [current, previous], '@conveyor/adapter-gitea');
 * if (!verified.ok) return verified; // 401
 * ```
 */
export function verifyHmacSha256Hex(
  rawBody: Uint8Array,
  signature: string | undefined,
  secrets: readonly string[],
  pkg: string,
): Result<{ secretIndex: number }, ConveyorError> {
  const usable = secrets.filter((s) => s.length > 0);
  if (usable.length === 0) {
    return err(new ConveyorError(pkg, 'invalid_config', 'no webhook secret is configured: refusing every delivery'));
  }
  if (signature === undefined || signature.trim() === '') {
    return err(new ConveyorError(pkg, 'unauthorized', 'the webhook signature header is missing'));
  }
  const hex = signature.trim().replace(/^sha256=/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    return err(new ConveyorError(pkg, 'unauthorized', 'the webhook signature is not a hex SHA-256 digest'));
  }
  const given = Buffer.from(hex, 'hex');
  let matched = -1;
  // Compare against every secret (no early exit) so timing does not say which one matched.
  usable.forEach((secret, index) => {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (timingSafeEqual(expected, given) && matched === -1) matched = index;
  });
  if (matched === -1) return err(new ConveyorError(pkg, 'unauthorized', 'the webhook signature does not match'));
  return ok({ secretIndex: matched });
}

/**
 * Refuses a body over `maxBytes` with `too_large`.
 *
 * @example
 * ```ts
 * const sized = checkBodySize(rawBody, 1_048_576, '@conveyor/adapter-plane');
 * ```
 */
export function checkBodySize(rawBody: Uint8Array, maxBytes: number, pkg: string): Result<void, ConveyorError> {
  if (rawBody.byteLength > maxBytes) {
    return err(
      new ConveyorError(
        pkg,
        'too_large',
        `the webhook body is ${rawBody.byteLength} bytes, over the ${maxBytes}-byte limit`,
        {
          details: { bytes: rawBody.byteLength, maxBytes },
        },
      ),
    );
  }
  return ok();
}

/**
 * Parses the raw body as JSON, after verification.
 *
 * @example
 * ```ts
 * const json = parseJsonBody(rawBody, '@conveyor/adapter-gitea');
 * ```
 */
export function parseJsonBody(rawBody: Uint8Array, pkg: string): Result<unknown, ConveyorError> {
  const text = Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString('utf8');
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (thrown) {
    return err(
      new ConveyorError(pkg, 'invalid_input', `the webhook body is not valid JSON: ${(thrown as Error).message}`, {
        cause: thrown,
      }),
    );
  }
}

/**
 * The HTTP status a host should answer for a webhook error: 401 for a bad
 * signature, 413 for a body too large, 400 for malformed input, 500 otherwise.
 *
 * @example
 * ```ts
 * const received = receiver.receive({ headers: req.headers, rawBody });
 * if (!received.ok) res.writeHead(webhookErrorStatus(received.error)).end(received.error.message);
 * ```
 */
export function webhookErrorStatus(error: ConveyorError): number {
  switch (error.code) {
    case 'unauthorized':
      return 401;
    case 'too_large':
      return 413;
    case 'invalid_input':
      return 400;
    default:
      return 500;
  }
}

/**
 * Reads a Node request's raw body, stopping with `too_large` as soon as it
 * passes `maxBytes` (the rest is not buffered).
 *
 * @example
 * ```ts
 * const raw = await readRawBody(req, DEFAULT_WEBHOOK_MAX_BYTES, '@conveyor/example-server');
 * ```
 */
export function readRawBody(
  request: IncomingMessage,
  maxBytes: number,
  pkg: string,
): Promise<Result<Buffer, ConveyorError>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: Result<Buffer, ConveyorError>) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        finish(
          err(
            new ConveyorError(pkg, 'too_large', `the request body is over the ${maxBytes}-byte limit`, {
              details: { maxBytes },
            }),
          ),
        );
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => finish(ok(Buffer.concat(chunks))));
    request.on('error', (thrown) =>
      finish(
        err(new ConveyorError(pkg, 'network', `reading the request body failed: ${thrown.message}`, { cause: thrown })),
      ),
    );
  });
}
