import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { runGit } from '../git-text.js';
import {
  type AuditEcosystem,
  diffLockedPackages,
  isAuditedLockfile,
  type LockedPackage,
  parseLockfile,
  unauditedLockfileEcosystem,
  unpinnedRequirements,
} from './lockfiles.js';
import { type AdvisoryMatch, type AdvisorySource, embeddedAdvisorySource } from './sources.js';

const PKG = '@conveyor/gates';

/** A vulnerable package the task's lockfile changes bring (or keep). */
export interface DependencyVulnerability extends AdvisoryMatch {
  readonly lockfile: string;
  /** `introduced` by the task (a failure) or `inherited` from the merge base (a warning) */
  readonly status: 'introduced' | 'inherited';
  readonly source: string;
}

/** What {@link auditDependencies} found. */
export interface DependencyAuditResult {
  /** lockfiles the audit reads that are present at HEAD */
  readonly lockfiles: readonly string[];
  /** packages added or changed by the task */
  readonly changed: readonly LockedPackage[];
  readonly vulnerabilities: readonly DependencyVulnerability[];
  /**
   * one line per check that did not happen: a feed that could not be
   * consulted (and the fallback used instead), an ecosystem no source covers,
   * a changed lockfile of an ecosystem the audit does not read. Each names the
   * lockfiles concerned. The caller passes with a loud warning or fails (strict).
   */
  readonly unreachable: readonly string[];
  /** what the audit noticed that decides nothing (a merge-base lockfile it could not parse) */
  readonly warnings: readonly string[];
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

interface TreeEntry {
  readonly mode: string;
  readonly oid: string;
}

async function listTree(
  repoDir: string,
  sha: string,
  signal?: AbortSignal,
): Promise<Result<Map<string, TreeEntry>, ConveyorError>> {
  const res = await runGit(repoDir, ['ls-tree', '-r', '-z', '--full-tree', sha], signal ? { signal } : {});
  if (!res.ok) return err(res.error);
  const out = new Map<string, TreeEntry>();
  for (const line of res.value.split('\0')) {
    const tab = line.indexOf('\t');
    if (tab === -1) continue;
    const [mode = '', type = '', oid = ''] = line.slice(0, tab).split(' ');
    if (type === 'blob') out.set(line.slice(tab + 1), { mode, oid });
  }
  return ok(out);
}

type Changed = LockedPackage & { readonly lockfile: string };

const MAX_LISTED = 8;

function listPackages(pkgs: readonly LockedPackage[]): string {
  const shown = pkgs.slice(0, MAX_LISTED).map((p) => `${p.name}@${p.version}`);
  const more = pkgs.length > MAX_LISTED ? `, and ${pkgs.length - MAX_LISTED} more` : '';
  return `${shown.join(', ')}${more}`;
}

/** "2 changed npm package(s) in yarn.lock, web/package-lock.json (lodash@4.17.15, qs@6.2.3)" */
function describeUnchecked(pkgs: readonly Changed[]): string {
  const ecosystems = [...new Set(pkgs.map((p) => p.ecosystem))].join('/');
  const files = [...new Set(pkgs.map((p) => p.lockfile))].join(', ');
  return `${pkgs.length} changed ${ecosystems} package(s) in ${files} (${listPackages(pkgs)})`;
}

/**
 * Compares every lockfile between the merge base and HEAD and checks only the
 * packages the task added or changed against the advisory sources. A package
 * whose merge-base version was already affected by the same advisory is
 * `inherited` (a warning), otherwise `introduced` (a failure).
 *
 * The audit admits what it did not check: a source that cannot be consulted,
 * an ecosystem of changed packages that no source covers, and a changed
 * lockfile of an ecosystem it does not read each add an `unreachable` line
 * naming the files; the caller passes with a loud warning or fails (strict).
 * A source with a `fallback` (OSV → the embedded set) still counts as
 * unreachable, and the line says what was checked only against the fallback.
 * A lockfile at HEAD that does not parse (or is a symlink) is an error naming
 * the file: the gate fails closed rather than skip it.
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
  const [headTree, baseTree] = await Promise.all([
    listTree(options.repoDir, options.headSha, options.signal),
    listTree(options.repoDir, options.baseSha, options.signal),
  ]);
  if (!headTree.ok) return err(headTree.error);
  if (!baseTree.ok) return err(baseTree.error);

  const unreachable: string[] = [];
  const warnings: string[] = [];
  const lockfiles: string[] = [];
  const changed: Changed[] = [];
  const baseByName = new Map<string, LockedPackage[]>();
  const read = async (oid: string) =>
    runGit(options.repoDir, ['cat-file', 'blob', oid], options.signal ? { signal: options.signal } : {});

  for (const [file, head] of headTree.value) {
    const base = baseTree.value.get(file);
    const unaudited = unauditedLockfileEcosystem(file);
    if (unaudited !== undefined) {
      if (base?.oid !== head.oid) {
        unreachable.push(
          `${file} changed, but the audit reads no ${unaudited} lockfiles: its dependency changes were not checked`,
        );
      }
      continue;
    }
    if (!isAuditedLockfile(file)) continue;
    lockfiles.push(file);
    if (base?.oid === head.oid && base.mode === head.mode) continue;
    if (head.mode === '120000') {
      return err(
        new ConveyorError(
          PKG,
          'corrupt',
          `lockfile ${file} is a symbolic link: the audit reads lockfiles as stored, not through links`,
          {
            details: { file },
          },
        ),
      );
    }
    const after = await read(head.oid);
    if (!after.ok) return err(after.error);
    const headPkgs = parseLockfile(file, after.value);
    if (!headPkgs.ok) return err(headPkgs.error);
    let basePkgs: LockedPackage[] = [];
    if (base !== undefined && base.mode !== '120000') {
      const before = await read(base.oid);
      if (!before.ok) return err(before.error);
      const parsed = parseLockfile(file, before.value);
      if (parsed.ok) basePkgs = parsed.value;
      else
        warnings.push(
          `${file} at the merge base cannot be parsed (${parsed.error.message}): every package of the branch's version is treated as new`,
        );
    }
    if (/^requirements[\w.-]*\.txt$/.test(file.split('/').pop() ?? '')) {
      const before = base === undefined ? undefined : await read(base.oid);
      const was = new Set(before?.ok ? unpinnedRequirements(before.value) : []);
      const added = unpinnedRequirements(after.value).filter((n) => !was.has(n));
      if (added.length > 0) {
        const shown =
          added.slice(0, MAX_LISTED).join(', ') +
          (added.length > MAX_LISTED ? `, and ${added.length - MAX_LISTED} more` : '');
        unreachable.push(
          `${file} adds ${added.length} requirement(s) not pinned with == (${shown}): the versions an install resolves were not checked`,
        );
      }
    }
    for (const p of diffLockedPackages(basePkgs, headPkgs.value)) changed.push({ ...p, lockfile: file });
    for (const p of basePkgs) {
      const key = `${file}\u0000${p.ecosystem}\u0000${p.name}`;
      baseByName.set(key, [...(baseByName.get(key) ?? []), p]);
    }
  }

  // a lockfile the branch deletes no longer pins what gets installed
  for (const file of baseTree.value.keys()) {
    if (headTree.value.has(file)) continue;
    if (isAuditedLockfile(file) || unauditedLockfileEcosystem(file) !== undefined) {
      unreachable.push(
        `${file} was removed by the branch: what the install resolves without it was not checked (keep or regenerate the lockfile)`,
      );
    }
  }
  // dependencies declared in a package.json that no lockfile pins are resolved at install time, unchecked
  for (const [file, head] of headTree.value) {
    if (file.split('/').pop() !== 'package.json' || file.split('/').includes('node_modules')) continue;
    const base = baseTree.value.get(file);
    if (base?.oid === head.oid) continue;
    if (npmLockfileCovers(file, headTree.value)) continue;
    const after = await read(head.oid);
    if (!after.ok) return err(after.error);
    const before = base ? await read(base.oid) : undefined;
    if (before && !before.ok) return err(before.error);
    const was = before ? declaredDependencies(before.value) : '{}';
    const now = declaredDependencies(after.value);
    if (now !== was && now !== '{}') {
      unreachable.push(
        `${file} changed its dependencies, but no npm-shrinkwrap.json, package-lock.json, yarn.lock, pnpm-lock.yaml or bun.lock pins them: the versions an install resolves were not checked`,
      );
    }
  }

  const covered = new Set<AuditEcosystem>(sources.flatMap((s) => s.ecosystems));
  const uncoveredByEco = new Map<AuditEcosystem, Changed[]>();
  for (const p of changed)
    if (!covered.has(p.ecosystem)) uncoveredByEco.set(p.ecosystem, [...(uncoveredByEco.get(p.ecosystem) ?? []), p]);
  for (const [eco, pkgs] of uncoveredByEco) {
    const names = sources.map((s) => s.name).join(', ') || 'none';
    unreachable.push(
      `no configured advisory source covers ${eco} (sources: ${names}): ${describeUnchecked(pkgs)} were not checked`,
    );
  }

  const baseVersions = (p: Changed) => baseByName.get(`${p.lockfile}\u0000${p.ecosystem}\u0000${p.name}`) ?? [];
  const vulnerabilities: DependencyVulnerability[] = [];
  for (const source of sources) {
    const mine = changed.filter((p) => source.ecosystems.includes(p.ecosystem));
    if (mine.length === 0) continue;
    const queries = dedupe([...mine, ...mine.flatMap(baseVersions)]);
    let answered = await source.query(queries, options.signal);
    let usedName = source.name;
    if (!answered.ok) {
      const why = answered.error.message;
      const fallback = source.fallback;
      const fb = fallback && !options.signal?.aborted ? await fallback.query(queries, options.signal) : undefined;
      if (fallback && fb?.ok) {
        unreachable.push(
          `${source.name} could not be reached (${why}); fell back to ${fallback.description ?? fallback.name}: ${describeUnchecked(mine)} were checked only against it, not against ${source.description ?? source.name}`,
        );
        answered = fb;
        usedName = fallback.name;
      } else {
        const also = fallback
          ? `; its fallback ${fallback.name} failed too (${fb && !fb.ok ? fb.error.message : 'aborted'})`
          : '';
        unreachable.push(
          `${source.name} could not be reached (${why})${also}: ${describeUnchecked(mine)} were not checked by it`,
        );
        continue;
      }
    }
    const matches = answered.value;
    for (const p of mine) {
      for (const hit of matches.filter((m) => samePkg(m.pkg, p))) {
        const inherited = baseVersions(p).some((old) => matches.some((m) => samePkg(m.pkg, old) && m.id === hit.id));
        vulnerabilities.push({
          ...hit,
          pkg: { ecosystem: p.ecosystem, name: p.name, version: p.version },
          lockfile: p.lockfile,
          status: inherited ? 'inherited' : 'introduced',
          source: usedName,
        });
      }
    }
  }
  if (options.signal?.aborted) {
    return err(new ConveyorError(PKG, 'timeout', 'the dependency audit was stopped before it finished'));
  }
  return ok({
    lockfiles,
    changed: changed.map(({ lockfile: _l, ...p }) => p),
    vulnerabilities: dedupeVulns(vulnerabilities),
    unreachable,
    warnings,
    durationMs: Math.round(performance.now() - t0),
  });
}

const NPM_LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock'];

/** Whether an npm lockfile sits beside `packageJson` or in a folder above it (a workspace root). */
function npmLockfileCovers(packageJson: string, tree: ReadonlyMap<string, TreeEntry>): boolean {
  const parts = packageJson.split('/').slice(0, -1);
  for (let depth = parts.length; depth >= 0; depth -= 1) {
    const dir = parts.slice(0, depth).join('/');
    if (NPM_LOCKFILES.some((l) => tree.has(dir === '' ? l : `${dir}/${l}`))) return true;
  }
  return false;
}

/** The dependency-bearing fields of a package.json, canonical; `?` when it does not parse (counts as changed). */
function declaredDependencies(text: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return `?${text.length}`;
  }
  if (typeof doc !== 'object' || doc === null) return '?';
  const d = doc as Record<string, unknown>;
  const pnpm =
    typeof d.pnpm === 'object' && d.pnpm !== null ? (d.pnpm as Record<string, unknown>).overrides : undefined;
  const fields = {
    dependencies: d.dependencies,
    devDependencies: d.devDependencies,
    optionalDependencies: d.optionalDependencies,
    peerDependencies: d.peerDependencies,
    bundleDependencies: d.bundleDependencies ?? d.bundledDependencies,
    overrides: d.overrides,
    resolutions: d.resolutions,
    pnpmOverrides: pnpm,
  };
  const present = Object.fromEntries(
    Object.entries(fields).filter(
      ([, v]) => v !== undefined && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0),
    ),
  );
  return JSON.stringify(present, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
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
