import { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';

/** Options of {@link createHttpClient}. Frozen on creation. */
export interface HttpClientOptions {
  /** the package named in errors, e.g. `@conveyor/adapter-plane` */
  readonly pkg: string;
  /** e.g. `https://plane.example.com/api/v1/` */
  readonly baseUrl: string;
  /** sent with every request (auth goes here) */
  readonly headers?: Readonly<Record<string, string>>;
  /** per attempt; default 10 000 ms */
  readonly timeoutMs?: number;
  /**
   * retries after the first attempt (default 3): for 429 always (the server
   * did nothing), for 5xx and network errors only when the request may be
   * repeated (see {@link HttpRequest.retry})
   */
  readonly retries?: number;
  /** first backoff; doubles each retry, with jitter; default 200 ms */
  readonly minBackoffMs?: number;
  /** backoff ceiling; default 5 000 ms */
  readonly maxBackoffMs?: number;
  /** a server-requested wait longer than this is not honoured: the call fails `rate_limited`; default 60 000 ms */
  readonly maxRetryAfterMs?: number;
  /** strings never shown in errors (a token inside the URL, say) */
  readonly redact?: readonly string[];
  /** the fetch implementation; default `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch;
  /** how to wait between attempts; default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The methods HTTP defines as idempotent: sending one twice has the effect of sending it once. */
export const IDEMPOTENT_METHODS: readonly HttpRequest['method'][] = Object.freeze([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
]);

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** relative to `baseUrl` (a leading `/` is allowed) */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** sent as JSON */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** statuses returned as responses instead of errors (e.g. `[404]` when 404 means "none") */
  readonly acceptStatuses?: readonly number[];
  readonly signal?: AbortSignal;
  /**
   * Sent as the `Idempotency-Key` header; a request carrying one may be
   * repeated after a 5xx or a dropped connection, whatever its method.
   */
  readonly idempotencyKey?: string;
  /**
   * Whether a 5xx or a network error may be retried. Default: only for an
   * idempotent method ({@link IDEMPOTENT_METHODS}) or with an
   * `idempotencyKey`, because a POST may have been carried out before the
   * answer was lost (a Telegram `sendMessage` sent twice). `true` opts a
   * request whose repeat is harmless in (a status set again, an edit to the
   * same text); `false` opts any request out. A connection refused before
   * anything was sent, and a 429, are retried either way.
   */
  readonly retry?: boolean;
}

/** A response with its body parsed (JSON when it parses, else the text). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** parsed JSON, or `undefined` for an empty body */
  readonly body: unknown;
  /** the raw text */
  readonly text: string;
  /** how many attempts it took */
  readonly attempts: number;
}

/** A JSON-over-HTTP client that never throws. */
export interface HttpClient {
  /**
   * Sends a request. Resolves to the response for 2xx (and `acceptStatuses`);
   * otherwise to a {@link ConveyorError} whose code says whether the API refused
   * (`api_refused`, `unauthorized`, `not_found`, `conflict`, `rate_limited`) or
   * the network failed (`network`, `timeout`), with `details.status`,
   * `details.method` and `details.path`.
   */
  request(req: HttpRequest): Promise<Result<HttpResponse, ConveyorError>>;
}

const DEFAULTS = { timeoutMs: 10_000, retries: 3, minBackoffMs: 200, maxBackoffMs: 5_000, maxRetryAfterMs: 60_000 };

/** Network errors that happen before a request leaves this host: nothing was sent, a retry is always safe. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Whether a request may be repeated after a 5xx or a network error that may have happened after it was sent. */
export function mayRepeat(req: Pick<HttpRequest, 'method' | 'idempotencyKey' | 'retry'>): boolean {
  if (req.retry !== undefined) return req.retry;
  return IDEMPOTENT_METHODS.includes(req.method) || req.idempotencyKey !== undefined;
}

