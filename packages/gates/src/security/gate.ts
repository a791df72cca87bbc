import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type Finding, type Gate, type GateContext, type GateOutcome, verdictFromReport } from '@conveyor/core';
import type { AdvisorySource } from './audit/sources.js';
import {
  SECURITY_REPORT_FILE,
  type SecurityReport,
  securityReportContradiction,
  securityReportFrontmatterSchema,
  securityReportMismatch,
  writeSecurityReport,
} from './report.js';
import { describeVulnerability, runSecurityScan } from './run-scan.js';
import { INLINE_ALLOW_IGNORED_TAG } from './scanner.js';
import { SCAN_CONFIG_CHANGED_RULE } from './secrets.js';
import { type SecuritySettingsInput, securitySettingsSchema } from './settings.js';

/** Options of {@link createSecurityGate}: the settings plus what a host wires in. */
export interface SecurityGateOptions extends SecuritySettingsInput {
  /** the checkout to scan; default the context's `workdir` */
  readonly repoDir?: string;
  /** overrides the advisory sources named in the settings (e.g. a test server) */
  readonly sources?: readonly AdvisorySource[];
}

/** One path segment from an id: nothing in it can climb out of the report directory or collide by sanitising. */
function pathSegment(id: string): string {
  const enc = encodeURIComponent(id).replace(/\*/g, '%2A');
  return /^\.+$/.test(enc) ? enc.replace(/\./g, '%2E') : enc;
}

/**
 * Where one decision's security report lives: `<reportDir>/<taskId>/<decisionId>/17-security-report.md`
 * (a fresh unique id when the run is not pinned to a decision), so two tasks or
 * two decisions never share a report file.
 *
 * @example
 * ```ts
 * securityReportPath('/reports', 'task-1', 'dec-7'); // '/reports/task-1/dec-7/17-security-report.md'
 * ```
 */
export function securityReportPath(reportDir: string, taskId: string, decisionId?: string): string {
  return join(reportDir, pathSegment(taskId), pathSegment(decisionId ?? `run-${randomUUID()}`), SECURITY_REPORT_FILE);
}

function errorOutcome(summary: string, reportPath?: string): GateOutcome {
  return { status: 'error', summary, findings: [], ...(reportPath ? { reportPath } : {}) };
}

/**
 * The security gate: first on `deploy-staging → deploy`. Scans the task
 * branch's own commits (`origin/main..HEAD`, resolved before any rebase) for
 * secrets and its lockfile changes for known-vulnerable packages, writes
 * `17-security-report.md`, and returns the verdict READ BACK from that
 * report's frontmatter (missing or broken → error, which fails closed).
 * Findings carry rule, file, line, commit and fingerprint, never a secret.
 *
 * @example
 * ```ts
 * const gate = createSecurityGate({ securityBaseRef: 'origin/main', securityDepAuditFailClosed: true });
 * registry.register('deploy-staging->deploy', gate);
 * ```
 */
