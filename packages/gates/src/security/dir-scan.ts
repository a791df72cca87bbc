import { lstat, readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { compileSecretsConfig, loadSecretsConfig } from './config.js';
import { DEFAULT_SECRETS_CONFIG } from './default-rules.js';
import { parseGitleaksIgnore, readSecretsBaseline } from './ignore.js';
import { findingSecrets, redactDeep, redactFinding } from './redact.js';
import type { SecurityReport } from './report.js';
import type { SecurityScanOutcome } from './run-scan.js';
import { baselineKey, baselineKeys, scanFragments } from './scanner.js';
import type { SecretFinding, SecretsConfig } from './types.js';

const PKG = '@conveyor/gates';

/** The default size cap of one file in a directory scan (bytes); larger files are skipped with a warning. */
export const DIR_SCAN_MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Options of {@link scanDirectory}. */
export interface DirScanOptions {
  /** the directory (or single file) to scan */
  readonly path: string;
  /** a gitleaks TOML file on this machine; default: the built-in rules (the scanned tree's own `.gitleaks.toml` is never read) */
  readonly configPath?: string;
  /** a gitleaks JSON report on this machine: its findings are not reported again */
  readonly baselinePath?: string;
  /** a `.gitleaksignore` file on this machine */
  readonly ignorePath?: string;
  /** files larger than this are skipped with a warning (default {@link DIR_SCAN_MAX_FILE_BYTES}) */
  readonly maxFileBytes?: number;
  /** honour inline `gitleaks:allow` markers (default `false`) */
  /** decode encoded text this many times and scan it again (gitleaks' `--max-decode-depth`; default 5, 0 = off) */
  readonly maxDecodeDepth?: number;
  readonly honourInlineAllow?: boolean;
  readonly now?: () => number;
}

interface Walked {
  readonly files: string[];
  readonly warnings: string[];
}

/** Every regular file under `root`: symlinks are not followed, `.git` is skipped, sorted for a stable report. */
async function walk(root: string, maxBytes: number): Promise<Result<Walked, ConveyorError>> {
  const files: string[] = [];
  const warnings: string[] = [];
  let top: Awaited<ReturnType<typeof lstat>>;
  try {
    top = await lstat(root);
  } catch {
    return err(new ConveyorError(PKG, 'invalid_input', `path ${root} cannot be read`, { details: { path: root } }));
  }
  if (top.isFile()) {
    if (top.size > maxBytes) warnings.push(`${root}: skipped, ${top.size} bytes is over the ${maxBytes}-byte cap`);
    else files.push(root);
    return ok({ files, warnings });
  }
  if (!top.isDirectory()) {
    return err(new ConveyorError(PKG, 'invalid_input', `path ${root} is not a directory or a regular file`, {}));
  }
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      warnings.push(`${relative(root, dir) || '.'}: directory cannot be read, skipped`);
      continue;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') stack.push(full);
        continue;
      }
      if (!e.isFile()) continue; // symlinks, sockets, devices: never followed or read
      const st = await lstat(full).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (st.size > maxBytes) {
        warnings.push(`${relative(root, full)}: skipped, ${st.size} bytes is over the ${maxBytes}-byte cap`);
        continue;
      }
      files.push(full);
    }
  }
  files.sort();
  return ok({ files, warnings });
}

async function configFor(options: DirScanOptions): Promise<Result<SecretsConfig, ConveyorError>> {
  if (options.configPath === undefined) return compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  return loadSecretsConfig({ configPath: resolve(options.configPath) });
}

function renderDirBody(root: string, secrets: readonly SecretFinding[], warnings: readonly string[], error?: string) {
  const lines = [`# Secrets scan of ${root}: ${error ? 'ERROR' : secrets.length > 0 ? 'FAIL' : 'PASS'}`, ''];
  if (error) lines.push('## Error', '', error, '');
  lines.push(`## Secrets (${secrets.length})`, '');
  if (secrets.length === 0) lines.push('None found.', '');
  else {
    lines.push('| rule | file | line | preview | fingerprint |', '|---|---|---|---|---|');
    for (const f of secrets) {
      lines.push(`| ${f.RuleID} | ${f.File} | ${f.StartLine} | \`${f.Secret}\` | \`${f.Fingerprint}\` |`);
    }
    lines.push('');
  }
  if (warnings.length > 0) lines.push('## Warnings', '', ...warnings.map((w) => `- ${w}`), '');
  return `${lines.join('\n')}\n`;
}

