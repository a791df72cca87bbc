import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';

const PKG = '@conveyor/gates';

/** The report's file name. */
export const SECURITY_REPORT_FILE = '17-security-report.md';

/** The frontmatter of `17-security-report.md`: the gate's verdict lives here and only here. */
export const securityReportFrontmatterSchema = z.object({
  gate: z.literal('security'),
  verdict: z.enum(['pass', 'fail', 'error']),
  engine: z.enum(['builtin', 'gitleaks']),
  range: z.object({
    base: z.string(),
    head: z.string(),
    baseSha: z.string(),
    headSha: z.string(),
    mergeBaseSha: z.string(),
  }),
  counts: z.object({
    secrets: z.number().int().min(0),
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
 * Writes the report atomically: YAML frontmatter between `---` lines, then the
 * (already redacted) markdown body.
 */
export async function writeSecurityReport(
  path: string,
  frontmatter: SecurityReport,
  body: string,
): Promise<Result<string, ConveyorError>> {
  const checked = securityReportFrontmatterSchema.safeParse(frontmatter);
  if (!checked.success) {
    return err(
      new ConveyorError(
        PKG,
        'internal',
        `security report frontmatter is invalid: ${checked.error.issues[0]?.message ?? ''}`,
      ),
    );
  }
  const text = `---\n${stringifyYaml(checked.data)}---\n\n${body.endsWith('\n') ? body : `${body}\n`}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${SECURITY_REPORT_FILE}.${process.pid}.tmp`);
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'internal', `cannot write security report ${path}`, { cause: thrown, details: { path } }),
    );
  }
  return ok(path);
}

/**
 * Reads a security report's frontmatter back and validates it. Missing file,
 * missing or unparsable frontmatter, or fields that contradict each other
 * (e.g. `verdict: pass` with secrets counted) are errors: the caller fails.
 *
 * @example
 * ```ts
 * const report = await readSecurityReport('/reports/17-security-report.md');
 * const status = report.ok ? report.value.verdict : 'fail';
 * ```
 */
export async function readSecurityReport(path: string): Promise<Result<SecurityReport, ConveyorError>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'not_found', `security report ${path} cannot be read`, {
        cause: thrown,
        details: { path },
      }),
    );
  }
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!m)
    return err(
      new ConveyorError(PKG, 'corrupt', `security report ${path} has no YAML frontmatter`, { details: { path } }),
    );
  let raw: unknown;
  try {
    raw = parseYaml(m[1] ?? '');
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'corrupt', `security report ${path}: frontmatter is not YAML`, {
        cause: thrown,
        details: { path },
      }),
    );
  }
  const parsed = securityReportFrontmatterSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(
      new ConveyorError(
        PKG,
        'corrupt',
        `security report ${path}: field '${issue?.path.join('.') ?? ''}' ${issue?.message ?? 'is invalid'}`,
        { details: { path } },
      ),
    );
  }
  const r = parsed.data;
  const mustFail =
    r.counts.secrets > 0 || r.counts.vulnerabilities > 0 || (r.strictAudit && r.counts.unreachableFeeds > 0);
  if (r.verdict === 'pass' && mustFail) {
    return err(
      new ConveyorError(PKG, 'corrupt', `security report ${path} says pass but counts findings`, { details: { path } }),
    );
  }
  return ok(r);
}
