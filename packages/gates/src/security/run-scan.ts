import { isAbsolute } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import type { DependencyAuditResult, DependencyVulnerability } from './audit/audit.js';
import type { AdvisorySource } from './audit/sources.js';
import { loadTrustedScanConfig } from './base-config.js';
import { resolveSecurityRange, type SecurityRange } from './git-range.js';
import { scanSecretsOffThread } from './off-thread.js';
import { findingSecrets, redactDeep, redactFinding } from './redact.js';
import type { SecurityReport } from './report.js';
import { baselineKey, baselineKeys, INLINE_ALLOW_IGNORED_TAG } from './scanner.js';
import { SCAN_CONFIG_CHANGED_RULE, type SecretsScanResult, scanSecrets } from './secrets.js';
import type { SecuritySettings } from './settings.js';
import type { SecretFinding } from './types.js';

/** Options of {@link runSecurityScan}. */
export interface SecurityScanOptions {
  readonly repoDir: string;
  /** `BASE..HEAD`; default `<securityBaseRef>..<securityHeadRef>` */
  readonly range?: string;
  readonly settings: SecuritySettings;
  /** overrides the sources named in the settings */
  readonly sources?: readonly AdvisorySource[];
  readonly signal?: AbortSignal;
  /** progress lines (never a secret) */
  readonly onProgress?: (line: string) => void;
  /** epoch ms, for the report */
  readonly now?: () => number;
  /** the task the scan is for: written to the report, checked when it is read back */
  readonly taskId?: string;
  /** the decision the scan is for (see core's `DecisionPin`) */
  readonly decisionId?: string;
  /**
   * run the secrets scan on this thread instead of a worker (default
   * `false`): for a process of its own such as `conveyor-scan`, where no host
   * event loop has to stay free. The deadline then stops the scan between
   * chunks of commits and kills its git processes, not inside a regex.
   */
  readonly inProcess?: boolean;
}

/** {@link scanSecrets} on this thread, stopped at `deadlineMs` (or by `signal`) between chunks. */
async function scanSecretsInProcess(
  options: Parameters<typeof scanSecretsOffThread>[0],
): Promise<Result<SecretsScanResult, ConveyorError>> {
  const { deadlineMs, signal, ...rest } = options;
  const deadline = AbortSignal.timeout(deadlineMs);
  const stop = signal ? AbortSignal.any([signal, deadline]) : deadline;
  let result: Result<SecretsScanResult, ConveyorError>;
  try {
    result = await scanSecrets({ ...rest, signal: stop });
  } catch (thrown) {
    // as the worker reports it: a bug of the scan is an error verdict, never a rejection
    const why = thrown instanceof Error ? thrown.message : String(thrown);
    return err(new ConveyorError('@conveyor/gates', 'internal', `secrets scan threw: ${why}`));
  }
  if (stop.aborted) {
    const why = signal?.aborted ? 'the gate was aborted' : `deadline of ${deadlineMs} ms passed`;
    return err(
      new ConveyorError('@conveyor/gates', 'timeout', `secrets scan stopped: ${why}`, { details: { deadlineMs } }),
    );
  }
  return result;
}

/** A vulnerable dependency and the line of its entry in the lockfile at the head (when found). */
export interface LocatedVulnerability extends DependencyVulnerability {
  /** 1-based line of the package's entry in `lockfile` at the range's head */
  readonly line?: number;
}

/** The outcome of a whole security scan: everything in it is already redacted. */
export interface SecurityScanOutcome {
  /** the report frontmatter (its `verdict` is what was decided) */
  readonly report: SecurityReport;
  /** secrets found, redacted (`Secret` is a preview) */
  readonly secrets: readonly SecretFinding[];
  readonly vulnerabilities: readonly LocatedVulnerability[];
  /** the markdown body of the report */
  readonly body: string;
  /** set when the scan could not decide (verdict `error`) */
  readonly error?: ConveyorError;
}

/**
 * A part of the scan only some scans run (the dependency audit, the gitleaks
 * engine), loaded when one does, so a scan without it loads none of its
 * parsers and clients. A part that cannot be loaded (a broken install) is the
 * scan's error, never a rejection.
 */
async function loadPart<T>(what: string, load: () => Promise<T>): Promise<Result<T, ConveyorError>> {
  try {
    return ok(await load());
  } catch (thrown) {
    return err(new ConveyorError('@conveyor/gates', 'internal', `${what} could not be loaded`, { cause: thrown }));
  }
}

