import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import type { LockedPackage } from './lockfiles.js';
import type { OsvAdvisory } from './osv.js';
import type { OsvVulnRef } from './osv-cache.js';
import { OSV_DEFAULT_TIMEOUT_MS } from './osv-defaults.js';

const PKG = '@conveyor/gates';

/** The `fetch` subset the online sources use; pass your own to add a proxy or logging. */
export type AuditFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{
  status: number;
  ok: boolean;
  text(): Promise<string>;
  readonly headers?: { get(name: string): string | null };
}>;

export { OSV_DEFAULT_TIMEOUT_MS };

/** OSV's own limit on the queries of one `querybatch` request. */
export const OSV_MAX_BATCH = 1000;

/** Options of {@link createOsvClient}. */
export interface OsvClientOptions {
  /** default `https://api.osv.dev` */
  readonly baseUrl?: string;
  readonly fetch?: AuditFetch;
  /** per request; default 15 000 ms */
  readonly timeoutMs?: number;
  /** retries after a 429, a 5xx, a timeout or a dropped connection; default 2 */
  readonly retries?: number;
  /** first backoff, doubled on each retry (a `Retry-After` header wins, capped at 30 s); default 500 ms */
  readonly backoffMs?: number;
  /** queries per `querybatch` request, at most {@link OSV_MAX_BATCH}; default 1000 */
  readonly batchSize?: number;
  /** `next_page_token` rounds before giving up (a server that pages forever); default 50 */
  readonly maxPages?: number;
}

/** A client of the OSV API: `POST /v1/querybatch` and `GET /v1/vulns/{id}`. */
export interface OsvClient {
  readonly baseUrl: string;
  /** the advisory ids affecting each package version, in input order */
  queryBatch(
    pkgs: readonly LockedPackage[],
    signal?: AbortSignal,
  ): Promise<Result<(readonly OsvVulnRef[])[], ConveyorError>>;
  /** one advisory's details; `not_found` for an id OSV does not know */
  getVuln(id: string, signal?: AbortSignal): Promise<Result<OsvAdvisory, ConveyorError>>;
}

/**
 * Removes user and password from a URL before it is shown anywhere.
 *
 * @example
 * ```ts
 * displayUrl('https://u:secret@osv.example'); // 'https://osv.example'
 * ```
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/**
 * Moves user and password out of a URL into a Basic `authorization` header,
 * so the address that is fetched (and shown in any error) holds no secret.
 */
export function splitCredentials(url: string): { url: string; headers: Record<string, string> } {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return { url, headers: {} };
    const token = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    return { url: displayUrl(url), headers: { authorization: `Basic ${token}` } };
  } catch {
    return { url: displayUrl(url), headers: {} };
  }
}

const defaultFetch: AuditFetch = (url, init) => fetch(url, init);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A DNS name that does not resolve will not resolve on the next try either. */
function permanentNetworkError(thrown: unknown): boolean {
  const code = (thrown as { cause?: { code?: unknown } }).cause?.code;
  return code === 'ENOTFOUND';
}

interface Sent {
  readonly status: number;
  readonly text: string;
}

