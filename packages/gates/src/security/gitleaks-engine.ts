import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { execa } from 'execa';
import type { SecurityRange } from './git-range.js';
import type { SecretsScanResult } from './secrets.js';
import type { SecretFinding } from './types.js';

const PKG = '@conveyor/gates';

/** Options of {@link runGitleaksEngine}. */
export interface GitleaksEngineOptions {
  readonly repoDir: string;
  readonly range: SecurityRange;
  /** the gitleaks executable; default `gitleaks` on PATH */
  readonly binaryPath?: string;
  /** an absolute host path passed as `--config` (wins over `configText`) */
  readonly configPath?: string;
  /** the trusted configuration (gitleaks TOML), written to a temporary file for `--config` */
  readonly configText?: string;
  /** the trusted ignore list, written to a temporary file for `--gitleaks-ignore-path` */
  readonly ignoreText?: string;
  /** the trusted baseline, written to a temporary file for `--baseline-path` */
  readonly baseline?: readonly SecretFinding[];
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const LEAKS_EXIT_CODE = 1;

function fail(
  code: 'process_failed' | 'timeout' | 'corrupt' | 'not_found',
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): ConveyorError {
  return new ConveyorError(PKG, code, message, { details, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Runs the real gitleaks binary on the range (`gitleaks git <repo>
 * --log-opts=<base>..<head> --report-format json --report-path <tmp>
 * --exit-code 1 --redact`) and reads its JSON report. Fail-closed: a missing
 * binary, any exit other than 0 (clean) or 1 (leaks), a timeout or an
 * unreadable report is an error.
 *
 * @example
 * ```ts
 * const scan = await runGitleaksEngine({ repoDir, range, binaryPath: '/usr/local/bin/gitleaks' });
 * ```
 */
export async function runGitleaksEngine(
  options: GitleaksEngineOptions,
): Promise<Result<SecretsScanResult, ConveyorError>> {
  const binary = options.binaryPath ?? 'gitleaks';
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-gitleaks-'));
  const reportPath = join(dir, 'report.json');
  // gitleaks would read .gitleaks.toml and .gitleaksignore from the checkout (the branch's own
  // files): give it the trusted ones, always, as temporary files
  const configFile = options.configPath ?? join(dir, 'gitleaks.toml');
  if (!options.configPath) await writeFile(configFile, options.configText ?? '[extend]\nuseDefault = true\n', 'utf8');
  const ignoreFile = join(dir, 'gitleaksignore');
  await writeFile(ignoreFile, options.ignoreText ?? '', 'utf8');
  const baselineFile = join(dir, 'baseline.json');
  if (options.baseline) await writeFile(baselineFile, JSON.stringify(options.baseline), 'utf8');
  const args = [
    'git',
    options.repoDir,
    `--log-opts=${options.range.baseSha}..${options.range.headSha}`,
    '--report-format',
    'json',
    '--report-path',
    reportPath,
    '--exit-code',
    String(LEAKS_EXIT_CODE),
    '--redact',
    '--no-banner',
    '--config',
    configFile,
    '--gitleaks-ignore-path',
    ignoreFile,
    ...(options.baseline ? ['--baseline-path', baselineFile] : []),
  ];
  const details = { binary };
  try {
    const t0 = performance.now();
    const run = await execa(binary, args, {
      cwd: options.repoDir,
      reject: false,
      timeout: options.timeoutMs ?? 300_000,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    const elapsed = Math.round(performance.now() - t0);
    if (run.timedOut)
      return err(fail('timeout', `gitleaks timed out after ${options.timeoutMs ?? 300_000} ms`, details));
    if (run.exitCode === undefined) {
      return err(fail('not_found', `gitleaks could not be started (${binary}): ${run.shortMessage}`, details));
    }
    if (run.exitCode !== 0 && run.exitCode !== LEAKS_EXIT_CODE) {
      const stderr =
        String(run.stderr ?? '')
          .trim()
          .split('\n')
          .slice(-1)[0] ?? '';
      return err(
        fail('process_failed', `gitleaks exited ${run.exitCode}${stderr ? `: ${stderr}` : ''}`, {
          ...details,
          exitCode: run.exitCode,
        }),
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(reportPath, 'utf8'));
    } catch (thrown) {
      return err(
        fail(
          'corrupt',
          `gitleaks exited ${run.exitCode} but its report ${reportPath} is missing or not JSON`,
          details,
          thrown,
        ),
      );
    }
    if (!Array.isArray(parsed)) return err(fail('corrupt', 'gitleaks report is not a JSON array', details));
    const findings: SecretFinding[] = [];
    for (const [i, f] of parsed.entries()) {
      if (typeof f !== 'object' || f === null || typeof (f as { RuleID?: unknown }).RuleID !== 'string') {
        return err(fail('corrupt', `gitleaks report entry ${i} has no RuleID`, details));
      }
      const o = f as Record<string, unknown>;
      const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');
      const n = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : 0);
      findings.push({
        RuleID: s('RuleID'),
        Description: s('Description'),
        StartLine: n('StartLine'),
        EndLine: n('EndLine'),
        StartColumn: n('StartColumn'),
        EndColumn: n('EndColumn'),
        Match: s('Match'),
        Secret: s('Secret'),
        File: s('File'),
        Commit: s('Commit'),
        Entropy: n('Entropy'),
        Author: s('Author'),
        Email: s('Email'),
        Date: s('Date'),
        Message: s('Message'),
        Tags: Array.isArray(o.Tags) ? o.Tags.filter((t): t is string => typeof t === 'string') : [],
        Fingerprint: s('Fingerprint') || `${s('Commit')}:${s('File')}:${s('RuleID')}:${n('StartLine')}`,
      });
    }
    if (run.exitCode === LEAKS_EXIT_CODE && findings.length === 0) {
      return err(fail('corrupt', 'gitleaks reported leaks (exit 1) but its report lists none', details));
    }
    if (run.exitCode === 0 && findings.length > 0) {
      return err(fail('corrupt', `gitleaks exited 0 but its report lists ${findings.length} findings`, details));
    }
    return ok({
      findings,
      commitsScanned: 0,
      bytesScanned: 0,
      notes: [`engine: gitleaks (${binary})`],
      gitMs: 0,
      scanMs: elapsed,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
