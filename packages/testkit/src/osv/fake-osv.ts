import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeHttpServer, type FakeReply, type RecordedRequest, startFakeHttpServer } from '../http/fake-server.js';

/** The part of an OSV advisory the fake reads (the whole record is served as stored). */
export interface FakeOsvAdvisory {
  readonly id: string;
  readonly modified?: string;
  readonly withdrawn?: string;
  readonly affected?: readonly {
    readonly package?: { readonly ecosystem?: string; readonly name?: string };
    readonly ranges?: readonly {
      readonly type: string;
      readonly events: readonly Readonly<Record<string, string>>[];
    }[];
    readonly versions?: readonly string[];
  }[];
  readonly [key: string]: unknown;
}

/** One package-version query as the fake received it. */
export interface FakeOsvQuery {
  readonly ecosystem: string;
  readonly name: string;
  readonly version: string;
}

/** Options of {@link startFakeOsv}. */
export interface FakeOsvOptions {
  /** the advisories served (OSV JSON records); more can be added with `add` */
  readonly advisories?: readonly FakeOsvAdvisory[];
  /** vulns per query result before `next_page_token` is set; default 1000 (no paging in practice) */
  readonly pageSize?: number;
  /** decides whether an advisory affects a query; default the fake's own OSV range evaluation */
  readonly matches?: (advisory: FakeOsvAdvisory, query: FakeOsvQuery) => boolean;
}

/** A running fake of the OSV API on 127.0.0.1. */
export interface FakeOsv extends FakeHttpServer {
  /** adds (or replaces, by id) an advisory */
  add(advisory: FakeOsvAdvisory): void;
  /** the `querybatch` requests received (their query lists) */
  readonly batches: () => readonly (readonly FakeOsvQuery[])[];
  /** the ids asked for with `GET /v1/vulns/{id}` */
  readonly detailRequests: () => readonly string[];
}

/** The OSV API's own limit on the queries of one `querybatch`. */
const MAX_QUERIES = 1000;

// --- the fake's own version ordering: independent of the code under test ---

function splitVersion(v: string): { release: number[]; pre: string | undefined } {
  const clean = v.trim().replace(/^v/i, '').split('+')[0] ?? '';
  const m = /^(\d+(?:\.\d+)*)(.*)$/.exec(clean);
  if (!m) return { release: [], pre: clean };
  const release = (m[1] ?? '').split('.').map(Number);
  const rest = (m[2] ?? '').replace(/^[-.]/, '');
  // PyPI post-releases sort after the release; treat them as a larger release part
  if (/^post\d*$/.test(rest)) return { release: [...release, 0, Number(rest.slice(4) || 0) + 1], pre: undefined };
  return { release, pre: rest === '' ? undefined : rest };
}