async function sendWithRetries(
  fetchFn: AuditFetch,
  url: string,
  init: { method: string; body?: string; headers?: Record<string, string> },
  o: { timeoutMs: number; retries: number; backoffMs: number },
  signal?: AbortSignal,
): Promise<Result<Sent, ConveyorError>> {
  const what = `${init.method} ${displayUrl(url)}`;
  let last: ConveyorError | undefined;
  for (let attempt = 0; attempt <= o.retries; attempt += 1) {
    if (signal?.aborted)
      return err(new ConveyorError(PKG, 'timeout', `${what} aborted`, { details: { url: displayUrl(url) } }));
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let waitMs = o.backoffMs * 2 ** attempt;
    try {
      const res = await fetchFn(url, {
        method: init.method,
        headers: {
          ...(init.headers ?? {}),
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: combined,
      });
      const text = await res.text();
      if (res.status === 429 || res.status >= 500) {
        last = new ConveyorError(
          PKG,
          res.status === 429 ? 'rate_limited' : 'api_refused',
          `${what} answered ${res.status}`,
          {
            details: { url: displayUrl(url), status: res.status },
          },
        );
        const after = Number(res.headers?.get('retry-after') ?? Number.NaN);
        if (Number.isFinite(after) && after >= 0) waitMs = Math.min(after * 1000, 30_000);
      } else {
        return ok({ status: res.status, text });
      }
    } catch (thrown) {
      if (signal?.aborted)
        return err(new ConveyorError(PKG, 'timeout', `${what} aborted`, { details: { url: displayUrl(url) } }));
      const timedOut = timeout.aborted;
      const why = timedOut
        ? `timed out after ${o.timeoutMs} ms`
        : `failed: ${thrown instanceof Error ? thrown.message : String(thrown)}${
            (thrown as { cause?: { code?: unknown } }).cause?.code
              ? ` (${String((thrown as { cause: { code: unknown } }).cause.code)})`
              : ''
          }`;
      last = new ConveyorError(PKG, timedOut ? 'timeout' : 'network', `${what} ${why}`, {
        cause: thrown,
        details: { url: displayUrl(url) },
      });
      if (!timedOut && permanentNetworkError(thrown)) break;
    }
    if (attempt < o.retries) {
      const jitter = 0.8 + Math.random() * 0.4;
      if (!(await abortableSleep(Math.round(waitMs * jitter), signal))) {
        return err(new ConveyorError(PKG, 'timeout', `${what} aborted`, { details: { url: displayUrl(url) } }));
      }
    }
  }
  return err(last ?? new ConveyorError(PKG, 'network', `${what} failed`, { details: { url: displayUrl(url) } }));
}

function parseBody(url: string, sent: Sent): Result<unknown, ConveyorError> {
  try {
    return ok(JSON.parse(sent.text) as unknown);
  } catch {
    return err(
      new ConveyorError(PKG, 'corrupt', `${displayUrl(url)} answered ${sent.status} with a body that is not JSON`, {
        details: { url: displayUrl(url) },
      }),
    );
  }
}

/**
 * Creates an OSV API client. `querybatch` is a query, so it is retried like a
 * GET: on 429 (honouring `Retry-After`), 5xx, timeouts and dropped
 * connections, with exponential backoff. Packages are sent in batches of at
 * most 1000 queries, and each result's `next_page_token` is followed (the
 * query is sent again with `page_token`) until every page is read.
 *
 * @example
 * ```ts
 * const osv = createOsvClient({ baseUrl: 'https://api.osv.dev', timeoutMs: 10_000 });
 * const ids = await osv.queryBatch([{ ecosystem: 'npm', name: 'lodash', version: '4.17.15' }]);
 * ```
 */
export function createOsvClient(options: OsvClientOptions = {}): OsvClient {
  const { url: cleanBase, headers: auth } = splitCredentials(options.baseUrl ?? 'https://api.osv.dev');
  const baseUrl = cleanBase.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? defaultFetch;
  const o = {
    timeoutMs: options.timeoutMs ?? OSV_DEFAULT_TIMEOUT_MS,
    retries: Math.max(0, options.retries ?? 2),
    backoffMs: Math.max(0, options.backoffMs ?? 500),
  };
  const batchSize = Math.min(OSV_MAX_BATCH, Math.max(1, options.batchSize ?? OSV_MAX_BATCH));
  const maxPages = Math.max(1, options.maxPages ?? 50);

  const postBatch = async (
    queries: readonly { pkg: LockedPackage; pageToken?: string }[],
    signal?: AbortSignal,
  ): Promise<Result<{ vulns: OsvVulnRef[]; next?: string }[], ConveyorError>> => {
    const url = `${baseUrl}/v1/querybatch`;
    const body = JSON.stringify({
      queries: queries.map((q) => ({
        package: { name: q.pkg.name, ecosystem: q.pkg.ecosystem },
        version: q.pkg.version,
        ...(q.pageToken === undefined ? {} : { page_token: q.pageToken }),
      })),
    });
    const sent = await sendWithRetries(fetchFn, url, { method: 'POST', body, headers: auth }, o, signal);
    if (!sent.ok) return err(sent.error);
    if (sent.value.status !== 200) {
      return err(
        new ConveyorError(PKG, 'api_refused', `POST ${displayUrl(url)} answered ${sent.value.status}`, {
          details: { url: displayUrl(url), status: sent.value.status },
        }),
      );
    }
    const doc = parseBody(url, sent.value);
    if (!doc.ok) return err(doc.error);
    const results = isRecord(doc.value) ? doc.value.results : undefined;
    if (!Array.isArray(results) || results.length !== queries.length) {
      return err(
        new ConveyorError(
          PKG,
          'corrupt',
          `OSV querybatch answered ${Array.isArray(results) ? results.length : 'no'} results for ${queries.length} queries`,
          { details: { url: displayUrl(url) } },
        ),
      );
    }
    const out: { vulns: OsvVulnRef[]; next?: string }[] = [];
    for (const r of results) {
      if (!isRecord(r))
        return err(new ConveyorError(PKG, 'corrupt', 'OSV querybatch answered a result that is not an object'));
      const vulns: OsvVulnRef[] = [];
      if (r.vulns !== undefined) {
        if (!Array.isArray(r.vulns))
          return err(new ConveyorError(PKG, 'corrupt', 'OSV querybatch answered `vulns` that is not a list'));
        for (const v of r.vulns) {
          if (!isRecord(v) || typeof v.id !== 'string' || v.id === '')
            return err(new ConveyorError(PKG, 'corrupt', 'OSV querybatch answered a vulnerability with no id'));
          vulns.push(typeof v.modified === 'string' ? { id: v.id, modified: v.modified } : { id: v.id });
        }
      }
      const next = typeof r.next_page_token === 'string' && r.next_page_token !== '' ? r.next_page_token : undefined;
      out.push(next === undefined ? { vulns } : { vulns, next });
    }
    return ok(out);
  };

  return Object.freeze({
    baseUrl,
    async queryBatch(pkgs: readonly LockedPackage[], signal?: AbortSignal) {
      const answers: OsvVulnRef[][] = pkgs.map(() => []);
      let pending: { index: number; pageToken?: string }[] = pkgs.map((_, index) => ({ index }));
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= maxPages) {
          return err(
            new ConveyorError(PKG, 'corrupt', `OSV querybatch still paging after ${maxPages} rounds`, {
              details: { baseUrl: displayUrl(baseUrl) },
            }),
          );
        }
        const next: { index: number; pageToken: string }[] = [];
        for (let at = 0; at < pending.length; at += batchSize) {
          const chunk = pending.slice(at, at + batchSize);
          const res = await postBatch(
            chunk.map((c) => ({
              pkg: pkgs[c.index] as LockedPackage,
              ...(c.pageToken === undefined ? {} : { pageToken: c.pageToken }),
            })),
            signal,
          );
          if (!res.ok) return err(res.error);
          res.value.forEach((r, i) => {
            const c = chunk[i] as { index: number };
            const list = answers[c.index] as OsvVulnRef[];
            for (const v of r.vulns) if (!list.some((x) => x.id === v.id)) list.push(v);
            if (r.next !== undefined) next.push({ index: c.index, pageToken: r.next });
          });
        }
        pending = next;
      }
      return ok(answers);
    },
    async getVuln(id: string, signal?: AbortSignal) {
      const url = `${baseUrl}/v1/vulns/${encodeURIComponent(id)}`;
      const sent = await sendWithRetries(fetchFn, url, { method: 'GET', headers: auth }, o, signal);
      if (!sent.ok) return err(sent.error);
      if (sent.value.status === 404) {
        return err(
          new ConveyorError(PKG, 'not_found', `OSV has no advisory ${id}`, { details: { url: displayUrl(url) } }),
        );
      }
      if (sent.value.status !== 200) {
        return err(
          new ConveyorError(PKG, 'api_refused', `GET ${displayUrl(url)} answered ${sent.value.status}`, {
            details: { url: displayUrl(url), status: sent.value.status },
          }),
        );
      }
      const doc = parseBody(url, sent.value);
      if (!doc.ok) return err(doc.error);
      if (!isRecord(doc.value) || doc.value.id !== id) {
        return err(
          new ConveyorError(PKG, 'corrupt', `GET ${displayUrl(url)} answered an advisory for another id`, {
            details: { url: displayUrl(url) },
          }),
        );
      }
      return ok(doc.value as unknown as OsvAdvisory);
    },
  });
}
