import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import {
  compileSecretsConfig,
  confinedTreePath,
  loadSecretsConfig,
  parseSecretsConfigChain,
  type SecretsConfigSource,
} from './config.js';
import { DEFAULT_SECRETS_CONFIG } from './default-rules.js';
import { readObjects, type ScanGitOptions, treeEntryAt } from './git-objects.js';
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
}

function invalid(message: string, details: Record<string, unknown>): ConveyorError {
  return new ConveyorError(PKG, 'invalid_config', message, { details });
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
): Promise<Result<string | undefined, ConveyorError>> {
  const entry = await treeEntryAt(options.repoDir, options.baseSha, path, options);
  if (!entry.ok) return err(entry.error);
  if (entry.value === undefined) return ok(undefined);
  const where = `${label} ${path} in base commit ${options.baseSha.slice(0, 12)}`;
  if (entry.value.mode === '120000') return err(invalid(`${where} is a symlink: refused`, { path }));
  if (entry.value.type !== 'blob' || !/^100[67][04][04]$/.test(entry.value.mode)) {
    return err(invalid(`${where} is not a regular file (mode ${entry.value.mode}): refused`, { path }));
  }
  const objects = await readObjects(options.repoDir, [entry.value.sha], options);
  if (!objects.ok) return err(objects.error);
  const blob = objects.value.get(entry.value.sha);
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
  let config: SecretsConfig;
  let origin: string;
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
    const text = await readTreeFile(options, wanted.value, 'secrets config');
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
    const read = await readTreeFile(options, target.value, 'ignore file');
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
      const read = await readTreeFile(options, target.value, 'baseline');
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
  return ok({ config, ignoredFingerprints, baseline, trustPaths, origin });
}
