import { formatCsv } from './csv.js';
import { formatJunit } from './junit.js';
import type { SecurityScanOutcome } from './run-scan.js';
import { describeSecretFinding, describeVulnerability } from './run-scan.js';

/** Output formats of `conveyor-scan` (gitleaks' `--report-format` names). */
export type SecurityOutputFormat = 'json' | 'sarif' | 'markdown' | 'csv' | 'junit';

/** Every {@link SecurityOutputFormat}. */
export const SECURITY_OUTPUT_FORMATS: readonly SecurityOutputFormat[] = ['json', 'sarif', 'markdown', 'csv', 'junit'];

/**
 * gitleaks' `--redact=N` on an outcome that is already redacted: at 100 (the
 * default of a bare `--redact`) `Secret` becomes `REDACTED` and the preview is
 * removed from `Match`, as gitleaks prints it; below 100 the preview stays
 * (first 4 characters at most: a secret is never shown in clear, whatever N).
 *
 * @example
 * ```ts
 * const shown = withRedaction(outcome, 100);
 * ```
 */
export function withRedaction(outcome: SecurityScanOutcome, percent: number | undefined): SecurityScanOutcome {
  if (percent === undefined || percent < 100) return outcome;
  const secrets = outcome.secrets.map((f) =>
    f.Secret === '' ? f : { ...f, Secret: 'REDACTED', Match: f.Match.split(f.Secret).join('REDACTED') },
  );
  const previews = outcome.secrets.map((f) => f.Secret).filter((p) => p.length > 1);
  let body = outcome.body;
  for (const p of [...new Set(previews)].sort((a, b) => b.length - a.length)) body = body.split(p).join('REDACTED');
  return { ...outcome, secrets, body };
}

/**
 * Renders a scan outcome (already redacted): `json` is the gitleaks JSON
 * report shape (an array of findings), `sarif` is SARIF 2.1.0 with secrets and
 * vulnerable dependencies as results, `markdown` is the report body.
 *
 * @example
 * ```ts
 * process.stdout.write(formatSecurityOutcome(outcome, 'sarif'));
 * ```
 */
export function formatSecurityOutcome(outcome: SecurityScanOutcome, format: SecurityOutputFormat): string {
  if (format === 'json') return `${JSON.stringify(outcome.secrets, null, 2)}\n`;
  if (format === 'markdown') return outcome.body;
  if (format === 'csv') return formatCsv(outcome);
  if (format === 'junit') return formatJunit(outcome);
  const rules = new Map<string, { id: string; shortDescription: { text: string } }>();
  const results: unknown[] = [];
  for (const f of outcome.secrets) {
    rules.set(f.RuleID, { id: f.RuleID, shortDescription: { text: f.Description } });
    results.push({
      ruleId: f.RuleID,
      level: 'error',
      message: { text: describeSecretFinding(f) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: f.File },
            region: {
              startLine: Math.max(1, f.StartLine),
              startColumn: Math.max(1, f.StartColumn),
              endLine: Math.max(1, f.EndLine),
              endColumn: Math.max(1, f.EndColumn),
            },
          },
        },
      ],
      partialFingerprints: { commitSha: f.Commit, gitleaksFingerprint: f.Fingerprint },
    });
  }
  for (const v of outcome.vulnerabilities) {
    rules.set(v.id, { id: v.id, shortDescription: { text: v.summary } });
    results.push({
      ruleId: v.id,
      level: v.status === 'introduced' ? 'error' : 'warning',
      message: { text: describeVulnerability(v) },
      locations: [{ physicalLocation: { artifactLocation: { uri: v.lockfile } } }],
    });
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: { name: 'conveyor-scan', informationUri: 'https://github.com/conveyor', rules: [...rules.values()] },
        },
        results,
        invocations: [
          {
            executionSuccessful: outcome.report.verdict !== 'error',
            ...(outcome.error
              ? { toolExecutionNotifications: [{ level: 'error', message: { text: outcome.error.message } }] }
              : {}),
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
