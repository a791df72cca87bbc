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

/** Lockfile names the audit reads, by basename (plus `requirements*.txt`). */
export const LOCKFILE_NAMES: readonly string[] = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'bun.lock',
  'requirements.txt',
  'poetry.lock',
  'uv.lock',
  'pdm.lock',
  'Pipfile.lock',
];

/**
 * Lockfiles of ecosystems the audit does not read, by basename, with the
 * ecosystem's name. A change to one of them is reported as "not checked"
 * (strict mode fails on it) rather than passing unseen.
 */
export const UNAUDITED_LOCKFILES: Readonly<Record<string, string>> = Object.freeze({
  'Cargo.lock': 'crates.io (Cargo)',
  'go.sum': 'Go modules',
  'go.mod': 'Go modules',
  'Gemfile.lock': 'RubyGems',
  'composer.lock': 'Packagist (Composer)',
  'packages.lock.json': 'NuGet',
  'gradle.lockfile': 'Maven (Gradle)',
  'mix.lock': 'Hex (Mix)',
  'pubspec.lock': 'Pub',
  'Podfile.lock': 'CocoaPods',
  'Package.resolved': 'SwiftPM',
  'bun.lockb': 'npm (binary bun.lockb, unreadable: run `bun install --save-text-lockfile`)',
});

/** Whether a repository path is a lockfile the audit reads (by its basename). */
export function isAuditedLockfile(path: string): boolean {
  if (path.split('/').includes('node_modules')) return false;
  const base = path.split('/').pop() ?? '';
  return LOCKFILE_NAMES.includes(base) || /^requirements[\w.-]*\.txt$/.test(base);
}

/** The ecosystem of a lockfile the audit does not read, or `undefined`. */
export function unauditedLockfileEcosystem(path: string): string | undefined {
  if (path.split('/').includes('node_modules')) return undefined;
  const base = path.split('/').pop() ?? '';
  return Object.hasOwn(UNAUDITED_LOCKFILES, base) ? UNAUDITED_LOCKFILES[base] : undefined;
}

/** PEP 503 normalised Python project name. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * A parse error naming the file and, when known, the line: never the parser's
 * own message or cause, which quote the offending text (the file is written
 * by the branch under review and may hold anything, a host secret included).
 */
function bad(file: string, message: string, where?: { line?: number; col?: number }): ConveyorError {
  const at =
    where?.line === undefined ? '' : ` (line ${where.line}${where.col === undefined ? '' : `, column ${where.col}`})`;
  return new ConveyorError(PKG, 'corrupt', `lockfile ${file}: ${message}${at}; the dependency audit cannot check it`, {
    details: { file, ...(where?.line === undefined ? {} : { line: where.line }) },
  });
}

/** JSON.parse without quoting the text in the error (V8's message quotes it). */
function parseJson(file: string, text: string, what = 'JSON'): Result<unknown, ConveyorError> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (thrown) {
    const pos = /position (\d+)/.exec(thrown instanceof Error ? thrown.message : '');
    if (!pos?.[1]) return err(bad(file, `not valid ${what}`));
    const before = text.slice(0, Number(pos[1]));
    const line = before.split('\n').length;
    return err(bad(file, `not valid ${what}`, { line, col: before.length - before.lastIndexOf('\n') }));
  }
}

