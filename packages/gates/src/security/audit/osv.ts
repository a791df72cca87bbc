import { compare as pep440Compare, valid as pep440Valid } from '@renovatebot/pep440';
import semver from 'semver';
import { type AuditEcosystem, type LockedPackage, normalizePypiName } from './lockfiles.js';

/** The subset of the OSV schema the audit reads. */
export interface OsvAdvisory {
  readonly id: string;
  readonly summary?: string;
  readonly details?: string;
  readonly aliases?: readonly string[];
  readonly modified?: string;
  readonly withdrawn?: string;
  readonly database_specific?: { readonly severity?: string } & Record<string, unknown>;
  readonly affected?: readonly OsvAffected[];
}

/** One `affected` entry of an OSV advisory. */
export interface OsvAffected {
  readonly package?: { readonly ecosystem?: string; readonly name?: string };
  readonly ranges?: readonly OsvRange[];
  readonly versions?: readonly string[];
  readonly database_specific?: Record<string, unknown>;
}

/** An OSV range: `introduced` / `fixed` / `last_affected` / `limit` events. */
export interface OsvRange {
  readonly type: string;
  readonly events: readonly OsvEvent[];
}

/** One event of an {@link OsvRange}. */
export interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

/** Compares two versions of an ecosystem; `undefined` when either is not a valid version there. */
export function compareVersions(ecosystem: AuditEcosystem, a: string, b: string): number | undefined {
  if (ecosystem === 'npm') {
    const va = semver.valid(a, { loose: true });
    const vb = semver.valid(b, { loose: true });
    if (!va || !vb) return undefined;
    return semver.compare(va, vb, { loose: true });
  }
  if (!pep440Valid(a) || !pep440Valid(b)) return undefined;
  return pep440Compare(a, b);
}

function sameName(ecosystem: AuditEcosystem, a: string, b: string): boolean {
  return ecosystem === 'PyPI' ? normalizePypiName(a) === normalizePypiName(b) : a === b;
}

/**
 * Whether `version` falls inside one OSV range. Events are applied in version
 * order: `introduced` opens, `fixed` closes (exclusive), `last_affected`
 * closes after itself (inclusive). `introduced: "0"` means "from the start".
 */
export function versionInOsvRange(ecosystem: AuditEcosystem, range: OsvRange, version: string): boolean {
  if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') return false;
  const keyed = range.events
    .map((e) => {
      const v = e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '';
      return { e, v };
    })
    .filter((x) => x.v !== '');
  const cmp = (a: string, b: string) =>
    a === '0' ? (b === '0' ? 0 : -1) : b === '0' ? 1 : (compareVersions(ecosystem, a, b) ?? 0);
  keyed.sort((x, y) => cmp(x.v, y.v));
  let affected = false;
  for (const { e, v } of keyed) {
    if (e.introduced !== undefined) {
      if (v === '0' || (compareVersions(ecosystem, v, version) ?? 1) <= 0) affected = true;
    } else if (e.fixed !== undefined) {
      const c = compareVersions(ecosystem, v, version);
      if (c !== undefined && c <= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      const c = compareVersions(ecosystem, v, version);
      if (c !== undefined && c < 0) affected = false;
    } else if (e.limit !== undefined && v !== '*') {
      const c = compareVersions(ecosystem, v, version);
      if (c !== undefined && c <= 0) affected = false;
    }
  }
  return affected;
}

/** The smallest `fixed` version of the ranges that matched, if any (a hint for the report). */
function fixedHint(affected: OsvAffected): string | undefined {
  for (const r of affected.ranges ?? []) for (const e of r.events) if (e.fixed) return e.fixed;
  return undefined;
}

/**
 * Whether an OSV advisory affects a pinned package: the ecosystem and name
 * match an `affected` entry, and the version is listed in its `versions` or
 * falls in one of its SEMVER/ECOSYSTEM ranges (semver for npm, PEP 440 for
 * PyPI). Withdrawn advisories affect nothing.
 *
 * @example
 * ```ts
 * osvAffects(advisory, { ecosystem: 'npm', name: 'minimist', version: '1.2.5' });
 * ```
 */
export function osvAffects(advisory: OsvAdvisory, pkg: LockedPackage): { affected: boolean; fixed?: string } {
  if (advisory.withdrawn) return { affected: false };
  for (const a of advisory.affected ?? []) {
    const eco = a.package?.ecosystem ?? '';
    if (eco.toLowerCase() !== pkg.ecosystem.toLowerCase()) continue;
    if (!sameName(pkg.ecosystem, a.package?.name ?? '', pkg.name)) continue;
    const listed = (a.versions ?? []).includes(pkg.version);
    if (listed || (a.ranges ?? []).some((r) => versionInOsvRange(pkg.ecosystem, r, pkg.version))) {
      const fixed = fixedHint(a);
      return fixed === undefined ? { affected: true } : { affected: true, fixed };
    }
  }
  return { affected: false };
}
