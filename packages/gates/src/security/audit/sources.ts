import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { execa } from 'execa';
import semver from 'semver';
import { EMBEDDED_ADVISORIES } from './embedded-advisories.js';
import type { AuditEcosystem, LockedPackage } from './lockfiles.js';
import { type OsvAdvisory, osvAffects } from './osv.js';
import { createOsvCache, type OsvCache } from './osv-cache.js';
import { type AuditFetch, createOsvClient, displayUrl, type OsvClientOptions, splitCredentials } from './osv-client.js';

export type { AuditFetch } from './osv-client.js';

const PKG = '@conveyor/gates';

/** One advisory that affects one queried package version. */
export interface AdvisoryMatch {
  readonly pkg: LockedPackage;
  /** the advisory id (GHSA, CVE, OSV id, npm advisory number…) */
  readonly id: string;
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly severity?: string;
  /** a version that fixes it, when known */
  readonly fixed?: string;
}

/**
 * Where advisories come from. `query` resolves to the advisories that affect
 * each given package version; any `err` means the feed could not be consulted
 * (the audit then passes with a loud warning, or fails when strict).
 *
 * @example
 * ```ts
 * const source: AdvisorySource = osvDirectorySource('/data/osv');
 * const found = await source.query([{ ecosystem: 'npm', name: 'minimist', version: '1.2.5' }]);
 * ```
 */
export interface AdvisorySource {
  /** shown in the report */
  readonly name: string;
  /** ecosystems this source can answer for */
  readonly ecosystems: readonly AuditEcosystem[];
  query(pkgs: readonly LockedPackage[], signal?: AbortSignal): Promise<Result<AdvisoryMatch[], ConveyorError>>;
  /** what this source knows, for the report (e.g. "a small embedded set") */
  readonly description?: string;
  /**
   * consulted when `query` fails; the audit still reports the failure as an
   * unreachable feed (strict mode fails) and names what was checked only
   * against the fallback
   */
  readonly fallback?: AdvisorySource;
}

function matchAll(advisories: readonly OsvAdvisory[], pkgs: readonly LockedPackage[]): AdvisoryMatch[] {
  const out: AdvisoryMatch[] = [];
  for (const pkg of pkgs) {
    for (const adv of advisories) {
      const hit = osvAffects(adv, pkg);
      if (!hit.affected) continue;
      const severity = adv.database_specific?.severity;
      const summary = adv.summary ?? adv.id;
      out.push({
        pkg,
        id: adv.id,
        aliases: adv.aliases ?? [],
        summary: hit.uncertain
          ? `${summary} (version ${pkg.version} cannot be compared with the advisory's ranges: treated as affected)`
          : summary,
        ...(typeof severity === 'string' ? { severity } : {}),
        ...(hit.fixed === undefined ? {} : { fixed: hit.fixed }),
      });
    }
  }
  return out;
}

/**
 * An advisory source over OSV advisories already in memory.
 *
 * @example
 * ```ts
 * const source = osvAdvisoriesSource('mine', [advisory]);
 * ```
 */
export function osvAdvisoriesSource(name: string, advisories: readonly OsvAdvisory[]): AdvisorySource {
  const list = Object.freeze([...advisories]);
  return Object.freeze({
    name,
    ecosystems: ['npm', 'PyPI'] as const,
    query: async (pkgs: readonly LockedPackage[]) => ok(matchAll(list, pkgs)),
  });
}

/**
 * Conveyor's embedded offline advisories: a small set of well-known CVEs
 * written in OSV format, far from the full advisory database. The OSV source
 * falls back to it when the API cannot be reached.
 *
 * @example
 * ```ts
 * const source = embeddedAdvisorySource();
 * ```
 */
export function embeddedAdvisorySource(): AdvisorySource {
  const names = [...new Set(EMBEDDED_ADVISORIES.flatMap((a) => (a.affected ?? []).map((x) => x.package?.name ?? '')))];
  return Object.freeze({
    ...osvAdvisoriesSource('embedded', EMBEDDED_ADVISORIES),
    description: `Conveyor's small embedded advisory set (${EMBEDDED_ADVISORIES.length} advisories, only for ${names.join(', ')}), not the full advisory database`,
  });
}

async function listJson(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listJson(p)));
    else if (entry.name.endsWith('.json')) out.push(p);
  }
  return out;
}

/**
 * An offline directory of OSV JSON advisories (one advisory per `.json` file,
 * searched recursively), read on every query so an updated mirror is seen.
 * An unreadable directory or file is an error (feed unreachable).
 *
 * @example
 * ```ts
 * const source = osvDirectorySource('/var/lib/osv/npm');
 * ```
 */
