import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { stringify as stringifyToml } from 'smol-toml';
import {
  compileSecretsConfig,
  confinedTreePath,
  loadSecretsConfig,
  parseSecretsConfigChain,
  type RawSecretsConfig,
  type SecretsConfigSource,
} from './config.js';
import { DEFAULT_SECRETS_CONFIG } from './default-rules.js';
import {
  type GitObject,
  readObjects,
  type ScanGitOptions,
  type TreeEntry,
  treeEntriesAt,
  treeEntryAt,
} from './git-objects.js';
import { parseGitleaksIgnore, parseSecretsBaseline } from './ignore.js';
import type { SecretFinding, SecretsConfig } from './types.js';

const PKG = '@conveyor/gates';

/** The repository paths whose change inside a range is itself a finding, whatever the settings name. */
export const SCAN_CONFIG_FILES = ['.gitleaks.toml', '.gitleaksignore'] as const;

/** Options of {@link loadTrustedScanConfig}. */
export interface TrustedScanConfigOptions extends ScanGitOptions {
  readonly repoDir: string;
  /** the range's base commit: the only tree configuration is read from */
  readonly baseSha: string;
  /** a repository path (read from the base commit) or an absolute host path; default `.gitleaks.toml` */
  readonly configPath?: string;
  /** a gitleaks JSON baseline: a repository path (base commit) or an absolute host path */
  readonly baselinePath?: string;
  /** the ignore list: a repository path (base commit) or an absolute host path; default `.gitleaksignore` */
  readonly ignorePath?: string;
}

/** The scan configuration as the base commit and the host define it. */
export interface TrustedScanConfig {
  readonly config: SecretsConfig;
  readonly ignoredFingerprints: ReadonlySet<string>;
  readonly baseline: readonly SecretFinding[];
  /** repository paths whose change inside the range is a finding (config chain, ignore file, baseline) */
  readonly trustPaths: ReadonlySet<string>;
  /** where the config came from, for the report */
  readonly origin: string;
  /**
   * the configuration as gitleaks TOML for the gitleaks engine: the base
   * commit's chain merged into one file, or `[extend] useDefault` when the base
   * has none; `undefined` when it is a host file (given to gitleaks as is)
   */
  readonly gitleaksToml?: string;
  /** the ignore list's text, as read from the trusted side */
  readonly ignoreText: string;
}

/**
 * The merged configuration as gitleaks reads it: Conveyor's built-in rules
 * (what `useDefault` inlined) go back to `[extend] useDefault = true`, so
 * gitleaks uses its own defaults and never sees a pattern written for V8.
 */
function gitleaksTomlOf(raw: RawSecretsConfig): string {
  const builtIn = new Set((DEFAULT_SECRETS_CONFIG.rules ?? []).map((r) => r.regex));
  const own = (raw.rules ?? []).filter((r) => r.regex === undefined || !builtIn.has(r.regex));
  const usedDefault = own.length !== (raw.rules ?? []).length;
  const doc: Record<string, unknown> = { ...raw, rules: own };
  if (own.length === 0) delete doc.rules;
  if (usedDefault) doc.extend = { useDefault: true };
  return stringifyToml(doc);
}

function invalid(message: string, details: Record<string, unknown>): ConveyorError {
  return new ConveyorError(PKG, 'invalid_config', message, { details });
}

/**
 * Files of the base commit read ahead, with one `git ls-tree` and one
 * `git cat-file`: the config, the ignore file and the baseline a scan always
 * asks for.
 */
interface TreeFiles {
  /** the paths asked: one without an entry is absent from the commit */
  readonly asked: ReadonlySet<string>;
  readonly entries: ReadonlyMap<string, TreeEntry>;
  /** the blobs of the entries that are regular files */
  readonly blobs: ReadonlyMap<string, GitObject>;
}

const isRegularFile = (e: TreeEntry) => e.type === 'blob' && /^100[67][04][04]$/.test(e.mode);