/** The system error code of a failed fetch (undici puts it on `cause`), e.g. `ECONNREFUSED`. */
function networkCodeOf(thrown: unknown): string | undefined {
  for (let e: unknown = thrown, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Creates the HTTP core every adapter shares: timeouts per attempt, retries
 * with exponential backoff for 5xx and network errors of requests that may be
 * repeated ({@link mayRepeat}: idempotent methods, an idempotency key, or an
 * explicit `retry: true`; a connection refused before sending is always
 * retried), 429 honoured through
 * `Retry-After`, `X-RateLimit-Reset` or a Telegram-style
 * `parameters.retry_after` in the body, and other 4xx never retried and
 * reported with the server's own message.
 *
 * Conveyor has this one HTTP core with its own retry policy rather than a
 * general retry helper such as `p-retry`: whether a call may be repeated
 * depends on HTTP itself (the method, an idempotency key, whether the request
 * left the host, a 429's `Retry-After`), which only the code that sent the
 * request can tell, and every adapter then retries the same way.
 *
 * @example
 * ```ts
 * const http = createHttpClient({ pkg: '@conveyor/adapter-plane', baseUrl: 'https://plane.local/api/v1/', headers: { 'X-API-Key': key } });
 * const res = await http.request({ method: 'GET', path: 'workspaces/acme/projects/p1/issues/', query: { per_page: 50 } });
 * if (!res.ok) console.error(res.error.code, res.error.message);
 * ```
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const opts = Object.freeze({ ...DEFAULTS, ...options, headers: Object.freeze({ ...(options.headers ?? {}) }) });
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const base = opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`;

  const scrub = (text: string): string => {
    let out = text;
    for (const secret of opts.redact ?? []) if (secret) out = out.split(secret).join('[redacted]');
    return out;
  };

  const fail = (code: ConveyorError['code'], message: string, details: Record<string, unknown>, cause?: unknown) =>
    err<HttpResponse, ConveyorError>(
      new ConveyorError(opts.pkg, code, scrub(message), cause === undefined ? { details } : { details, cause }),
    );

  return Object.freeze({
    async request(req: HttpRequest): Promise<Result<HttpResponse, ConveyorError>> {
      let url: URL;
      try {
        url = new URL(req.path.replace(/^\//, ''), base);
      } catch {
        return fail('invalid_config', `${req.method} ${scrub(req.path)}: the base URL ${scrub(base)} is not a URL`, {
          method: req.method,
        });
      }
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
      const where = `${req.method} ${scrub(url.pathname)}`;
      const details = { method: req.method, path: scrub(url.pathname) };
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers, ...(req.headers ?? {}) };
      const body = req.body === undefined ? undefined : JSON.stringify(req.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
      const repeatable = mayRepeat(req);

      let lastError: Result<HttpResponse, ConveyorError> | undefined;
      for (let attempt = 1; attempt <= opts.retries + 1; attempt += 1) {
        if (req.signal?.aborted) return fail('timeout', `${where}: aborted by the caller`, details);
        const timeout = AbortSignal.timeout(opts.timeoutMs);
        const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
        let response: Response;
        let text: string;
        try {
          response = await doFetch(url, {
            method: req.method,
            headers,
            ...(body === undefined ? {} : { body }),
            signal,
          });
          text = await response.text();
        } catch (thrown) {
          const timedOut = timeout.aborted;
          lastError = fail(
            timedOut ? 'timeout' : 'network',
            timedOut
              ? `${where}: no answer within ${opts.timeoutMs} ms`
              : `${where}: network error: ${thrown instanceof Error ? describeCause(thrown) : String(thrown)}`,
            { ...details, attempts: attempt },
            thrown,
          );
          if (req.signal?.aborted) return lastError;
          const notSent = !timedOut && NOT_SENT_CODES.has(networkCodeOf(thrown) ?? '');
          if (!repeatable && !notSent) return lastError;
          if (attempt <= opts.retries) await sleep(backoff(attempt, opts.minBackoffMs, opts.maxBackoffMs));
          continue;
        }
        const parsed = parseBody(text);
        const status = response.status;
        if ((status >= 200 && status < 300) || req.acceptStatuses?.includes(status)) {
          return ok({ status, headers: response.headers, body: parsed, text, attempts: attempt });
        }
        const serverMessage = scrub(extractMessage(parsed, text));
        const failDetails = { ...details, status, attempts: attempt, serverMessage };
        if (status === 429) {
          const waitMs = retryAfterMs(response.headers, parsed, Date.now());
          lastError = fail('rate_limited', `${where} → 429 Too Many Requests: ${serverMessage}`, {
            ...failDetails,
            retryAfterMs: waitMs,
          });
          if (attempt > opts.retries) break;
          if (waitMs !== undefined && waitMs > opts.maxRetryAfterMs) break;
          await sleep(waitMs ?? backoff(attempt, opts.minBackoffMs, opts.maxBackoffMs));
          continue;
        }
        if (status >= 500) {
          lastError = fail('api_refused', `${where} → ${status}: ${serverMessage}`, {
            ...failDetails,
            serverError: true,
          });
          // the server may have carried it out before failing: only a repeatable request is sent again
          if (!repeatable) return lastError;
          if (attempt <= opts.retries) await sleep(backoff(attempt, opts.minBackoffMs, opts.maxBackoffMs));
          continue;
        }
        return fail(codeForStatus(status), `${where} → ${status}: ${serverMessage}`, failDetails);
      }
      return lastError ?? fail('internal', `${where}: no attempt was made`, details);
    },
  });
}

function codeForStatus(status: number): ConveyorError['code'] {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too_large';
  if (status === 400 || status === 422) return 'invalid_input';
  return 'api_refused';
}

function describeCause(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return `${error.message} (${cause.message})`;
  return error.message;
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Finds the server's own words in an error body (`message`, `description`, `error`, `detail`). */
function extractMessage(parsed: unknown, text: string): string {
  if (parsed !== null && typeof parsed === 'object') {
    const record = parsed as Record<string, unknown>;
    for (const key of ['message', 'description', 'error', 'detail', 'errors']) {
      const value = record[key];
      if (typeof value === 'string' && value.length > 0) return value;
      if (value !== undefined && value !== null && typeof value !== 'object') return String(value);
      if (Array.isArray(value) && value.length > 0) return JSON.stringify(value).slice(0, 300);
    }
  }
  const trimmed = text.trim();
  return trimmed.length === 0 ? '(empty body)' : trimmed.slice(0, 300);
}

/**
 * How long a 429 asks the client to wait, in ms: `Retry-After` (seconds or an
 * HTTP date), `X-RateLimit-Reset` (epoch seconds, or seconds from now when
 * small), or a Telegram-style `parameters.retry_after` in the body.
 */
export function retryAfterMs(headers: Headers, body: unknown, nowMs: number): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (reset !== null) {
    const value = Number(reset);
    if (Number.isFinite(value) && value >= 0) {
      return value > 1_000_000_000 ? Math.max(0, Math.ceil(value * 1000 - nowMs)) : Math.ceil(value * 1000);
    }
  }
  if (body !== null && typeof body === 'object') {
    const parameters = (body as { parameters?: unknown }).parameters;
    if (parameters !== null && typeof parameters === 'object') {
      const seconds = (parameters as { retry_after?: unknown }).retry_after;
      if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    }
  }
  return undefined;
}

function backoff(attempt: number, min: number, max: number): number {
  const exp = Math.min(max, min * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}