function comparePre(a: string, b: string): number {
  const pa = a.split(/[.]/);
  const pb = b.split(/[.]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : undefined;
    const ny = /^\d+$/.test(y) ? Number(y) : undefined;
    if (nx !== undefined && ny !== undefined) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (nx !== undefined) return -1;
    else if (ny !== undefined) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Orders two versions: numeric release parts, then a pre-release before its release. */
export function fakeOsvCompareVersions(a: string, b: string): number {
  if (a === '0') return b === '0' ? 0 : -1;
  if (b === '0') return 1;
  const va = splitVersion(a);
  const vb = splitVersion(b);
  for (let i = 0; i < Math.max(va.release.length, vb.release.length); i += 1) {
    const x = va.release[i] ?? 0;
    const y = vb.release[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  if (va.pre === undefined) return vb.pre === undefined ? 0 : 1;
  if (vb.pre === undefined) return -1;
  return comparePre(va.pre, vb.pre);
}

function inRange(events: readonly Readonly<Record<string, string>>[], version: string): boolean {
  const sorted = [...events]
    .map((e) => ({ kind: Object.keys(e)[0] ?? '', v: Object.values(e)[0] ?? '' }))
    .filter((e) => e.v !== '')
    .sort((x, y) => fakeOsvCompareVersions(x.v, y.v));
  let affected = false;
  for (const e of sorted) {
    const c = fakeOsvCompareVersions(e.v, version);
    if (e.kind === 'introduced' && c <= 0) affected = true;
    else if ((e.kind === 'fixed' || e.kind === 'limit') && c <= 0) affected = false;
    else if (e.kind === 'last_affected' && c < 0) affected = false;
  }
  return affected;
}

const normalize = (ecosystem: string, name: string) =>
  ecosystem === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;

/** The fake's default matcher: OSV's `affected` semantics (versions list, ECOSYSTEM/SEMVER ranges). */
export function fakeOsvMatches(advisory: FakeOsvAdvisory, q: FakeOsvQuery): boolean {
  if (advisory.withdrawn) return false;
  return (advisory.affected ?? []).some((a) => {
    if (a.package?.ecosystem !== q.ecosystem) return false;
    if (normalize(q.ecosystem, a.package?.name ?? '') !== normalize(q.ecosystem, q.name)) return false;
    if ((a.versions ?? []).includes(q.version)) return true;
    return (a.ranges ?? []).some(
      (r) => (r.type === 'ECOSYSTEM' || r.type === 'SEMVER') && inRange(r.events, q.version),
    );
  });
}

/**
 * Reads every `*.json` OSV record of a folder (e.g. the shared fixtures'
 * `osv/`), or `[]` when the folder is absent.
 *
 * @example
 * ```ts
 * const advisories = loadOsvAdvisories(join(sharedFixturesDir() ?? '', 'osv'));
 * ```
 */
export function loadOsvAdvisories(dir: string): FakeOsvAdvisory[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FakeOsvAdvisory);
}

const osvError = (status: number, code: number, message: string): FakeReply => ({ status, body: { code, message } });

/**
 * Starts a fake of the OSV API (`https://api.osv.dev`) on 127.0.0.1, port 0,
 * following its schema: `POST /v1/querybatch` answers, per query,
 * `{ vulns: [{ id, modified }], next_page_token? }` (an empty object when
 * nothing matches; a query sent again with `page_token` gets the next page),
 * refuses more than 1000 queries or a query with no package/version with 400;
 * `GET /v1/vulns/{id}` answers the stored record or 404. Faults (5xx, 429,
 * drops, slow answers) are injected as on every testkit fake.
 *
 * @example
 * ```ts
 * const osv = await startFakeOsv({ advisories: loadOsvAdvisories('/fixtures/osv') });
 * osv.inject({ kind: 'status', status: 500, path: '/v1/querybatch' });
 * // ... point the client at osv.url ...
 * await osv.close();
 * ```
 */
export async function startFakeOsv(options: FakeOsvOptions = {}): Promise<FakeOsv> {
  const store = new Map<string, FakeOsvAdvisory>();
  for (const a of options.advisories ?? []) store.set(a.id, a);
  const pageSize = Math.max(1, options.pageSize ?? 1000);
  const matches = options.matches ?? fakeOsvMatches;
  const batches: FakeOsvQuery[][] = [];
  const details: string[] = [];

  const querybatch = (req: RecordedRequest): FakeReply => {
    const body = req.json as { queries?: unknown } | undefined;
    if (!body || !Array.isArray(body.queries)) return osvError(400, 3, 'Invalid request: missing queries');
    if (body.queries.length > MAX_QUERIES) return osvError(400, 3, 'Too many queries.');
    const parsed: { q: FakeOsvQuery; offset: number }[] = [];
    for (const raw of body.queries as unknown[]) {
      const q = raw as { package?: { name?: unknown; ecosystem?: unknown }; version?: unknown; page_token?: unknown };
      if (
        typeof q.package?.name !== 'string' ||
        typeof q.package.ecosystem !== 'string' ||
        typeof q.version !== 'string'
      )
        return osvError(400, 3, 'Invalid query: package name, ecosystem and version are required');
      let offset = 0;
      if (q.page_token !== undefined) {
        offset = Number(Buffer.from(String(q.page_token), 'base64url').toString('utf8'));
        if (!Number.isInteger(offset) || offset < 0) return osvError(400, 3, 'Invalid page token');
      }
      parsed.push({ q: { ecosystem: q.package.ecosystem, name: q.package.name, version: q.version }, offset });
    }
    batches.push(parsed.map((p) => p.q));
    const results = parsed.map(({ q, offset }) => {
      const hits = [...store.values()].filter((a) => matches(a, q));
      const page = hits.slice(offset, offset + pageSize);
      const out: Record<string, unknown> = {};
      if (page.length > 0) out.vulns = page.map((a) => ({ id: a.id, ...(a.modified ? { modified: a.modified } : {}) }));
      if (offset + pageSize < hits.length)
        out.next_page_token = Buffer.from(String(offset + pageSize), 'utf8').toString('base64url');
      return out;
    });
    return { status: 200, body: { results } };
  };

  const server = await startFakeHttpServer((req) => {
    if (req.method === 'POST' && req.path === '/v1/querybatch') return querybatch(req);
    const m = /^\/v1\/vulns\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && m?.[1]) {
      const id = decodeURIComponent(m[1]);
      details.push(id);
      const adv = store.get(id);
      return adv ? { status: 200, body: adv } : osvError(404, 5, 'Bug not found.');
    }
    return undefined;
  });

  return {
    get url() {
      return server.url;
    },
    requests: server.requests,
    inject: (fault) => server.inject(fault),
    reset: () => {
      server.reset();
      batches.length = 0;
      details.length = 0;
    },
    close: () => server.close(),
    add: (advisory) => {
      store.set(advisory.id, advisory);
    },
    batches: () => batches,
    detailRequests: () => details,
  };
}
