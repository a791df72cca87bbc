import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { execa } from 'execa';
import semver from 'semver';
import { EMBEDDED_ADVISORIES } from './embedded-advisories.js';
import type { AuditEcosystem, LockedPackage } from './lockfiles.js';
import { type OsvAdvisory, osvAffects } from './osv.js';

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
}

/** The `fetch` subset the online sources use; pass your own to add a proxy or logging. */
export type AuditFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ status: number; ok: boolean; text(): Promise<string> }>;

function matchAll(advisories: readonly OsvAdvisory[], pkgs: readonly LockedPackage[]): AdvisoryMatch[] {
  const out: AdvisoryMatch[] = [];
  for (const pkg of pkgs) {
    for (const adv of advisories) {
      const hit = osvAffects(adv, pkg);
      if (!hit.affected) continue;
      const severity = adv.database_specific?.severity;
      out.push({
        pkg,
        id: adv.id,
        aliases: adv.aliases ?? [],
        summary: adv.summary ?? adv.id,
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

/** Conveyor's embedded offline advisories (a small set written in OSV format); the default source. */
export function embeddedAdvisorySource(): AdvisorySource {
  return osvAdvisoriesSource('embedded', EMBEDDED_ADVISORIES);
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
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: combined,
    });
  } catch (thrown) {
    const code = timeout.aborted ? 'timeout' : 'network';
    return err(
      new ConveyorError(PKG, code, `POST ${url} failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`, {
        cause: thrown,
        details: { url },
      }),
    );
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    return err(
      new ConveyorError(PKG, 'api_refused', `POST ${url} answered ${res.status}`, {
        details: { url, status: res.status },
      }),
    );
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'corrupt', `POST ${url} answered ${res.status} with a body that is not JSON`, {
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

/**
 * The OSV batch query API (`POST /v1/querybatch`): OSV itself evaluates the
 * ranges and answers the ids of the advisories per package version.
 *
 * @example
 * ```ts
 * const source = osvBatchSource({ baseUrl: 'https://api.osv.dev' });
 * ```
 */
export function osvBatchSource(options: OnlineSourceOptions = {}): AdvisorySource {
  const base = (options.baseUrl ?? 'https://api.osv.dev').replace(/\/+$/, '');
  const fetchFn = options.fetch ?? defaultFetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return Object.freeze({
    name: `osv-api:${base}`,
    ecosystems: ['npm', 'PyPI'] as const,
    query: async (
      pkgs: readonly LockedPackage[],
      signal?: AbortSignal,
    ): Promise<Result<AdvisoryMatch[], ConveyorError>> => {
      if (pkgs.length === 0) return ok([]);
      const queries = pkgs.map((p) => ({ package: { name: p.name, ecosystem: p.ecosystem }, version: p.version }));
      const res = await postJson(fetchFn, `${base}/v1/querybatch`, { queries }, timeoutMs, signal);
      if (!res.ok) return err(res.error);
      const results = (res.value as { results?: unknown }).results;
      if (!Array.isArray(results) || results.length !== pkgs.length) {
        return err(
          new ConveyorError(
            PKG,
            'corrupt',
            `OSV querybatch answered ${Array.isArray(results) ? results.length : 'no'} results for ${pkgs.length} queries`,
          ),
        );
      }
      const out: AdvisoryMatch[] = [];
      results.forEach((r: unknown, i: number) => {
        const pkg = pkgs[i] as LockedPackage;
        const vulns = (r as { vulns?: unknown } | null)?.vulns;
        if (!Array.isArray(vulns)) return;
        for (const v of vulns) {
          const id = (v as { id?: unknown }).id;
          if (typeof id === 'string') out.push({ pkg, id, aliases: [], summary: id });
        }
      });
      return ok(out);
    },
  });
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
    name: `npm-bulk:${base}`,
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
