import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';

const PKG = '@conveyor/gates';

/** The package ecosystems the audit understands (OSV spelling). */
export type AuditEcosystem = 'npm' | 'PyPI';

/** One pinned package of a lockfile. */
export interface LockedPackage {
  readonly ecosystem: AuditEcosystem;
  readonly name: string;
  readonly version: string;
}

/** Lockfile names the audit reads, by basename. */
export const LOCKFILE_NAMES: readonly string[] = [
  'package-lock.json',
  'pnpm-lock.yaml',
  'requirements.txt',
  'poetry.lock',
];

/** PEP 503 normalised Python project name. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function bad(file: string, message: string, cause?: unknown): ConveyorError {
  return new ConveyorError(PKG, 'corrupt', `lockfile ${file}: ${message}`, {
    details: { file },
    ...(cause === undefined ? {} : { cause }),
  });
}

function parsePackageLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (thrown) {
    return err(bad(file, 'not valid JSON', thrown));
  }
  if (typeof doc !== 'object' || doc === null) return err(bad(file, 'not a JSON object'));
  const out: LockedPackage[] = [];
  const packages = (doc as { packages?: unknown }).packages;
  if (typeof packages === 'object' && packages !== null) {
    for (const [key, value] of Object.entries(packages as Record<string, unknown>)) {
      if (key === '' || typeof value !== 'object' || value === null) continue;
      const entry = value as { name?: unknown; version?: unknown; link?: unknown };
      if (entry.link === true || typeof entry.version !== 'string') continue;
      const at = key.lastIndexOf('node_modules/');
      if (at === -1) continue; // a workspace folder, not an installed package
      const name = typeof entry.name === 'string' ? entry.name : key.slice(at + 'node_modules/'.length);
      out.push({ ecosystem: 'npm', name, version: entry.version });
    }
    return ok(out);
  }
  // lockfileVersion 1: nested `dependencies`
  const walk = (deps: unknown) => {
    if (typeof deps !== 'object' || deps === null) return;
    for (const [name, value] of Object.entries(deps as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null) continue;
      const v = value as { version?: unknown; dependencies?: unknown };
      if (typeof v.version === 'string' && !v.version.startsWith('file:'))
        out.push({ ecosystem: 'npm', name, version: v.version });
      walk(v.dependencies);
    }
  };
  walk((doc as { dependencies?: unknown }).dependencies);
  return ok(out);
}

function parsePnpmKey(rawKey: string): { name: string; version: string } | undefined {
  let key = rawKey.startsWith('/') ? rawKey.slice(1) : rawKey;
  const paren = key.indexOf('(');
  if (paren !== -1) key = key.slice(0, paren);
  const at = key.lastIndexOf('@');
  if (at > 0) return { name: key.slice(0, at), version: key.slice(at + 1) };
  const slash = key.lastIndexOf('/');
  if (slash > 0) return { name: key.slice(0, slash), version: key.slice(slash + 1).split('_')[0] ?? '' };
  return undefined;
}

function parsePnpmLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (thrown) {
    return err(bad(file, 'not valid YAML', thrown));
  }
  if (typeof doc !== 'object' || doc === null) return err(bad(file, 'not a YAML mapping'));
  const out: LockedPackage[] = [];
  const seen = new Set<string>();
  const packages = (doc as { packages?: unknown }).packages;
  if (typeof packages !== 'object' || packages === null) return ok(out);
  for (const [key, value] of Object.entries(packages as Record<string, unknown>)) {
    const parsed = parsePnpmKey(key);
    const entry = (typeof value === 'object' && value !== null ? value : {}) as { name?: unknown; version?: unknown };
    const name = typeof entry.name === 'string' ? entry.name : parsed?.name;
    const version = typeof entry.version === 'string' ? entry.version : parsed?.version;
    if (!name || !version || !/^\d/.test(version)) continue;
    const id = `${name}@${version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ ecosystem: 'npm', name, version });
  }
  return ok(out);
}

function parseRequirements(text: string): Result<LockedPackage[], ConveyorError> {
  const out: LockedPackage[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('-')) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;,\\]+)/.exec(line);
    if (!m?.[1] || !m[2]) continue; // unpinned: nothing to check against a range
    out.push({ ecosystem: 'PyPI', name: normalizePypiName(m[1]), version: m[2] });
  }
  return ok(out);
}

function parsePoetryLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (thrown) {
    return err(bad(file, 'not valid TOML', thrown));
  }
  const list = (doc as { package?: unknown }).package;
  const out: LockedPackage[] = [];
  if (!Array.isArray(list)) return ok(out);
  for (const p of list) {
    if (typeof p !== 'object' || p === null) continue;
    const { name, version } = p as { name?: unknown; version?: unknown };
    if (typeof name === 'string' && typeof version === 'string') {
      out.push({ ecosystem: 'PyPI', name: normalizePypiName(name), version });
    }
  }
  return ok(out);
}

/**
 * Reads the pinned packages of a lockfile, chosen by its basename:
 * `package-lock.json` (v1–v3), `pnpm-lock.yaml` (v5–v9), `requirements.txt`
 * (only `==` pins) or `poetry.lock`.
 *
 * @example
 * ```ts
 * const pkgs = parseLockfile('package-lock.json', text);
 * ```
 */
export function parseLockfile(path: string, text: string): Result<LockedPackage[], ConveyorError> {
  const base = path.split('/').pop() ?? path;
  if (base === 'package-lock.json') return parsePackageLock(path, text);
  if (base === 'pnpm-lock.yaml') return parsePnpmLock(path, text);
  if (base === 'requirements.txt') return parseRequirements(text);
  if (base === 'poetry.lock') return parsePoetryLock(path, text);
  return err(new ConveyorError(PKG, 'unsupported', `lockfile ${path}: unknown lockfile type`, { details: { path } }));
}

/** The packages of `head` that are new or at a different version than in `base`. */
export function diffLockedPackages(base: readonly LockedPackage[], head: readonly LockedPackage[]): LockedPackage[] {
  const key = (p: LockedPackage) => `${p.ecosystem}\u0000${p.name}\u0000${p.version}`;
  const before = new Set(base.map(key));
  const seen = new Set<string>();
  const out: LockedPackage[] = [];
  for (const p of head) {
    const k = key(p);
    if (before.has(k) || seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}
