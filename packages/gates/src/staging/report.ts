import {
  type ConveyorError,
  type Finding,
  type GateOutcome,
  type Result,
  verdictFromReport,
  writeReport,
} from '@conveyor/core';
import * as z from 'zod';
import type { StagingDecision } from './classify.js';

/** The frontmatter of a staging report: `staging_status` is the verdict. */
export const stagingReportSchema = z.object({
  staging_status: z.enum(['SUCCESS', 'FAILED']),
  mode: z.enum(['tolerant', 'strict']),
  reason: z.string(),
  waived: z.array(z.string()),
  failed: z.array(z.string()),
  errors: z.array(z.string()),
  checks: z.array(z.object({ id: z.string(), state: z.string(), category: z.enum(['real', 'sandbox-infra']) })),
});

/** A staging report's frontmatter. */
export type StagingReport = z.output<typeof stagingReportSchema>;

function body(decision: StagingDecision): string {
  const rows = decision.checks.map((c) => {
    const detail = (c.detail ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 200);
    const note = c.notAllowlisted ? ' (declared infra, not allowlisted)' : '';
    return `| ${c.id} | ${c.state} | ${c.category}${note} | ${detail} |`;
  });
  return [
    `# Staging: ${decision.status}`,
    '',
    decision.reason,
    '',
    '| check | state | category | detail |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Waived: ${decision.waived.length === 0 ? '(none)' : decision.waived.join(', ')}`,
    '',
  ].join('\n');
}

/**
 * Writes the staging report (`staging_status:` frontmatter and a table for people).
 *
 * @example
 * ```ts
 * await writeStagingReport('/var/conveyor/reports/t1/staging.md', decideStaging(checks, policy));
 * ```
 */
export function writeStagingReport(path: string, decision: StagingDecision): Promise<Result<void, ConveyorError>> {
  const frontmatter: StagingReport = {
    staging_status: decision.status,
    mode: decision.mode,
    reason: decision.reason,
    waived: [...decision.waived],
    failed: [...decision.failed],
    errors: [...decision.errors],
    checks: decision.checks.map((c) => ({ id: c.id, state: c.state, category: c.category })),
  };
  return writeReport(path, { frontmatter, body: body(decision) }, stagingReportSchema);
}

/**
 * The staging verdict, read back from the report's frontmatter (the only place
 * it lives): `SUCCESS` → `pass` (the waived checks as warnings), `FAILED` →
 * `fail`; a missing or unreadable report is a `fail`.
 *
 * @example
 * ```ts
 * const outcome = await stagingVerdictFromReport('/var/conveyor/reports/t1/staging.md');
 * ```
 */
export function stagingVerdictFromReport(path: string): Promise<GateOutcome> {
  return verdictFromReport(path, stagingReportSchema, (fm): GateOutcome => {
    if (fm.staging_status === 'SUCCESS') {
      return {
        status: 'pass',
        summary: `staging ${fm.mode}: ${fm.reason}`,
        ...(fm.waived.length === 0 ? {} : { warnings: [`waived sandbox-infra failures: ${fm.waived.join(', ')}`] }),
      };
    }
    const findings: Finding[] = [
      ...fm.failed.map((id): Finding => ({ rule: id, message: `staging check ${id} failed`, severity: 'error' })),
      ...fm.errors.map(
        (id): Finding => ({ rule: id, message: `staging check ${id} did not give a verdict`, severity: 'error' }),
      ),
    ];
    return {
      status: 'fail',
      summary: `staging ${fm.mode}: ${fm.reason}`,
      ...(findings.length === 0 ? {} : { findings }),
    };
  });
}
