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
 * closes after itself (inclusive), `limit` closes (exclusive). `introduced:
 * "0"` means "from the start". An `introduced` bound that cannot be compared
 * opens the range (fail closed).
 */
export function versionInOsvRange(ecosystem: AuditEcosystem, range: OsvRange, version: string): boolean {
  return rangeVerdict(ecosystem, range, version).affected;
}

function rangeVerdict(
  ecosystem: AuditEcosystem,
  range: OsvRange,
  version: string,
): { affected: boolean; fixed?: string } {
  if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') return { affected: false };
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
  let fixed: string | undefined;
  for (const { e, v } of keyed) {
    if (e.introduced !== undefined) {
      if (v === '0' || (compareVersions(ecosystem, v, version) ?? -1) <= 0) {
        affected = true;
        fixed = undefined;
      }
    } else if (e.fixed !== undefined) {
      const c = compareVersions(ecosystem, v, version);
      if (c !== undefined && c <= 0) affected = false;
      else if (affected && fixed === undefined) fixed = v;
    } else if (e.last_affected !== undefined) {
      const c = compareVersions(ecosystem, v, version);
      if (c !== undefined && c < 0) affected = false;
    } else if (e.limit !== undefined && v !== '*') {
      const c = compareVersions(ecosystem, v, version);
      if (c !== undefined && c <= 0) affected = false;
    }
  }
  return affected ? (fixed === undefined ? { affected } : { affected, fixed }) : { affected };
}

/**
 * Whether an OSV advisory affects a pinned package: the ecosystem and name
 * match an `affected` entry, and the version is listed in its `versions` or
 * falls in one of its SEMVER/ECOSYSTEM ranges (semver for npm, PEP 440 for
 * PyPI); `fixed` is the fix of the range that matched. A version that is not
 * valid in its ecosystem (so no range can be evaluated) of a package the
 * advisory names counts as affected, `uncertain` (fail closed). Withdrawn
 * advisories affect nothing.
 *
 * @example
 * ```ts
 * osvAffects(advisory, { ecosystem: 'npm', name: 'minimist', version: '1.2.5' });
 * ```
 */
export function osvAffects(
  advisory: OsvAdvisory,
  pkg: LockedPackage,
): { affected: boolean; fixed?: string; uncertain?: boolean } {
  if (advisory.withdrawn) return { affected: false };
  const comparable = compareVersions(pkg.ecosystem, pkg.version, pkg.version) !== undefined;
  for (const a of advisory.affected ?? []) {
    const eco = a.package?.ecosystem ?? '';
    if (eco.toLowerCase() !== pkg.ecosystem.toLowerCase()) continue;
    if (!sameName(pkg.ecosystem, a.package?.name ?? '', pkg.name)) continue;
    if ((a.versions ?? []).includes(pkg.version)) {
      const fixed = (a.ranges ?? []).map((r) => rangeVerdict(pkg.ecosystem, r, pkg.version).fixed).find(Boolean);
      return fixed === undefined ? { affected: true } : { affected: true, fixed };
    }
    if (!comparable && (a.ranges ?? []).some((r) => r.type === 'SEMVER' || r.type === 'ECOSYSTEM')) {
      return { affected: true, uncertain: true };
    }
    for (const r of a.ranges ?? []) {
      const verdict = rangeVerdict(pkg.ecosystem, r, pkg.version);
      if (verdict.affected)
        return verdict.fixed === undefined ? { affected: true } : { affected: true, fixed: verdict.fixed };
    }
  }
  return { affected: false };
}
