import { readFileAt } from '../git-text.js';
import type { LocatedVulnerability } from '../run-scan.js';
import type { SecuritySettings } from '../settings.js';
import type { DependencyVulnerability } from './audit.js';
import { lockfileLine } from './lockfile-line.js';
import { createOsvCache } from './osv-cache.js';
import {
  type AdvisorySource,
  embeddedAdvisorySource,
  npmBulkAdvisorySource,
  osvApiSource,
  osvDirectorySource,
  pipAuditSource,
} from './sources.js';

// The dependency audit's part of a security scan: `runSecurityScan` loads it only when it audits (or has
// vulnerabilities to place), so a scan without the audit loads no lockfile parsers or advisory clients.

/** Builds the advisory sources a settings object names. */
export function advisorySourcesFromSettings(settings: SecuritySettings): AdvisorySource[] {
  return settings.securityAdvisorySources.map((name) => {
    switch (name) {
      case 'osv-dir':
        return osvDirectorySource(settings.securityAdvisoryDir ?? 'advisories');
      case 'osv-api':
        return osvApiSource({
          baseUrl: settings.securityOsvApiUrl,
          timeoutMs: settings.securityOsvTimeoutMs,
          cache: createOsvCache({
            ttlMs: settings.securityOsvCacheTtlMs,
            ...(settings.securityOsvCacheDir ? { dir: settings.securityOsvCacheDir } : {}),
          }),
        });
      case 'npm-bulk':
        return npmBulkAdvisorySource({ baseUrl: settings.securityNpmRegistryUrl });
      case 'pip-audit':
        return pipAuditSource(settings.securityPipAuditPath ? { command: settings.securityPipAuditPath } : {});
      default:
        return embeddedAdvisorySource();
    }
  });
}

/**
 * Each vulnerability with the line of its entry in its lockfile at `headSha`
 * (each lockfile read once; a lockfile that cannot be read leaves its
 * vulnerabilities without a line).
 */
export async function locateVulnerabilities(
  repoDir: string,
  headSha: string,
  vulnerabilities: readonly DependencyVulnerability[],
): Promise<LocatedVulnerability[]> {
  const texts = new Map<string, string | undefined>();
  const out: LocatedVulnerability[] = [];
  for (const v of vulnerabilities) {
    if (!texts.has(v.lockfile)) {
      const read = await readFileAt(repoDir, headSha, v.lockfile);
      texts.set(v.lockfile, read.ok ? read.value : undefined);
    }
    const text = texts.get(v.lockfile);
    const line = text === undefined ? undefined : lockfileLine(text, v.pkg.name, v.pkg.version);
    out.push(line === undefined ? v : { ...v, line });
  }
  return out;
}