function parseYamlDoc(file: string, text: string): Result<unknown, ConveyorError> {
  try {
    return ok(parseYaml(text, { maxAliasCount: 100 }) as unknown);
  } catch (thrown) {
    const pos = (thrown as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    return err(bad(file, 'not valid YAML', pos ? { line: pos.line, col: pos.col } : undefined));
  }
}

function parseTomlDoc(file: string, text: string): Result<unknown, ConveyorError> {
  try {
    return ok(parseToml(text) as unknown);
  } catch (thrown) {
    const t = thrown as { line?: unknown; column?: unknown };
    return err(
      bad(
        file,
        'not valid TOML',
        typeof t.line === 'number'
          ? { line: t.line, ...(typeof t.column === 'number' ? { col: t.column } : {}) }
          : undefined,
      ),
    );
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits `name@range` (the name may be scoped: `@scope/name@range`). */
function splitDescriptor(descriptor: string): { name: string; range: string } | undefined {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: descriptor.slice(0, at), range: descriptor.slice(at + 1) };
}

/** `alias@npm:real@^1` installs `real`: the name that matters is the aliased one. */
function realNpmName(descriptor: string): string | undefined {
  const d = splitDescriptor(descriptor);
  if (!d) return undefined;
  if (d.range.startsWith('npm:')) {
    const inner = splitDescriptor(d.range.slice(4));
    return inner ? inner.name : undefined;
  }
  return d.name;
}

/** Ranges that name no registry package (the workspace's own code, a local path). */
const LOCAL_PROTOCOL = /^(?:workspace|link|portal|file|patch|exec):/;

/**
 * The package a registry tarball URL names (`…/lodash/-/lodash-4.17.15.tgz`,
 * `…/@scope/name/-/name-1.0.0.tgz`). npm and yarn install what `resolved`
 * points at, whatever `version` says, so a branch that writes a safe
 * `version` next to the tarball of a vulnerable one must not hide it.
 */
export function registryTarballPackage(resolved: string): { name: string; version: string } | undefined {
  // a plain scan, not `new URL`: a big lockfile has one of these per entry
  if (!resolved.startsWith('https://') && !resolved.startsWith('http://')) return undefined;
  const hostEnd = resolved.indexOf('/', resolved.indexOf('//') + 2);
  if (hostEnd === -1) return undefined;
  const cut = resolved.search(/[?#]/);
  const path = resolved.slice(hostEnd, cut === -1 ? undefined : cut);
  const dash = path.lastIndexOf('/-/');
  if (dash === -1 || !path.endsWith('.tgz')) return undefined;
  const segs = path
    .slice(0, dash)
    .split('/')
    .map((x) => (x.includes('%') ? safeDecode(x) : x));
  const last = segs.at(-1) ?? '';
  const prev = segs.at(-2) ?? '';
  const name = last.startsWith('@') ? last : prev.startsWith('@') ? `${prev}/${last}` : last;
  const file = path.slice(dash + 3, -'.tgz'.length);
  const base = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
  if (base === '' || file.includes('/') || !file.startsWith(`${base}-`)) return undefined;
  const version = file.slice(base.length + 1);
  return /^\d/.test(version) ? { name, version } : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The entry itself, plus what its `resolved` tarball really installs when that differs. */
function withTarball(out: LockedPackage[], name: string, version: string, resolved: unknown): void {
  out.push({ ecosystem: 'npm', name, version });
  if (typeof resolved !== 'string') return;
  const t = registryTarballPackage(resolved);
  if (t && (t.name !== name || t.version !== version)) out.push({ ecosystem: 'npm', ...t });
}

function parsePackageLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  const doc = parseJson(file, text);
  if (!doc.ok) return err(doc.error);
  if (!isRecord(doc.value)) return err(bad(file, 'not a JSON object'));
  const out: LockedPackage[] = [];
  const packages = doc.value.packages;
  if (packages !== undefined) {
    if (!isRecord(packages)) return err(bad(file, '`packages` is not an object'));
    let ordinal = 0;
    for (const [key, value] of Object.entries(packages)) {
      ordinal += 1;
      if (key === '') continue;
      if (!isRecord(value)) return err(bad(file, `\`packages\` entry number ${ordinal} is not an object`));
      if (value.version !== undefined && typeof value.version !== 'string')
        return err(bad(file, `\`packages\` entry number ${ordinal} has a version that is not a string`));
      if (value.link === true || typeof value.version !== 'string') continue;
      const at = key.lastIndexOf('node_modules/');
      if (at === -1) continue; // a workspace folder, not an installed package
      const name = typeof value.name === 'string' ? value.name : key.slice(at + 'node_modules/'.length);
      withTarball(out, name, value.version, value.resolved);
    }
  }
  // lockfileVersion 1 (and the mirror v2 keeps for npm 6): nested `dependencies`, read too so the two cannot disagree unseen
  const walk = (deps: unknown, depth: number): ConveyorError | undefined => {
    if (deps === undefined) return undefined;
    if (!isRecord(deps) || depth > 200) return bad(file, '`dependencies` is not an object');
    let ordinal = 0;
    for (const [name, value] of Object.entries(deps)) {
      ordinal += 1;
      if (!isRecord(value)) return bad(file, `dependency number ${ordinal} is not an object`);
      const v = value.version;
      if (typeof v === 'string' && !/^(?:file|link|git\+[a-z]+|github|git|https?):/.test(v)) {
        // v1 writes an alias as `"version": "npm:real@1.2.3"`
        const aliased = v.startsWith('npm:') ? splitDescriptor(v.slice(4)) : undefined;
        out.push(
          aliased
            ? { ecosystem: 'npm', name: aliased.name, version: aliased.range }
            : { ecosystem: 'npm', name, version: v },
        );
      }
      const inner = walk(value.dependencies, depth + 1);
      if (inner) return inner;
    }
    return undefined;
  };
  const problem = walk(doc.value.dependencies, 0);
  return problem ? err(problem) : ok(out);
}

/** pnpm 5.x keys: `/name/1.2.3` or `/@scope/name/1.2.3_peer@1.0.0`. */
function parsePnpmV5Key(rawKey: string): { name: string; version: string } | undefined {
  const parts = (rawKey.startsWith('/') ? rawKey.slice(1) : rawKey).split('/');
  const scoped = parts[0]?.startsWith('@') ?? false;
  const name = scoped ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? '');
  const version = (parts[scoped ? 2 : 1] ?? '').split('_')[0] ?? '';
  if (parts.length !== (scoped ? 3 : 2)) return undefined; // a tarball or git key, not name/version
  return { name, version };
}

/** pnpm 6.x–9.x keys: `/name@1.2.3(peer@1.0.0)` (6.x–8.x) or `name@1.2.3(peer@1.0.0)` (9.x). */
function parsePnpmKey(rawKey: string): { name: string; version: string } | undefined {
  let key = rawKey.startsWith('/') ? rawKey.slice(1) : rawKey;
  const paren = key.indexOf('(');
  if (paren !== -1) key = key.slice(0, paren);
  const d = splitDescriptor(key);
  return d ? { name: d.name, version: d.range } : undefined;
}

function parsePnpmLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  const doc = parseYamlDoc(file, text);
  if (!doc.ok) return err(doc.error);
  if (!isRecord(doc.value)) return err(bad(file, 'not a YAML mapping'));
  const major = Number.parseFloat(String(doc.value.lockfileVersion ?? ''));
  if (!Number.isFinite(major)) return err(bad(file, '`lockfileVersion` is missing or not a number'));
  const out: LockedPackage[] = [];
  const seen = new Set<string>();
  const packages = doc.value.packages;
  if (packages === undefined || packages === null) return ok(out);
  if (!isRecord(packages)) return err(bad(file, '`packages` is not a mapping'));
  for (const [key, value] of Object.entries(packages)) {
    // 6.x+ files written by older tools may still hold 5.x-style keys
    const parsed = major < 6 ? parsePnpmV5Key(key) : (parsePnpmKey(key) ?? parsePnpmV5Key(key));
    const entry = isRecord(value) ? value : {};
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

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/** yarn 1.x (`# yarn lockfile v1`): its own indented format, not YAML. */
function parseYarnV1(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  const out: LockedPackage[] = [];
  const lines = text.split(/\r?\n/);
  let descriptors: string[] | undefined;
  let version: string | undefined;
  let resolved: string | undefined;
  let startLine = 0;
  const flush = (): ConveyorError | undefined => {
    if (descriptors === undefined) return undefined;
    const first = descriptors[0] ?? '';
    const local = descriptors.every((d) => LOCAL_PROTOCOL.test(splitDescriptor(d)?.range ?? ''));
    if (version === undefined) return bad(file, 'an entry has no version', { line: startLine });
    const name = realNpmName(first);
    if (!name) return bad(file, 'an entry has no package name', { line: startLine });
    if (!local) withTarball(out, name, version, resolved);
    descriptors = undefined;
    version = undefined;
    resolved = undefined;
    return undefined;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (!line.startsWith(' ')) {
      const problem = flush();
      if (problem) return err(problem);
      if (!line.endsWith(':')) return err(bad(file, 'an entry header does not end with `:`', { line: i + 1 }));
      descriptors = line
        .slice(0, -1)
        .split(',')
        .map((d) => unquote(d.trim()))
        .filter((d) => d !== '');
      if (descriptors.length === 0) return err(bad(file, 'an entry header names no package', { line: i + 1 }));
      startLine = i + 1;
      continue;
    }
    if (descriptors === undefined) return err(bad(file, 'an indented line outside any entry', { line: i + 1 }));
    const m = /^ {2}version:? +(.+)$/.exec(line);
    if (m?.[1]) version = unquote(m[1].trim());
    const r = /^ {2}resolved:? +(.+)$/.exec(line);
    if (r?.[1]) resolved = unquote(r[1].trim());
  }
  const problem = flush();
  return problem ? err(problem) : ok(out);
}

/** yarn 2+ (Berry): YAML with `__metadata`; `resolution` says what was installed. */
function parseYarnBerry(file: string, doc: Record<string, unknown>): Result<LockedPackage[], ConveyorError> {
  const out: LockedPackage[] = [];
  let ordinal = 0;
  for (const [key, value] of Object.entries(doc)) {
    ordinal += 1;
    if (key === '__metadata') continue;
    if (!isRecord(value)) return err(bad(file, `entry number ${ordinal} is not a mapping`));
    const resolution = typeof value.resolution === 'string' ? value.resolution : undefined;
    const version = value.version === undefined ? undefined : String(value.version);
    const d = resolution ? splitDescriptor(resolution) : undefined;
    if (!d || version === undefined) return err(bad(file, `entry number ${ordinal} has no resolution or version`));
    if (LOCAL_PROTOCOL.test(d.range)) continue;
    if (d.range.startsWith('npm:')) out.push({ ecosystem: 'npm', name: d.name, version: d.range.slice(4) });
    else out.push({ ecosystem: 'npm', name: d.name, version }); // git, http tarball: the version it declares
  }
  return ok(out);
}

function parseYarnLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  if (/^__metadata:/m.test(text)) {
    const doc = parseYamlDoc(file, text);
    if (!doc.ok) return err(doc.error);
    if (!isRecord(doc.value)) return err(bad(file, 'not a YAML mapping'));
    return parseYarnBerry(file, doc.value);
  }
  return parseYarnV1(file, text);
}

/** Drops `//` and `/* *\/` comments and trailing commas outside strings (Bun's text lockfile is JSONC). */
function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      // keep the line count so an error's line number stays right
      const skipped = text.slice(i, end === -1 ? text.length : end + 2);
      out += skipped.replace(/[^\n]/g, ' ');
      i = end === -1 ? text.length : end + 2;
    } else if (c === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j] as string)) j += 1;
      out += text[j] === '}' || text[j] === ']' ? ' ' : ',';
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** `bun.lock` (Bun ≥ 1.2): `packages` maps a path to `["name@version", registry, info, integrity]`. */
function parseBunLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  const doc = parseJson(file, stripJsonc(text), 'JSONC');
  if (!doc.ok) return err(doc.error);
  if (!isRecord(doc.value)) return err(bad(file, 'not a JSON object'));
  if (typeof doc.value.lockfileVersion !== 'number') return err(bad(file, '`lockfileVersion` is missing'));
  const packages = doc.value.packages ?? {};
  if (!isRecord(packages)) return err(bad(file, '`packages` is not an object'));
  const out: LockedPackage[] = [];
  let ordinal = 0;
  for (const [, value] of Object.entries(packages)) {
    ordinal += 1;
    const spec = Array.isArray(value) ? value[0] : undefined;
    if (typeof spec !== 'string')
      return err(bad(file, `\`packages\` entry number ${ordinal} is not a [name@version, …] list`));
    const d = splitDescriptor(spec);
    if (!d) return err(bad(file, `\`packages\` entry number ${ordinal} has no name@version`));
    const version = d.range.startsWith('npm:') ? d.range.slice(4) : d.range;
    if (LOCAL_PROTOCOL.test(version) || /^(?:github|git|git\+[a-z]+|https?|root):/.test(version)) continue;
    out.push({ ecosystem: 'npm', name: d.name, version });
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

/**
 * The requirements of a `requirements*.txt` that are not pinned with `==`
 * (`flask>=2`, `name @ https://…`, `-e git+…`): an install resolves them, so
 * the audit cannot check them. Names are PEP 503 normalised; a line with no
 * readable name is listed as `(line N)`.
 *
 * @example
 * ```ts
 * unpinnedRequirements('requests==2.31.0\nflask>=2\n'); // ['flask']
 * ```
 */
export function unpinnedRequirements(text: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    if (line.startsWith('-')) {
      if (/^(?:-e|--editable)\b/.test(line)) out.push(`(line ${i + 1}, editable)`);
      return; // other options (-r, -c, --hash, --index-url) pin nothing
    }
    if (/^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*===?\s*[^\s;,\\]+/.test(line)) return;
    const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1];
    out.push(name ? normalizePypiName(name) : `(line ${i + 1})`);
  });
  return out;
}

