import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the tools say about themselves (`--version`, the SARIF driver). */
export interface GatesPackageInfo {
  readonly name: string;
  readonly version: string;
  /** the repository's web address from package.json (`repository` or `homepage`), when it names one */
  readonly informationUri?: string;
}

let cached: GatesPackageInfo | undefined;

function repositoryUrl(pkg: Record<string, unknown>): string | undefined {
  const repo = pkg.repository;
  const raw = typeof repo === 'string' ? repo : (repo as { url?: unknown } | undefined)?.url;
  const candidates = [raw, pkg.homepage].filter((u): u is string => typeof u === 'string');
  for (const c of candidates) {
    const url = c.replace(/^git\+/, '').replace(/\.git$/, '');
    if (/^https:\/\/[^\s]+$/.test(url)) return url;
  }
  return undefined;
}

/**
 * The name, version and repository address of `@conveyor/gates`, read from
 * its package.json (found by walking up from this module, so it works from the
 * sources and from the bundle).
 *
 * @example
 * ```ts
 * console.log(gatesPackageInfo().version);
 * ```
 */
export function gatesPackageInfo(): GatesPackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      if (pkg.name === '@conveyor/gates') {
        const uri = repositoryUrl(pkg);
        cached = { name: pkg.name, version: String(pkg.version ?? '0.0.0'), ...(uri ? { informationUri: uri } : {}) };
        return cached;
      }
    } catch {
      // not here: one level up
    }
    dir = dirname(dir);
  }
  cached = { name: '@conveyor/gates', version: '0.0.0' };
  return cached;
}
