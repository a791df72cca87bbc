import type { ConveyorError, Result } from '@conveyor/core';
import { err, ok } from '@conveyor/core';
import { readFileAt, runGit } from '../git-range.js';
import { diffLockedPackages, LOCKFILE_NAMES, type LockedPackage, parseLockfile } from './lockfiles.js';
import { type AdvisoryMatch, type AdvisorySource, embeddedAdvisorySource } from './sources.js';

/** A vulnerable package the task's lockfile changes bring (or keep). */
export interface DependencyVulnerability extends AdvisoryMatch {
  readonly lockfile: string;
  /** `introduced` by the task (a failure) or `inherited` from the merge base (a warning) */
  readonly status: 'introduced' | 'inherited';
  readonly source: string;
}

/** What {@link auditDependencies} found. */
export interface DependencyAuditResult {
  /** lockfiles present at HEAD that were compared */
  readonly lockfiles: readonly string[];
  /** packages added or changed by the task */
  readonly changed: readonly LockedPackage[];
  readonly vulnerabilities: readonly DependencyVulnerability[];
  /** one line per feed that could not be consulted */
  readonly unreachable: readonly string[];
  readonly durationMs: number;
}

/** Options of {@link auditDependencies}. */
export interface AuditDependenciesOptions {
  readonly repoDir: string;
  /** the merge base of the task branch and main */
  readonly baseSha: string;
  readonly headSha: string;
  /** default: the embedded offline advisories */
  readonly sources?: readonly AdvisorySource[];
  readonly signal?: AbortSignal;
}

/**
 * Compares every lockfile between the merge base and HEAD and checks only the
 * packages the task added or changed against the advisory sources. A package
 * whose merge-base version was already affected by the same advisory is
 * `inherited` (a warning), otherwise `introduced` (a failure). A source that
 * cannot be consulted is listed in `unreachable`; the caller decides between
 * fail-open and strict.
 *
 * @example
 * ```ts
 * const audit = await auditDependencies({ repoDir, baseSha: range.mergeBaseSha, headSha: range.headSha });
 * ```
 */
export async function auditDependencies(
  options: AuditDependenciesOptions,
): Promise<Result<DependencyAuditResult, ConveyorError>> {
  const t0 = performance.now();
  const sources = options.sources ?? [embeddedAdvisorySource()];
  const tree = await runGit(options.repoDir, ['ls-tree', '-r', '-z', '--name-only', options.headSha]);
  if (!tree.ok) return err(tree.error);
  const lockfiles = tree.value
    .split('\0')
    .filter((p) => p !== '' && !p.includes('node_modules/') && LOCKFILE_NAMES.includes(p.split('/').pop() ?? ''));

  const changed: (LockedPackage & { lockfile: string })[] = [];
  const baseByName = new Map<string, LockedPackage[]>();
  for (const file of lockfiles) {
    const [before, after] = await Promise.all([
      readFileAt(options.repoDir, options.baseSha, file),
      readFileAt(options.repoDir, options.headSha, file),
    ]);
    if (!before.ok) return err(before.error);
    if (!after.ok) return err(after.error);
    if (after.value === undefined || before.value === after.value) continue;
    const headPkgs = parseLockfile(file, after.value);
    if (!headPkgs.ok) return err(headPkgs.error);
    let basePkgs: LockedPackage[] = [];
    if (before.value !== undefined) {
      const parsed = parseLockfile(file, before.value);
      if (!parsed.ok) return err(parsed.error);
      basePkgs = parsed.value;
    }
    for (const p of diffLockedPackages(basePkgs, headPkgs.value)) changed.push({ ...p, lockfile: file });
    for (const p of basePkgs) {
      const key = `${file}\u0000${p.ecosystem}\u0000${p.name}`;
      baseByName.set(key, [...(baseByName.get(key) ?? []), p]);
    }
  }

  const baseVersions = (p: LockedPackage & { lockfile: string }) =>
    baseByName.get(`${p.lockfile}\u0000${p.ecosystem}\u0000${p.name}`) ?? [];
  const vulnerabilities: DependencyVulnerability[] = [];
  const unreachable: string[] = [];
  for (const source of sources) {
    const mine = changed.filter((p) => source.ecosystems.includes(p.ecosystem));
    if (mine.length === 0) continue;
    const olds = mine.flatMap(baseVersions);
    const queries = dedupe([...mine, ...olds]);
    const res = await source.query(queries, options.signal);
    if (!res.ok) {
      unreachable.push(`${source.name}: ${res.error.message}`);
      continue;
    }
    for (const p of mine) {
      const hits = res.value.filter((m) => samePkg(m.pkg, p));
      for (const hit of hits) {
        const inherited = baseVersions(p).some((old) => res.value.some((m) => samePkg(m.pkg, old) && m.id === hit.id));
        vulnerabilities.push({
          ...hit,
          pkg: { ecosystem: p.ecosystem, name: p.name, version: p.version },
          lockfile: p.lockfile,
          status: inherited ? 'inherited' : 'introduced',
          source: source.name,
        });
      }
    }
  }
  return ok({
    lockfiles,
    changed: changed.map(({ lockfile: _l, ...p }) => p),
    vulnerabilities: dedupeVulns(vulnerabilities),
    unreachable,
    durationMs: Math.round(performance.now() - t0),
  });
}

function samePkg(a: LockedPackage, b: LockedPackage): boolean {
  return a.ecosystem === b.ecosystem && a.name === b.name && a.version === b.version;
}

function dedupe(pkgs: readonly LockedPackage[]): LockedPackage[] {
  const seen = new Set<string>();
  const out: LockedPackage[] = [];
  for (const p of pkgs) {
    const k = `${p.ecosystem}\u0000${p.name}\u0000${p.version}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ ecosystem: p.ecosystem, name: p.name, version: p.version });
  }
  return out;
}

function dedupeVulns(list: readonly DependencyVulnerability[]): DependencyVulnerability[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    const k = `${v.lockfile}\u0000${v.pkg.name}\u0000${v.pkg.version}\u0000${v.id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
