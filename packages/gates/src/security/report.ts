import { ConveyorError, err, ok, type Result, readReport, writeReport } from '@conveyor/core';
import * as z from 'zod';

const PKG = '@conveyor/gates';

/** The report's file name. */
export const SECURITY_REPORT_FILE = '17-security-report.md';

/** The frontmatter of `17-security-report.md`: the gate's verdict lives here and only here. */
export const securityReportFrontmatterSchema = z.object({
  gate: z.literal('security'),
  verdict: z.enum(['pass', 'fail', 'error']),
  engine: z.enum(['builtin', 'gitleaks']),
  /** the task the report is for: the read-back refuses a report of another task */
  taskId: z.string().optional(),
  /** the decision the report is for */
  decisionId: z.string().optional(),
  /** where the scan configuration came from (the base commit's files or the host's) */
  configSource: z.string().optional(),
  range: z.object({
    base: z.string(),
    head: z.string(),
    baseSha: z.string(),
    headSha: z.string(),
    mergeBaseSha: z.string(),
  }),
  counts: z.object({
    secrets: z.number().int().min(0),
    /** changes to the scan configuration inside the range (rule `conveyor-scan-config-changed`) */
    scanConfigChanges: z.number().int().min(0).default(0),
    vulnerabilities: z.number().int().min(0),
    inheritedVulnerabilities: z.number().int().min(0),
    unreachableFeeds: z.number().int().min(0),
    commitsScanned: z.number().int().min(0),
    changedPackages: z.number().int().min(0),
  }),
  durations: z.object({ gitMs: z.number(), scanMs: z.number(), auditMs: z.number(), totalMs: z.number() }),
  strictAudit: z.boolean(),
  warnings: z.array(z.string()),
  error: z.string().optional(),
  generatedAt: z.string(),
});

/** The parsed frontmatter of a security report. */
export type SecurityReport = z.output<typeof securityReportFrontmatterSchema>;

/**
 * Writes the report atomically with core's `writeReport`: YAML frontmatter
 * (validated against {@link securityReportFrontmatterSchema}) and the already
 * redacted markdown body.
 *
 * @example
 * ```ts
 * await writeSecurityReport('/reports/17-security-report.md', outcome.report, outcome.body);
 * ```
 */
export async function writeSecurityReport(
  path: string,
  frontmatter: SecurityReport,
  body: string,
): Promise<Result<string, ConveyorError>> {
  const written = await writeReport(path, { frontmatter, body }, securityReportFrontmatterSchema);
  return written.ok ? ok(path) : err(written.error);
}

/** A report that says `pass` while counting findings is broken, never a pass. */
export function securityReportContradiction(r: SecurityReport): string | undefined {
  const mustFail =
    r.counts.secrets > 0 ||
    r.counts.scanConfigChanges > 0 ||
    r.counts.vulnerabilities > 0 ||
    (r.strictAudit && r.counts.unreachableFeeds > 0);
  return r.verdict === 'pass' && mustFail ? 'says pass but counts findings' : undefined;
}

/**
 * Reads a security report's frontmatter back with core's `readReport` and
 * validates it. Missing file, missing or unparsable frontmatter, or fields
 * that contradict each other (e.g. `verdict: pass` with secrets counted) are
 * errors: the caller fails.
 *
 * @example
 * ```ts
 * const report = await readSecurityReport('/reports/17-security-report.md');
 * const status = report.ok ? report.value.verdict : 'fail';
 * ```
 */
export async function readSecurityReport(path: string): Promise<Result<SecurityReport, ConveyorError>> {
  const read = await readReport(path, securityReportFrontmatterSchema);
  if (!read.ok) return err(read.error);
  const contradiction = securityReportContradiction(read.value.frontmatter);
  if (contradiction) {
    return err(new ConveyorError(PKG, 'corrupt', `security report ${path} ${contradiction}`, { details: { path } }));
  }
  return ok(read.value.frontmatter);
}

/** What a read-back report must be about. */
export interface SecurityReportExpectation {
  readonly taskId: string;
  /** the head the decision judges (empty: not known, not checked) */
  readonly headSha: string;
  readonly decisionId?: string;
}

/**
 * Why a report read back is not the one this decision wrote (another task's,
 * another decision's, or about another head), or `undefined` when it is. A
 * gate that gets a reason fails: a verdict about other commits is no verdict.
 *
 * @example
 * ```ts
 * const why = securityReportMismatch(report, { taskId: task.id, headSha: pin.headSha, decisionId: pin.decisionId });
 * ```
 */
export function securityReportMismatch(r: SecurityReport, expected: SecurityReportExpectation): string | undefined {
  if (r.taskId !== expected.taskId) return `is for task ${r.taskId ?? '(none)'}, not ${expected.taskId}`;
  if (expected.decisionId !== undefined && r.decisionId !== expected.decisionId) {
    return `is for decision ${r.decisionId ?? '(none)'}, not ${expected.decisionId}`;
  }
  if (expected.headSha !== '' && r.verdict !== 'error' && r.range.headSha !== expected.headSha) {
    return `judged head ${r.range.headSha || '(none)'}, not ${expected.headSha}`;
  }
  return undefined;
}