export function createSecurityGate(options: SecurityGateOptions = {}): Gate {
  const { repoDir, sources, ...settingsInput } = options;
  const settings = Object.freeze(securitySettingsSchema.parse(settingsInput));
  return Object.freeze({
    id: 'security',
    timeoutMs: settings.securityTimeoutMs,
    async run(ctx: GateContext): Promise<GateOutcome> {
      const dir = repoDir ?? ctx.workdir;
      if (!dir) return errorOutcome('security: no repository checkout (set repoDir or provide ctx.workdir)');
      const reportDir = settings.securityReportDir ?? ctx.reportDir;
      if (!reportDir)
        return errorOutcome('security: no report directory (set securityReportDir or provide ctx.reportDir)');
      const pin = ctx.decision;
      const reportPath = securityReportPath(reportDir, ctx.task.id, pin?.decisionId);
      // a pinned decision judges exactly its commits: the sha is what gets merged, wherever the branch is now
      const outcome = await runSecurityScan({
        repoDir: dir,
        settings,
        taskId: ctx.task.id,
        ...(pin ? { range: `${pin.baseSha}..${pin.headSha}`, decisionId: pin.decisionId } : {}),
        signal: ctx.signal,
        now: () => ctx.now(),
        ...(sources ? { sources } : {}),
        onProgress: (line) => ctx.logger.debug(`security: ${line}`, { taskId: ctx.task.id }),
      });
      const written = await writeSecurityReport(reportPath, outcome.report, outcome.body);
      if (!written.ok) return errorOutcome(`security: ${written.error.message}`);
      // the verdict is the report read back (core's fail-closed read-back)
      let r: SecurityReport | undefined;
      const readBack = await verdictFromReport(reportPath, securityReportFrontmatterSchema, (fm) => {
        const contradiction = securityReportContradiction(fm);
        if (contradiction) return { status: 'fail', summary: `security: report ${reportPath} ${contradiction}` };
        const mismatch = securityReportMismatch(fm, {
          taskId: ctx.task.id,
          headSha: pin?.headSha ?? outcome.report.range.headSha,
          ...(pin ? { decisionId: pin.decisionId } : {}),
        });
        if (mismatch) return { status: 'fail', summary: `security: report ${reportPath} ${mismatch}` };
        r = fm;
        return { status: fm.verdict, summary: '' };
      });
      if (!r) {
        return {
          status: readBack.status === 'pass' ? 'error' : readBack.status,
          summary: `security: failing closed: ${readBack.summary}`,
          findings: [],
          reportPath,
        };
      }
      const findings: Finding[] = [
        ...outcome.secrets.map(
          (f): Finding => ({
            rule: f.RuleID,
            file: f.File,
            line: f.StartLine,
            commit: f.Commit,
            fingerprint: f.Fingerprint,
            // rule, file, line and fingerprint have their own fields: the message adds what they do not say
            message:
              f.RuleID === SCAN_CONFIG_CHANGED_RULE
                ? `the branch changed the scan configuration file ${f.File} in commit ${f.Commit.slice(0, 12)}; the scan used the base commit's version. Revert the change on the branch (a human lands it on main first)`
                : `${f.Description || 'secret'} added in commit ${f.Commit.slice(0, 12)} (preview ${f.Secret}); remove it from the branch history and rotate it${f.Tags.includes(INLINE_ALLOW_IGNORED_TAG) ? ' (its gitleaks:allow marker is not honoured: the branch wrote it)' : ''}`,
            severity: 'error',
          }),
        ),
        ...outcome.vulnerabilities.map(
          (v): Finding => ({
            rule: v.id,
            file: v.lockfile,
            message: describeVulnerability(v),
            severity: v.status === 'introduced' ? 'error' : 'warning',
          }),
        ),
      ];
      const parts = [
        `${r.counts.secrets} secret${r.counts.secrets === 1 ? '' : 's'}`,
        ...(r.counts.scanConfigChanges > 0 ? [`${r.counts.scanConfigChanges} scan configuration change(s)`] : []),
        `${r.counts.vulnerabilities} vulnerable dependenc${r.counts.vulnerabilities === 1 ? 'y' : 'ies'}`,
        ...(r.counts.inheritedVulnerabilities > 0 ? [`${r.counts.inheritedVulnerabilities} inherited`] : []),
        ...(r.counts.unreachableFeeds > 0 ? [`${r.counts.unreachableFeeds} advisory feed(s) unreachable`] : []),
      ];
      const summary = r.error
        ? `security: error: ${r.error}`
        : `security ${r.verdict}: ${parts.join(', ')} in ${r.counts.commitsScanned} commits`;
      ctx.logger.info('security gate decided', {
        taskId: ctx.task.id,
        verdict: r.verdict,
        secrets: r.counts.secrets,
        vulnerabilities: r.counts.vulnerabilities,
        reportPath,
      });
      for (const w of r.warnings) ctx.logger.warn(`security: ${w}`, { taskId: ctx.task.id });
      return {
        status: r.verdict,
        summary,
        findings,
        warnings: r.warnings,
        reportPath,
      };
    },
  });
}