/**
 * Scans files without git (`conveyor-scan dir`): every regular file under
 * `path` (symlinks not followed, `.git` skipped, files over the size cap
 * skipped with a warning), with the built-in rules or a host config. Findings
 * have no commit; their fingerprint is `file:rule:line` (gitleaks' form for
 * a directory scan). Everything in the outcome is already redacted. Never
 * rejects.
 *
 * @example
 * ```ts
 * const outcome = await scanDirectory({ path: './dist' });
 * console.log(outcome.report.verdict);
 * ```
 */
export async function scanDirectory(options: DirScanOptions): Promise<SecurityScanOutcome> {
  const t0 = performance.now();
  const root = resolve(options.path);
  const found: SecretFinding[] = [];
  const warnings: string[] = [];
  let error: ConveyorError | undefined;
  const failed = (e: ConveyorError) => {
    error = e;
  };
  const config = await configFor(options);
  if (!config.ok) failed(config.error);
  let ignored = new Set<string>();
  if (!error && options.ignorePath !== undefined) {
    const text = await readFile(resolve(options.ignorePath), 'utf8').catch(() => undefined);
    if (text === undefined) {
      failed(new ConveyorError(PKG, 'invalid_config', `ignore file ${resolve(options.ignorePath)} cannot be read`, {}));
    } else ignored = parseGitleaksIgnore(text);
  }
  let baseline: readonly SecretFinding[] = [];
  if (!error && options.baselinePath !== undefined) {
    const read = await readSecretsBaseline(resolve(options.baselinePath));
    if (!read.ok) failed(read.error);
    else baseline = read.value;
  }
  if (!error && config.ok) {
    const walked = await walk(root, options.maxFileBytes ?? DIR_SCAN_MAX_FILE_BYTES);
    if (!walked.ok) failed(walked.error);
    else {
      warnings.push(...walked.value.warnings);
      const known = new Set(baseline.flatMap((f) => baselineKeys({ ...f, Commit: '' })));
      const base = isAbsolute(root) && walked.value.files[0] === root ? resolve(root, '..') : root;
      for (const full of walked.value.files) {
        const content = await readFile(full).catch(() => undefined);
        if (content === undefined) {
          warnings.push(`${relative(base, full)}: cannot be read, skipped`);
          continue;
        }
        const file = relative(base, full).split(sep).join('/');
        const text = content.includes(0)
          ? Buffer.from(content.filter((b) => b !== 0)).toString('utf8')
          : content.toString('utf8');
        const lines = text.split('\n').map((t, i) => ({ lineNo: i + 1, text: t }));
        const fragment = {
          commit: { sha: '', parents: [], author: '', email: '', date: '', message: '' },
          file,
          lines,
        };
        for (const f of scanFragments(config.value, [fragment], {
          honourInlineAllow: options.honourInlineAllow === true,
          maxMatchesPerRule: 1000,
          ...(options.maxDecodeDepth === undefined ? {} : { maxDecodeDepth: options.maxDecodeDepth }),
        })) {
          const Fingerprint = `${f.File}:${f.RuleID}:${f.StartLine}`;
          if (ignored.has(Fingerprint) || known.has(baselineKey(f))) continue;
          found.push({ ...f, Fingerprint });
        }
      }
    }
  }
  const clear = findingSecrets(found);
  // one call for the whole list: the secrets are sorted, and their finder built, once
  const secrets = redactDeep(found.map(redactFinding), clear);
  const verdict: SecurityReport['verdict'] = error ? 'error' : secrets.length > 0 ? 'fail' : 'pass';
  const ms = Math.round(performance.now() - t0);
  const report: SecurityReport = {
    gate: 'security',
    verdict,
    engine: 'builtin',
    range: { base: '', head: root, baseSha: '', headSha: '', mergeBaseSha: '' },
    configSource: options.configPath === undefined ? 'built-in rules' : `host file ${resolve(options.configPath)}`,
    counts: {
      secrets: secrets.length,
      scanConfigChanges: 0,
      vulnerabilities: 0,
      inheritedVulnerabilities: 0,
      unreachableFeeds: 0,
      commitsScanned: 0,
      changedPackages: 0,
    },
    durations: { gitMs: 0, scanMs: ms, auditMs: 0, totalMs: ms },
    strictAudit: false,
    warnings,
    ...(error ? { error: (error as ConveyorError).message } : {}),
    generatedAt: new Date(options.now ? options.now() : Date.now()).toISOString(),
  };
  const e = error as ConveyorError | undefined;
  return {
    report,
    secrets,
    vulnerabilities: [],
    body: renderDirBody(root, secrets, report.warnings, e?.message),
    ...(e ? { error: e } : {}),
  };
}