export function osvDirectorySource(dir: string): AdvisorySource {
  return Object.freeze({
    name: `osv-dir:${dir}`,
    ecosystems: ['npm', 'PyPI'] as const,
    query: async (pkgs: readonly LockedPackage[]): Promise<Result<AdvisoryMatch[], ConveyorError>> => {
      const advisories: OsvAdvisory[] = [];
      let files: string[];
      try {
        files = await listJson(dir);
      } catch (thrown) {
        return err(
          new ConveyorError(PKG, 'not_found', `OSV directory ${dir} cannot be read`, {
            cause: thrown,
            details: { dir },
          }),
        );
      }
      for (const f of files) {
        try {
          const doc = JSON.parse(await readFile(f, 'utf8')) as OsvAdvisory;
          if (typeof doc.id === 'string') advisories.push(doc);
        } catch (thrown) {
          return err(
            new ConveyorError(PKG, 'corrupt', `OSV advisory ${f} is not valid JSON`, {
              cause: thrown,
              details: { file: f },
            }),
          );
        }
      }
      return ok(matchAll(advisories, pkgs));
    },
  });
}

const defaultFetch: AuditFetch = (url, init) => fetch(url, init);

async function postJson(
  fetchFn: AuditFetch,
  url: string,
  body: unknown,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Result<unknown, ConveyorError>> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Awaited<ReturnType<AuditFetch>>;
  const target = splitCredentials(url);
  try {
    res = await fetchFn(target.url, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: combined,
    });
  } catch (thrown) {
    const code = timeout.aborted ? 'timeout' : 'network';
    return err(
      new ConveyorError(
        PKG,
        code,
        `POST ${displayUrl(url)} failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        {
          cause: thrown,
          details: { url },
        },
      ),
    );
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    return err(
      new ConveyorError(PKG, 'api_refused', `POST ${displayUrl(url)} answered ${res.status}`, {
        details: { url, status: res.status },
      }),
    );
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'corrupt', `POST ${displayUrl(url)} answered ${res.status} with a body that is not JSON`, {
        cause: thrown,
        details: { url },
      }),
    );
  }
}

/** Options of the online advisory sources. */
export interface OnlineSourceOptions {
  /** default: the public service */
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  readonly fetch?: AuditFetch;
}

/** Options of {@link osvApiSource}. */
export interface OsvApiSourceOptions extends OsvClientOptions {
  /** the on-disk cache; default {@link createOsvCache} in its default directory; `false`: none */
  readonly cache?: OsvCache | false;
  /** consulted when OSV cannot be reached; default the embedded set; `false`: none */
  readonly fallback?: AdvisorySource | false;
  /** advisory details fetched at once; default 8 */
  readonly detailConcurrency?: number;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The OSV API, the default advisory source: `POST /v1/querybatch` says which
 * advisories affect each package version (OSV evaluates the ranges), then
 * `GET /v1/vulns/{id}` brings each advisory's summary, severity and fixed
 * version. Answers are kept in an on-disk cache ({@link createOsvCache}), so
 * a version checked recently needs no network. When OSV cannot be reached the
 * query fails and the audit consults `fallback` (the embedded set by
 * default), reporting the feed as unreachable. A detail that cannot be
 * fetched still yields the match, with the id as its summary.
 *
 * @example
 * ```ts
 * const source = osvApiSource({ baseUrl: 'https://api.osv.dev', cache: createOsvCache({ dir: '/var/cache/osv' }) });
 * ```
 */
export function osvApiSource(options: OsvApiSourceOptions = {}): AdvisorySource {
  const client = createOsvClient(options);
  const cache = options.cache === false ? undefined : (options.cache ?? createOsvCache());
  const fallback = options.fallback === false ? undefined : (options.fallback ?? embeddedAdvisorySource());
  const concurrency = Math.max(1, options.detailConcurrency ?? 8);
  const query = async (
    pkgs: readonly LockedPackage[],
    signal?: AbortSignal,
  ): Promise<Result<AdvisoryMatch[], ConveyorError>> => {
    if (pkgs.length === 0) return ok([]);
    const refs = await Promise.all(pkgs.map((p) => (cache ? cache.getQuery(p) : Promise.resolve(undefined))));
    const missing = pkgs.filter((_, i) => refs[i] === undefined);
    if (missing.length > 0) {
      const answered = await client.queryBatch(missing, signal);
      if (!answered.ok) return err(answered.error);
      let k = 0;
      for (let i = 0; i < pkgs.length; i += 1) {
        if (refs[i] !== undefined) continue;
        refs[i] = answered.value[k] ?? [];
        k += 1;
      }
      if (cache) await Promise.all(missing.map((p, j) => cache.putQuery(p, answered.value[j] ?? [])));
    }
    const wanted = new Map<string, string | undefined>();
    for (const list of refs) for (const r of list ?? []) if (!wanted.has(r.id)) wanted.set(r.id, r.modified);
    const details = new Map<string, OsvAdvisory>();
    await mapLimit([...wanted], concurrency, async ([id, modified]) => {
      const cached = cache ? await cache.getVuln(id, modified) : undefined;
      if (cached) {
        details.set(id, cached);
        return;
      }
      const got = await client.getVuln(id, signal);
      if (!got.ok) return; // the match stands on querybatch's word; only the summary is missing
      details.set(id, got.value);
      if (cache) await cache.putVuln(got.value);
    });
    const out: AdvisoryMatch[] = [];
    pkgs.forEach((pkg, i) => {
      for (const r of refs[i] ?? []) {
        const adv = details.get(r.id);
        const severity = adv?.database_specific?.severity;
        const fixed = adv ? osvAffects(adv, pkg).fixed : undefined;
        out.push({
          pkg,
          id: r.id,
          aliases: adv?.aliases ?? [],
          summary: adv ? (adv.summary ?? r.id) : `${r.id} (details unavailable from OSV)`,
          ...(typeof severity === 'string' ? { severity } : {}),
          ...(fixed === undefined ? {} : { fixed }),
        });
      }
    });
    return ok(out);
  };
  return Object.freeze({
    name: `osv-api:${displayUrl(client.baseUrl)}`,
    ecosystems: ['npm', 'PyPI'] as const,
    description: 'the OSV advisory database',
    query,
    ...(fallback ? { fallback } : {}),
  });
}

/**
 * The OSV API with no cache and no fallback.
 *
 * @deprecated use {@link osvApiSource}, which caches and falls back to the embedded set
 * @example
 * ```ts
 * const source = osvBatchSource({ baseUrl: 'https://api.osv.dev' });
 * ```
 */
export function osvBatchSource(options: OnlineSourceOptions = {}): AdvisorySource {
  return osvApiSource({ ...options, retries: 0, cache: false, fallback: false });
}

/**
 * The npm registry's bulk advisory endpoint
 * (`POST /-/npm/v1/security/advisories/bulk`, body `{ name: [versions] }`);
 * each answered advisory's `vulnerable_versions` is checked with semver.
 *
 * @example
 * ```ts
 * const source = npmBulkAdvisorySource({ baseUrl: 'https://registry.npmjs.org' });
 * ```
 */
export function npmBulkAdvisorySource(options: OnlineSourceOptions = {}): AdvisorySource {
  const base = (options.baseUrl ?? 'https://registry.npmjs.org').replace(/\/+$/, '');
  const fetchFn = options.fetch ?? defaultFetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return Object.freeze({
    name: `npm-bulk:${displayUrl(base)}`,
    ecosystems: ['npm'] as const,
    query: async (
      pkgs: readonly LockedPackage[],
      signal?: AbortSignal,
    ): Promise<Result<AdvisoryMatch[], ConveyorError>> => {
      const npm = pkgs.filter((p) => p.ecosystem === 'npm');
      if (npm.length === 0) return ok([]);
      const body: Record<string, string[]> = {};
      for (const p of npm) {
        const list = body[p.name] ?? [];
        list.push(p.version);
        body[p.name] = list;
      }
      const res = await postJson(fetchFn, `${base}/-/npm/v1/security/advisories/bulk`, body, timeoutMs, signal);
      if (!res.ok) return err(res.error);
      if (typeof res.value !== 'object' || res.value === null) {
        return err(new ConveyorError(PKG, 'corrupt', 'npm bulk advisories answered a body that is not an object'));
      }
      const out: AdvisoryMatch[] = [];
      for (const p of npm) {
        const list = (res.value as Record<string, unknown>)[p.name];
        if (!Array.isArray(list)) continue;
        for (const a of list) {
          const adv = a as {
            id?: unknown;
            url?: unknown;
            title?: unknown;
            severity?: unknown;
            vulnerable_versions?: unknown;
          };
          const range = typeof adv.vulnerable_versions === 'string' ? adv.vulnerable_versions : '';
          if (range === '' || !semver.satisfies(p.version, range, { loose: true, includePrerelease: true })) continue;
          out.push({
            pkg: p,
            id: typeof adv.url === 'string' ? (adv.url.split('/').pop() ?? String(adv.id)) : String(adv.id),
            aliases: [],
            summary: typeof adv.title === 'string' ? adv.title : String(adv.id),
            ...(typeof adv.severity === 'string' ? { severity: adv.severity } : {}),
          });
        }
      }
      return ok(out);
    },
  });
}

/** Options of {@link pipAuditSource}. */
export interface PipAuditSourceOptions {
  /** the pip-audit executable; default `pip-audit` on PATH */
  readonly command?: string;
  readonly args?: readonly string[];
  readonly timeoutMs?: number;
}

/**
 * Runs `pip-audit` on the PyPI packages (a temporary requirements file,
 * `--no-deps --disable-pip --format json`). A missing binary, a timeout or
 * output that is not its JSON report is an error (feed unreachable).
 *
 * @example
 * ```ts
 * const source = pipAuditSource({ command: '/usr/local/bin/pip-audit' });
 * ```
 */
export function pipAuditSource(options: PipAuditSourceOptions = {}): AdvisorySource {
  const command = options.command ?? 'pip-audit';
  return Object.freeze({
    name: `pip-audit:${command}`,
    ecosystems: ['PyPI'] as const,
    query: async (
      pkgs: readonly LockedPackage[],
      signal?: AbortSignal,
    ): Promise<Result<AdvisoryMatch[], ConveyorError>> => {
      const py = pkgs.filter((p) => p.ecosystem === 'PyPI');
      if (py.length === 0) return ok([]);
      const dir = await mkdtemp(join(tmpdir(), 'conveyor-pip-audit-'));
      try {
        const req = join(dir, 'requirements.txt');
        await writeFile(req, `${py.map((p) => `${p.name}==${p.version}`).join('\n')}\n`);
        const run = await execa(
          command,
          [
            '-r',
            req,
            '--no-deps',
            '--disable-pip',
            '--format',
            'json',
            '--progress-spinner',
            'off',
            ...(options.args ?? []),
          ],
          {
            reject: false,
            timeout: options.timeoutMs ?? 120_000,
            ...(signal ? { cancelSignal: signal } : {}),
          },
        );
        if (run.failed && run.exitCode === undefined) {
          return err(
            new ConveyorError(
              PKG,
              run.timedOut ? 'timeout' : 'process_failed',
              `pip-audit could not run (${command}): ${run.shortMessage}`,
              { details: { command } },
            ),
          );
        }
        if (run.exitCode !== 0 && run.exitCode !== 1) {
          return err(
            new ConveyorError(PKG, 'process_failed', `pip-audit exited ${run.exitCode}`, {
              details: { command, exitCode: run.exitCode },
            }),
          );
        }
        let doc: unknown;
        try {
          doc = JSON.parse(String(run.stdout));
        } catch (thrown) {
          return err(
            new ConveyorError(PKG, 'corrupt', 'pip-audit printed output that is not its JSON report', {
              cause: thrown,
            }),
          );
        }
        const deps = (doc as { dependencies?: unknown }).dependencies;
        if (!Array.isArray(deps))
          return err(new ConveyorError(PKG, 'corrupt', 'pip-audit report has no dependencies list'));
        const out: AdvisoryMatch[] = [];
        for (const d of deps) {
          const dep = d as { name?: unknown; version?: unknown; vulns?: unknown };
          const pkg = py.find(
            (p) =>
              p.name ===
                String(dep.name)
                  .toLowerCase()
                  .replace(/[-_.]+/g, '-') && p.version === dep.version,
          );
          if (!pkg || !Array.isArray(dep.vulns)) continue;
          for (const v of dep.vulns) {
            const vv = v as { id?: unknown; aliases?: unknown; description?: unknown; fix_versions?: unknown };
            const fixed =
              Array.isArray(vv.fix_versions) && typeof vv.fix_versions[0] === 'string' ? vv.fix_versions[0] : undefined;
            out.push({
              pkg,
              id: String(vv.id),
              aliases: Array.isArray(vv.aliases) ? vv.aliases.map(String) : [],
              summary:
                typeof vv.description === 'string' ? (vv.description.split('\n')[0] ?? String(vv.id)) : String(vv.id),
              ...(fixed === undefined ? {} : { fixed }),
            });
          }
        }
        return ok(out);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  });
}
