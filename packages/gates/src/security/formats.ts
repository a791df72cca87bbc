import type { SecurityScanOutcome } from './run-scan.js';
import { describeSecretFinding, describeVulnerability } from './run-scan.js';

/** Output formats of `conveyor-scan`. */
export type SecurityOutputFormat = 'json' | 'sarif' | 'markdown';

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
