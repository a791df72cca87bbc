import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import type * as z from 'zod';
import type { GateOutcome } from '../gates/types.js';
import { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';

const PKG = '@conveyor/core';

/** A report: YAML frontmatter (the verdict) and a markdown body (for people). */
export interface Report<F> {
  readonly frontmatter: F;
  readonly body: string;
}

/** Why a report could not be read. */
export type ReportProblem = 'missing' | 'unreadable' | 'no_frontmatter' | 'unterminated' | 'invalid_yaml' | 'schema';

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

function schemaIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ');
}

function problem(path: string, kind: ReportProblem, message: string, cause?: unknown): ConveyorError {
  const code = kind === 'missing' ? 'not_found' : kind === 'unreadable' ? 'internal' : 'corrupt';
  return new ConveyorError(PKG, code, `report ${path}: ${message}`, {
    details: { path, problem: kind },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Validates the frontmatter with `schema`, then writes the report to `path`
 * (creating its folder) atomically: to a temporary file beside it, then a
 * rename, so a reader never sees half a report.
 *
 * @example
 * ```ts
 * const SecurityReport = z.object({ verdict: z.enum(['pass', 'fail']), findings: z.number().int() });
 * const written = await writeReport('/var/conveyor/reports/t1/security.md', { frontmatter: { verdict: 'pass', findings: 0 }, body: '# Security\nclean' }, SecurityReport);
 * ```
 */
export async function writeReport<S extends z.ZodType>(
  path: string,
  report: Report<z.input<S>>,
  schema: S,
): Promise<Result<void, ConveyorError>> {
  const parsed = schema.safeParse(report.frontmatter);
  if (!parsed.success) {
    return err(
      new ConveyorError(
        PKG,
        'invalid_input',
        `report ${path}: frontmatter does not match its schema: ${schemaIssues(parsed.error)}`,
        {
          details: { path, problem: 'schema' },
        },
      ),
    );
  }
  let yamlText: string;
  try {
    yamlText = stringify(parsed.data);
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'invalid_input', `report ${path}: frontmatter cannot be written as YAML`, {
        cause: thrown,
      }),
    );
  }
  const text = `---\n${yamlText}---\n${report.body}`;
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, text, 'utf8');
    await rename(temp, path);
    return ok();
  } catch (thrown) {
    await rm(temp, { force: true }).catch(() => undefined);
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return err(
      new ConveyorError(PKG, 'internal', `report ${path}: cannot write: ${message}`, {
        cause: thrown,
        details: { path },
      }),
    );
  }
}

/** Splits the frontmatter (between two `---` lines at the top) from the body, or says why it cannot. */
function split(text: string): { yaml: string; body: string } | 'no_frontmatter' | 'unterminated' {
  const content = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = content.split('\n');
  if ((lines[0] ?? '').replace(/\r$/, '') !== '---') return 'no_frontmatter';
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line === '---' || line === '...') {
      const yaml = lines
        .slice(1, i)
        .map((l) => l.replace(/\r$/, ''))
        .join('\n');
      return { yaml, body: lines.slice(i + 1).join('\n') };
    }
  }
  return 'unterminated';
}

/**
 * Reads a report back and validates its frontmatter with `schema`. A missing
 * file (`not_found`), a missing or unterminated frontmatter, invalid YAML, a
 * frontmatter that is not a mapping, or a schema mismatch (`corrupt`) is an
 * error naming the cause.
 *
 * @example
 * ```ts
 * const read = await readReport('/var/conveyor/reports/t1/security.md', SecurityReport);
 * if (read.ok) console.log(read.value.frontmatter.verdict);
 * ```
 */
export async function readReport<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<Result<Report<z.output<S>>, ConveyorError>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (thrown) {
    const code = (thrown as { code?: unknown }).code;
    if (code === 'ENOENT') return err(problem(path, 'missing', 'the report is missing', thrown));
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return err(problem(path, 'unreadable', `cannot read the report: ${message}`, thrown));
  }
  const parts = split(text);
  if (parts === 'no_frontmatter') return err(problem(path, 'no_frontmatter', 'the report has no YAML frontmatter'));
  if (parts === 'unterminated') {
    return err(problem(path, 'unterminated', 'the YAML frontmatter is not terminated (no closing ---)'));
  }
  const doc = parseDocument(parts.yaml, { prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    // only the first line: the excerpt that follows would quote the report's content
    return err(problem(path, 'invalid_yaml', `the frontmatter is not valid YAML: ${firstLine(yamlError.message)}`));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return err(problem(path, 'invalid_yaml', `the frontmatter is not valid YAML: ${firstLine(message)}`, thrown));
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return err(problem(path, 'schema', 'the frontmatter is not a YAML mapping'));
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    return err(problem(path, 'schema', `the frontmatter does not match its schema: ${schemaIssues(parsed.error)}`));
  }
  return ok({ frontmatter: parsed.data as z.output<S>, body: parts.body });
}

/**
 * The verdict of a gate that writes a report: read the report back and let
 * `decide` map its frontmatter to an outcome. Anything unreadable (missing
 * file, no frontmatter, invalid YAML, schema mismatch) or a throwing `decide`
 * is a `fail` naming the cause, never a pass. The outcome carries `reportPath`.
 *
 * @example
 * ```ts
 * const outcome = await verdictFromReport(path, SecurityReport, (fm) =>
 *   fm.verdict === 'pass' ? { status: 'pass', summary: 'no secrets' } : { status: 'fail', summary: `${fm.findings} findings` },
 * );
 * ```
 */
export async function verdictFromReport<S extends z.ZodType>(
  path: string,
  schema: S,
  decide: (frontmatter: z.output<S>) => GateOutcome,
): Promise<GateOutcome> {
  const read = await readReport(path, schema);
  if (!read.ok) return { status: 'fail', summary: read.error.message, reportPath: path };
  try {
    const outcome = decide(read.value.frontmatter);
    if (typeof outcome !== 'object' || outcome === null) {
      return {
        status: 'fail',
        summary: `report ${path}: deciding from the frontmatter gave no outcome`,
        reportPath: path,
      };
    }
    return { ...outcome, reportPath: outcome.reportPath ?? path };
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return {
      status: 'fail',
      summary: `report ${path}: deciding from the frontmatter failed: ${message}`,
      reportPath: path,
    };
  }
}
