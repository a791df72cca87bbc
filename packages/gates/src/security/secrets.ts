import { join } from 'node:path';
import type { ConveyorError, Result } from '@conveyor/core';
import { err, ok } from '@conveyor/core';
import { loadSecretsConfig } from './config.js';
import { readRangePatch, type SecurityRange } from './git-range.js';
import { readGitleaksIgnore, readSecretsBaseline } from './ignore.js';
import { parsePatchLog } from './patch.js';
import { scanFragments } from './scanner.js';
import type { SecretFinding } from './types.js';

/** Options of {@link scanSecrets}. */
export interface ScanSecretsOptions {
  /** the repository checkout */
  readonly repoDir: string;
  /** the verified range to scan */
  readonly range: SecurityRange;
  /** a `.gitleaks.toml`, relative to `repoDir`; default `<repo>/.gitleaks.toml` when present, else the built-in rules */
  readonly configPath?: string;
  /** a gitleaks JSON report whose findings are ignored */
  readonly baselinePath?: string;
  /** default `<repo>/.gitleaksignore` */
  readonly ignorePath?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** What a secrets scan found (secrets in clear: redact before showing). */
export interface SecretsScanResult {
  readonly findings: readonly SecretFinding[];
  readonly commitsScanned: number;
  /** bytes of `git log -p` text read */
  readonly bytesScanned: number;
  /** notes for the report (binary files skipped, …) */
  readonly notes: readonly string[];
  readonly gitMs: number;
  readonly scanMs: number;
}

/**
 * The built-in engine: reads the added lines of every commit in the range and
 * scans them with the repository's `.gitleaks.toml` (or the built-in rules).
 *
 * @example
 * ```ts
 * const range = await resolveSecurityRange('/repo', 'origin/main..HEAD');
 * if (range.ok) {
 *   const scan = await scanSecrets({ repoDir: '/repo', range: range.value });
 * }
 * ```
 */
export async function scanSecrets(options: ScanSecretsOptions): Promise<Result<SecretsScanResult, ConveyorError>> {
  const config = await loadSecretsConfig({
    repoDir: options.repoDir,
    ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
  });
  if (!config.ok) return err(config.error);
  const ignored = await readGitleaksIgnore(options.ignorePath ?? join(options.repoDir, '.gitleaksignore'));
  let baseline: SecretFinding[] = [];
  if (options.baselinePath !== undefined) {
    const b = await readSecretsBaseline(join(options.repoDir, options.baselinePath));
    if (!b.ok) return err(b.error);
    baseline = b.value;
  }
  const t0 = performance.now();
  const patch = await readRangePatch(options.repoDir, options.range, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (!patch.ok) return err(patch.error);
  const t1 = performance.now();
  const parsed = parsePatchLog(patch.value);
  const findings = scanFragments(config.value, parsed.fragments, { ignoredFingerprints: ignored, baseline });
  const t2 = performance.now();
  return ok({
    findings,
    commitsScanned: parsed.commits.length,
    bytesScanned: Buffer.byteLength(patch.value),
    notes: parsed.binaryFiles.map((b) => `binary file skipped: ${b}`),
    gitMs: Math.round(t1 - t0),
    scanMs: Math.round(t2 - t1),
  });
}