/** {@link TreeFiles} of `paths`; `undefined` when git fails (each file is then read on its own, and fails there). */
async function readTreeFilesAhead(
  options: TrustedScanConfigOptions,
  paths: readonly string[],
): Promise<TreeFiles | undefined> {
  const entries = await treeEntriesAt(options.repoDir, options.baseSha, paths, options);
  if (!entries.ok) return undefined;
  const shas = [...new Set([...entries.value.values()].filter(isRegularFile).map((e) => e.sha))];
  const blobs =
    shas.length === 0 ? ok(new Map<string, GitObject>()) : await readObjects(options.repoDir, shas, options);
  if (!blobs.ok) return undefined;
  return { asked: new Set(paths), entries: entries.value, blobs: blobs.value };
}

/**
 * Reads one regular file from a commit's tree. A symlink, a submodule or a
 * directory at the path is refused (a link could point anywhere on the host);
 * `label` names the file and field in the messages, which never quote content.
 */
async function readTreeFile(
  options: TrustedScanConfigOptions,
  path: string,
  label: string,
  ahead?: TreeFiles,
): Promise<Result<string | undefined, ConveyorError>> {
  const entry = ahead?.asked.has(path)
    ? ok(ahead.entries.get(path))
    : await treeEntryAt(options.repoDir, options.baseSha, path, options);
  if (!entry.ok) return err(entry.error);
  if (entry.value === undefined) return ok(undefined);
  const where = `${label} ${path} in base commit ${options.baseSha.slice(0, 12)}`;
  if (entry.value.mode === '120000') return err(invalid(`${where} is a symlink: refused`, { path }));
  if (!isRegularFile(entry.value)) {
    return err(invalid(`${where} is not a regular file (mode ${entry.value.mode}): refused`, { path }));
  }
  let blob = ahead?.blobs.get(entry.value.sha);
  if (!blob) {
    const objects = await readObjects(options.repoDir, [entry.value.sha], options);
    if (!objects.ok) return err(objects.error);
    blob = objects.value.get(entry.value.sha);
  }
  if (!blob) return err(invalid(`${where} cannot be read`, { path }));
  return ok(blob.content.toString('utf8'));
}

async function readHostFile(path: string, label: string): Promise<Result<string, ConveyorError>> {
  try {
    return ok(await readFile(path, 'utf8'));
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'invalid_config', `${label} ${path} cannot be read`, {
        cause: thrown,
        details: { path },
      }),
    );
  }
}

/**
 * Loads the whole scan configuration from the trusted side only: the range's
 * BASE commit (`.gitleaks.toml` and its `[extend] path` chain confined to that
 * commit's tree, `.gitleaksignore`, a baseline) or absolute paths on the host.
 * Nothing is read from the range's commits or from a work tree, so a branch
 * cannot configure its own review.
 *
 * @example
 * ```ts
 * const trusted = await loadTrustedScanConfig({ repoDir, baseSha: range.baseSha });
 * ```
 */