/** `poetry.lock`, `uv.lock` and `pdm.lock`: TOML with `[[package]]` name and version. */
function parseTomlPackages(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  const doc = parseTomlDoc(file, text);
  if (!doc.ok) return err(doc.error);
  const list = isRecord(doc.value) ? doc.value.package : undefined;
  const out: LockedPackage[] = [];
  if (list === undefined) return ok(out);
  if (!Array.isArray(list)) return err(bad(file, '`package` is not an array of tables'));
  for (const p of list) {
    if (!isRecord(p)) return err(bad(file, 'a `[[package]]` entry is not a table'));
    const { name, version, source } = p;
    // uv writes the project itself (and workspace members) with a path source
    if (isRecord(source) && (source.editable !== undefined || source.virtual !== undefined)) continue;
    if (typeof name === 'string' && typeof version === 'string') {
      out.push({ ecosystem: 'PyPI', name: normalizePypiName(name), version });
    }
  }
  return ok(out);
}

/** `Pipfile.lock`: JSON, `default` and `develop` map names to `{ "version": "==1.2.3" }`. */
function parsePipfileLock(file: string, text: string): Result<LockedPackage[], ConveyorError> {
  const doc = parseJson(file, text);
  if (!doc.ok) return err(doc.error);
  if (!isRecord(doc.value)) return err(bad(file, 'not a JSON object'));
  const out: LockedPackage[] = [];
  for (const section of ['default', 'develop'] as const) {
    const deps = doc.value[section];
    if (deps === undefined) continue;
    if (!isRecord(deps)) return err(bad(file, `\`${section}\` is not an object`));
    for (const [name, value] of Object.entries(deps)) {
      const v = isRecord(value) ? value.version : undefined;
      if (typeof v === 'string' && v.startsWith('=='))
        out.push({ ecosystem: 'PyPI', name: normalizePypiName(name), version: v.slice(2) });
    }
  }
  return ok(out);
}

