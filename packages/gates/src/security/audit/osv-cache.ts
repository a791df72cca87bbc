import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { LockedPackage } from './lockfiles.js';
import type { OsvAdvisory } from './osv.js';
import { OSV_CACHE_DEFAULT_TTL_MS } from './osv-defaults.js';

/** One advisory a `querybatch` answer names for a package version. */
export interface OsvVulnRef {
  readonly id: string;
  /** the advisory's `modified` stamp, when OSV sent it: a cached detail with the same stamp is current */
  readonly modified?: string;
}

/**
 * The on-disk cache of the OSV source: `querybatch` answers per package
 * version (kept for `ttlMs`) and advisory details per id (current while their
 * `modified` stamp matches the one `querybatch` answers, else kept for
 * `ttlMs`). Writes are atomic (a temporary file renamed into place); an entry
 * that does not parse, is for another key, or is stamped in the future is a
 * miss, never an error. Every method resolves; a cache that cannot be written
 * only costs network.
 *
 * The cache decides what the audit believes, so keep `dir` out of reach of
 * the agents' jobs (not under a task workspace).
 */
export interface OsvCache {
  readonly dir: string;
  getQuery(pkg: LockedPackage): Promise<readonly OsvVulnRef[] | undefined>;
  putQuery(pkg: LockedPackage, vulns: readonly OsvVulnRef[]): Promise<void>;
  getVuln(id: string, modified?: string): Promise<OsvAdvisory | undefined>;
  putVuln(advisory: OsvAdvisory): Promise<void>;
}

/** Options of {@link createOsvCache}. */
export interface OsvCacheOptions {
  /** default: `$XDG_CACHE_HOME/conveyor/osv` (or `~/.cache/conveyor/osv`) */
  readonly dir?: string;
  /** how long a `querybatch` answer (and a detail with no `modified` to compare) stays fresh; default 6 h */
  readonly ttlMs?: number;
  /** epoch ms; default `Date.now` */
  readonly now?: () => number;
}

/** The default OSV cache directory. */
export function defaultOsvCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'conveyor', 'osv');
}

export { OSV_CACHE_DEFAULT_TTL_MS };

const FORMAT = 1;
/** a stamp this far ahead of the clock is not trusted */
const CLOCK_SKEW_MS = 60_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const queryKey = (p: LockedPackage) => `${p.ecosystem}\u0000${p.name}\u0000${p.version}`;

async function readEntry(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return isRecord(doc) && doc.format === FORMAT && typeof doc.fetchedAt === 'number' ? doc : undefined;
  } catch {
    return undefined; // absent or corrupt: a miss
  }
}

async function writeAtomic(path: string, dir: string, doc: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
    await rename(tmp, path);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

/**
 * Creates the on-disk OSV cache.
 *
 * @example
 * ```ts
 * const cache = createOsvCache({ dir: '/var/cache/conveyor/osv', ttlMs: 3_600_000 });
 * const source = osvApiSource({ cache });
 * ```
 */
export function createOsvCache(options: OsvCacheOptions = {}): OsvCache {
  const dir = options.dir ?? defaultOsvCacheDir();
  const ttl = options.ttlMs ?? OSV_CACHE_DEFAULT_TTL_MS;
  const now = options.now ?? Date.now;
  const queryDir = join(dir, `v${FORMAT}`, 'query');
  const vulnDir = join(dir, `v${FORMAT}`, 'vulns');
  const fresh = (fetchedAt: number) => {
    const age = now() - fetchedAt;
    return age >= -CLOCK_SKEW_MS && age < ttl;
  };
  return Object.freeze({
    dir,
    async getQuery(pkg: LockedPackage) {
      const entry = await readEntry(join(queryDir, `${hash(queryKey(pkg))}.json`));
      if (!entry || entry.key !== queryKey(pkg) || !fresh(entry.fetchedAt as number)) return undefined;
      if (!Array.isArray(entry.vulns)) return undefined;
      const refs: OsvVulnRef[] = [];
      for (const v of entry.vulns) {
        if (!isRecord(v) || typeof v.id !== 'string') return undefined;
        refs.push(typeof v.modified === 'string' ? { id: v.id, modified: v.modified } : { id: v.id });
      }
      return refs;
    },
    async putQuery(pkg: LockedPackage, vulns: readonly OsvVulnRef[]) {
      const path = join(queryDir, `${hash(queryKey(pkg))}.json`);
      await writeAtomic(path, queryDir, { format: FORMAT, key: queryKey(pkg), fetchedAt: now(), vulns });
    },
    async getVuln(id: string, modified?: string) {
      const entry = await readEntry(join(vulnDir, `${hash(id)}.json`));
      const adv = entry?.advisory;
      if (!entry || !isRecord(adv) || adv.id !== id) return undefined;
      const current = modified !== undefined ? adv.modified === modified : fresh(entry.fetchedAt as number);
      return current ? (adv as unknown as OsvAdvisory) : undefined;
    },
    async putVuln(advisory: OsvAdvisory) {
      const path = join(vulnDir, `${hash(advisory.id)}.json`);
      await writeAtomic(path, vulnDir, { format: FORMAT, fetchedAt: now(), advisory });
    },
  });
}