/** The real gitleaks binary on the range, given only the trusted configuration (base commit or host). */
async function gitleaksFindings(
  repoDir: string,
  range: SecurityRange,
  s: SecuritySettings,
  signal: AbortSignal | undefined,
): Promise<Result<readonly SecretFinding[], ConveyorError>> {
  const trusted = await loadTrustedScanConfig({
    repoDir,
    baseSha: range.baseSha,
    ...(s.securityConfigPath ? { configPath: s.securityConfigPath } : {}),
    ...(s.securityBaselinePath ? { baselinePath: s.securityBaselinePath } : {}),
    ...(s.securityIgnorePath ? { ignorePath: s.securityIgnorePath } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!trusted.ok) return err(trusted.error);
  const hostConfig = s.securityConfigPath && isAbsolute(s.securityConfigPath) ? s.securityConfigPath : undefined;
  const engine = await loadPart('the gitleaks engine', () => import('./gitleaks-engine.js'));
  if (!engine.ok) return err(engine.error);
  const run = await engine.value.runGitleaksEngine({
    repoDir,
    range,
    timeoutMs: s.securityTimeoutMs,
    ...(s.securityGitleaksPath ? { binaryPath: s.securityGitleaksPath } : {}),
    ...(hostConfig ? { configPath: hostConfig } : {}),
    ...(trusted.value.gitleaksToml === undefined ? {} : { configText: trusted.value.gitleaksToml }),
    ignoreText: trusted.value.ignoreText,
    ...(s.securityBaselinePath ? { baseline: trusted.value.baseline } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!run.ok) return err(run.error);
  // gitleaks matches its baseline on fields a redacted report no longer holds: match it here as the built-in engine does
  const known = new Set(trusted.value.baseline.flatMap(baselineKeys));
  return ok(run.value.findings.filter((f) => !known.has(baselineKey(f))));
}

const short = (sha: string) => sha.slice(0, 12);

/** One line per (already redacted) secret finding, safe to show anywhere. */
export function describeSecretFinding(f: SecretFinding): string {
  return `secret (${f.RuleID}) in ${f.File}:${f.StartLine}, commit ${short(f.Commit)}, preview ${f.Secret}; fingerprint ${f.Fingerprint}`;
}

/** One line per vulnerable dependency. */
export function describeVulnerability(v: DependencyVulnerability): string {
  const fix = v.fixed ? `, fixed in ${v.fixed}` : '';
  const what = v.status === 'inherited' ? 'already vulnerable at the merge base' : 'introduced by this branch';
  return `${v.pkg.ecosystem} ${v.pkg.name}@${v.pkg.version} (${v.lockfile}): ${v.id} ${v.summary}${fix}; ${what}`;
}

function renderBody(o: Omit<SecurityScanOutcome, 'body'>): string {
  const r = o.report;
  const lines: string[] = [
    `# Security report: ${r.verdict.toUpperCase()}`,
    '',
    `Range \`${r.range.base}..${r.range.head}\` (${short(r.range.baseSha)}..${short(r.range.headSha)}), engine ${r.engine}, ${r.counts.commitsScanned} commits scanned.`,
    ...(r.configSource ? ['', `Scan configuration: ${r.configSource} (never the branch under review).`] : []),
    '',
  ];
  if (o.error) lines.push('## Error', '', o.error.message, '');
  const changes = o.secrets.filter((f) => f.RuleID === SCAN_CONFIG_CHANGED_RULE);
  const found = o.secrets.filter((f) => f.RuleID !== SCAN_CONFIG_CHANGED_RULE);
  if (changes.length > 0) {
    lines.push(`## Scan configuration changed by the branch (${changes.length}, rule ${SCAN_CONFIG_CHANGED_RULE})`, '');
    for (const f of changes) lines.push(`- \`${f.File}\` in commit ${short(f.Commit)}`);
    lines.push(
      '',
      'The scan configuration (`.gitleaks.toml` and its `[extend]` chain, `.gitleaksignore`, the baseline) is read from the',
      "range's base commit, never from the branch: the code under review does not configure its own review. A branch",
      'that changes these files fails until a human lands the change on main first (or the host sets',
      '`securityAllowScanConfigChanges`).',
      '',
    );
  }
  lines.push(`## Secrets (${found.length})`, '');
  if (found.length === 0) lines.push('None found.', '');
  else {
    lines.push('| rule | file | line | commit | preview | fingerprint |', '|---|---|---|---|---|---|');
    for (const f of found) {
      const marker = f.Tags.includes(INLINE_ALLOW_IGNORED_TAG) ? ' (gitleaks:allow not honoured)' : '';
      lines.push(
        `| ${f.RuleID}${marker} | ${f.File} | ${f.StartLine} | ${short(f.Commit)} | \`${f.Secret}\` | \`${f.Fingerprint}\` |`,
      );
    }
    lines.push(
      '',
      'Remove each secret from the branch history (rewrite the commits) and rotate it: it has been pushed.',
      '',
    );
  }
  const introduced = o.vulnerabilities.filter((v) => v.status === 'introduced');
  const inherited = o.vulnerabilities.filter((v) => v.status === 'inherited');
  lines.push(`## Vulnerable dependencies (${introduced.length})`, '');
  if (introduced.length === 0) lines.push('None introduced by this branch.', '');
  else for (const v of introduced) lines.push(`- ${describeVulnerability(v)}`);
  if (inherited.length > 0) {
    lines.push('', `## Inherited from main (${inherited.length}, warnings)`, '');
    for (const v of inherited) lines.push(`- ${describeVulnerability(v)}`);
  }
  if (r.warnings.length > 0) {
    lines.push('', '## Warnings', '');
    for (const w of r.warnings) lines.push(`- **${w}**`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Runs the whole security check on a repository: resolves and verifies the
 * range, scans the added lines for secrets (built-in engine or gitleaks), and
 * audits the lockfile changes against the advisory sources. Decides the
 * verdict (secrets or introduced vulnerabilities → fail; an unreachable feed
 * → a warning, or fail when strict; anything undecidable → error). Every
 * secret in the outcome is already redacted. Never rejects.
 *
 * @example
 * ```ts
 * const outcome = await runSecurityScan({ repoDir: '/repo', settings: securitySettingsSchema.parse({}) });
 * console.log(outcome.report.verdict);
 * ```
 */
export async function runSecurityScan(options: SecurityScanOptions): Promise<SecurityScanOutcome> {
  const t0 = performance.now();
  const s = options.settings;
  const rangeText = options.range ?? `${s.securityBaseRef}..${s.securityHeadRef}`;
  const progress = options.onProgress ?? (() => {});
  const warnings: string[] = [];
  const [baseName = '', headName = 'HEAD'] = rangeText.split(/\.\.\.?/);
  let range: SecurityRange = { baseRef: baseName, headRef: headName, baseSha: '', headSha: '', mergeBaseSha: '' };
  let scan: SecretsScanResult | undefined;
  let audit: DependencyAuditResult | undefined;
  let error: ConveyorError | undefined;
  let configSource: string | undefined;

  progress(`resolving range ${rangeText}`);
  const resolved = await resolveSecurityRange(options.repoDir, rangeText, options.signal);
  if (!resolved.ok) error = resolved.error;
  else {
    range = resolved.value;
    progress(`scanning ${range.baseSha.slice(0, 12)}..${range.headSha.slice(0, 12)} for secrets (${s.securityEngine})`);
    const common = {
      repoDir: options.repoDir,
      range,
      timeoutMs: s.securityTimeoutMs,
      ...(s.securityConfigPath ? { configPath: s.securityConfigPath } : {}),
      ...(s.securityBaselinePath ? { baselinePath: s.securityBaselinePath } : {}),
      ...(s.securityIgnorePath ? { ignorePath: s.securityIgnorePath } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    // the built-in engine always runs (trust boundary, commit messages, blobs as stored);
    // the gitleaks engine adds the real binary's findings on top, fed the trusted files
    let secrets = await (options.inProcess ? scanSecretsInProcess : scanSecretsOffThread)({
      ...common,
      deadlineMs: s.securityTimeoutMs,
      honourInlineAllow: s.securityHonourInlineAllow,
      maxDecodeDepth: s.securityMaxDecodeDepth,
      allowScanConfigChanges: s.securityAllowScanConfigChanges,
    });
    if (secrets.ok && s.securityEngine === 'gitleaks') {
      const extra = await gitleaksFindings(options.repoDir, range, s, options.signal);
      if (!extra.ok) secrets = err(extra.error);
      else {
        const seen = new Set(secrets.value.findings.map((f) => f.Fingerprint));
        const findings = [...secrets.value.findings, ...extra.value.filter((f) => !seen.has(f.Fingerprint))];
        secrets = ok({ ...secrets.value, findings });
      }
    }
    if (!secrets.ok) error = secrets.error;
    else {
      scan = secrets.value;
      for (const n of scan.notes) {
        if (n.startsWith('config: ')) configSource = n.slice('config: '.length);
        else if (!n.startsWith('engine:')) warnings.push(n);
      }
      progress(`secrets: ${scan.findings.length} found in ${scan.commitsScanned} commits (${scan.bytesScanned} bytes)`);
      if (s.securityDepAuditEnabled) {
        progress('auditing lockfile changes');
        const parts = await loadPart('the dependency audit', () =>
          Promise.all([import('./audit/audit.js'), import('./audit/scan-audit.js')]),
        );
        const audited = !parts.ok
          ? parts
          : await parts.value[0].auditDependencies({
              repoDir: options.repoDir,
              baseSha: range.mergeBaseSha,
              headSha: range.headSha,
              sources: options.sources ?? parts.value[1].advisorySourcesFromSettings(s),
              ...(options.signal ? { signal: options.signal } : {}),
            });
        if (!audited.ok) error = audited.error;
        else {
          audit = audited.value;
          for (const u of audit.unreachable) {
            warnings.push(
              `ADVISORY FEED UNREACHABLE (${s.securityDepAuditFailClosed ? 'strict: failing' : 'passing without it'}): ${u}`,
            );
          }
          warnings.push(...audit.warnings);
          for (const v of audit.vulnerabilities.filter((x) => x.status === 'inherited')) {
            warnings.push(`inherited vulnerability: ${describeVulnerability(v)}`);
          }
        }
      }
    }
  }

  // every secret found anywhere in the scan is removed from every field of every output
  const clear = findingSecrets(scan?.findings ?? []);
  // one call for the whole list: the secrets are sorted, and their finder built, once
  const secrets = redactDeep((scan?.findings ?? []).map(redactFinding), clear);
  const configChanges = secrets.filter((f) => f.RuleID === SCAN_CONFIG_CHANGED_RULE).length;
  // (only an audit that ran finds vulnerabilities, and it loaded this part)
  const found = audit?.vulnerabilities ?? [];
  const vulnerabilities: readonly LocatedVulnerability[] =
    found.length === 0
      ? []
      : await (await import('./audit/scan-audit.js')).locateVulnerabilities(options.repoDir, range.headSha, found);
  const introduced = vulnerabilities.filter((v) => v.status === 'introduced').length;
  const unreachable = audit?.unreachable.length ?? 0;
  const verdict: SecurityReport['verdict'] = error
    ? 'error'
    : secrets.length > 0 || introduced > 0 || (s.securityDepAuditFailClosed && unreachable > 0)
      ? 'fail'
      : 'pass';
  const report: SecurityReport = {
    gate: 'security',
    verdict,
    engine: s.securityEngine,
    range: {
      base: range.baseRef,
      head: range.headRef,
      baseSha: range.baseSha,
      headSha: range.headSha,
      mergeBaseSha: range.mergeBaseSha,
    },
    ...(options.taskId === undefined ? {} : { taskId: options.taskId }),
    ...(configSource === undefined ? {} : { configSource }),
    ...(options.decisionId === undefined ? {} : { decisionId: options.decisionId }),
    counts: {
      secrets: secrets.length - configChanges,
      scanConfigChanges: configChanges,
      vulnerabilities: introduced,
      inheritedVulnerabilities: vulnerabilities.length - introduced,
      unreachableFeeds: unreachable,
      commitsScanned: scan?.commitsScanned ?? 0,
      changedPackages: audit?.changed.length ?? 0,
    },
    durations: {
      gitMs: scan?.gitMs ?? 0,
      scanMs: scan?.scanMs ?? 0,
      auditMs: audit?.durationMs ?? 0,
      totalMs: Math.round(performance.now() - t0),
    },
    strictAudit: s.securityDepAuditFailClosed,
    warnings: redactDeep(warnings, clear),
    ...(error ? { error: redactDeep(error.message, clear) } : {}),
    generatedAt: new Date(options.now ? options.now() : Date.now()).toISOString(),
  };
  const safeError = error
    ? new ConveyorError(error.pkg, error.code, redactDeep(error.message, clear), { details: {} })
    : undefined;
  const partial = {
    report,
    secrets,
    vulnerabilities: redactDeep(vulnerabilities, clear),
    ...(safeError ? { error: safeError } : {}),
  };
  return { ...partial, body: redactDeep(renderBody(partial), clear) };
}