/**
 * Reads the pinned packages of a lockfile, chosen by its basename:
 * `package-lock.json` / `npm-shrinkwrap.json` (v1–v3), `pnpm-lock.yaml`
 * (5.x–9.x), `yarn.lock` (v1 and Berry), `bun.lock` (Bun's text lockfile),
 * `requirements*.txt` (only `==` pins), `poetry.lock`, `uv.lock`, `pdm.lock`
 * and `Pipfile.lock`. A file that does not parse is an error naming the file
 * (and line), never quoting its content.
 *
 * @example
 * ```ts
 * const pkgs = parseLockfile('yarn.lock', text);
 * ```
 */
export function parseLockfile(path: string, text: string): Result<LockedPackage[], ConveyorError> {
  const base = path.split('/').pop() ?? path;
  if (base === 'package-lock.json' || base === 'npm-shrinkwrap.json') return parsePackageLock(path, text);
  if (base === 'pnpm-lock.yaml') return parsePnpmLock(path, text);
  if (base === 'yarn.lock') return parseYarnLock(path, text);
  if (base === 'bun.lock') return parseBunLock(path, text);
  if (base === 'Pipfile.lock') return parsePipfileLock(path, text);
  if (base === 'poetry.lock' || base === 'uv.lock' || base === 'pdm.lock') return parseTomlPackages(path, text);
  if (/^requirements[\w.-]*\.txt$/.test(base)) return parseRequirements(text);
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