export async function loadTrustedScanConfig(
  options: TrustedScanConfigOptions,
): Promise<Result<TrustedScanConfig, ConveyorError>> {
  const trustPaths = new Set<string>(SCAN_CONFIG_FILES);
  // the files every scan asks for, read ahead together (an invalid path is refused below, as before)
  const inTree = (p: string | undefined, fallback?: string) => {
    if (p === undefined ? fallback === undefined : isAbsolute(p)) return [];
    const confined = confinedTreePath(p ?? fallback ?? '', undefined);
    return confined.ok ? [confined.value] : [];
  };
  const ahead = await readTreeFilesAhead(options, [
    ...new Set([
      ...inTree(options.configPath, '.gitleaks.toml'),
      ...inTree(options.ignorePath, '.gitleaksignore'),
      ...inTree(options.baselinePath),
    ]),
  ]);
  let config: SecretsConfig;
  let origin: string;
  let gitleaksToml: string | undefined;
  const configPath = options.configPath;
  if (configPath !== undefined && isAbsolute(configPath)) {
    const loaded = await loadSecretsConfig({ configPath });
    if (!loaded.ok) return err(loaded.error);
    config = loaded.value;
    origin = `host file ${configPath}`;
  } else {
    const wanted = confinedTreePath(configPath ?? '.gitleaks.toml', undefined);
    if (!wanted.ok) return err(invalid(`setting securityConfigPath ${wanted.error}`, { field: 'securityConfigPath' }));
    trustPaths.add(wanted.value);
    const text = await readTreeFile(options, wanted.value, 'secrets config', ahead);
    if (!text.ok) return err(text.error);
    if (text.value === undefined) {
      if (configPath !== undefined) {
        return err(
          invalid(
            `secrets config ${wanted.value} (setting securityConfigPath) does not exist in base commit ${options.baseSha.slice(0, 12)}`,
            { path: wanted.value },
          ),
        );
      }
      const compiled = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
      if (!compiled.ok) return err(compiled.error);
      config = compiled.value;
      origin = 'built-in rules';
      gitleaksToml = '[extend]\nuseDefault = true\n';
    } else {
      const source: SecretsConfigSource = {
        read: async (path, from) => {
          const target = confinedTreePath(path, from);
          if (!target.ok) {
            return err(invalid(`${from ?? 'config'}: field 'extend.path' ${target.error}`, { field: 'extend.path' }));
          }
          trustPaths.add(target.value);
          const read = await readTreeFile(options, target.value, `${from ?? 'config'}: field 'extend.path':`);
          if (!read.ok) return err(read.error);
          if (read.value === undefined) {
            return err(
              invalid(`${from ?? 'config'}: field 'extend.path': ${target.value} does not exist in the base commit`, {
                field: 'extend.path',
              }),
            );
          }
          return ok({ name: target.value, text: read.value });
        },
      };
      const loaded = await parseSecretsConfigChain(text.value, wanted.value, source);
      if (!loaded.ok) return err(loaded.error);
      config = loaded.value.config;
      gitleaksToml = gitleaksTomlOf(loaded.value.raw);
      origin = `${loaded.value.files.join(' → ')} at base commit ${options.baseSha.slice(0, 12)}`;
    }
  }

  let ignoreText: string | undefined;
  if (options.ignorePath !== undefined && isAbsolute(options.ignorePath)) {
    const read = await readHostFile(options.ignorePath, 'ignore file');
    if (!read.ok) return err(read.error);
    ignoreText = read.value;
  } else {
    const target = confinedTreePath(options.ignorePath ?? '.gitleaksignore', undefined);
    if (!target.ok) return err(invalid(`setting securityIgnorePath ${target.error}`, { field: 'securityIgnorePath' }));
    trustPaths.add(target.value);
    const read = await readTreeFile(options, target.value, 'ignore file', ahead);
    if (!read.ok) return err(read.error);
    ignoreText = read.value;
  }
  const ignoredFingerprints = parseGitleaksIgnore(ignoreText ?? '');

  let baseline: SecretFinding[] = [];
  if (options.baselinePath !== undefined) {
    let text: string | undefined;
    let name = options.baselinePath;
    if (isAbsolute(options.baselinePath)) {
      const read = await readHostFile(options.baselinePath, 'baseline');
      if (!read.ok) return err(read.error);
      text = read.value;
    } else {
      const target = confinedTreePath(options.baselinePath, undefined);
      if (!target.ok) {
        return err(invalid(`setting securityBaselinePath ${target.error}`, { field: 'securityBaselinePath' }));
      }
      name = target.value;
      trustPaths.add(target.value);
      const read = await readTreeFile(options, target.value, 'baseline', ahead);
      if (!read.ok) return err(read.error);
      if (read.value === undefined) {
        return err(invalid(`baseline ${target.value} does not exist in the base commit`, { path: target.value }));
      }
      text = read.value;
    }
    const parsed = parseSecretsBaseline(text, name);
    if (!parsed.ok) return err(parsed.error);
    baseline = parsed.value;
  }
  return ok({
    config,
    ignoredFingerprints,
    baseline,
    trustPaths,
    origin,
    ignoreText: ignoreText ?? '',
    ...(gitleaksToml === undefined ? {} : { gitleaksToml }),
  });
}
