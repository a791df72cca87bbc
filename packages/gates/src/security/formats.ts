import { gatesPackageInfo } from '../package-info.js';
import type { DependencyVulnerability } from './audit/audit.js';
import { formatCsv } from './csv.js';
import { asGitleaksFinding, formatJunit } from './junit.js';
import { findingSecrets } from './redact.js';
import type { SecurityScanOutcome } from './run-scan.js';
import { describeSecretFinding, describeVulnerability } from './run-scan.js';
import { SCAN_CONFIG_CHANGED_RULE } from './secrets.js';

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
  const hide = <T extends { Secret: string; Match: string }>(f: T): T =>
    f.Secret === '' ? f : { ...f, Secret: 'REDACTED', Match: f.Match.split(f.Secret).join('REDACTED') };
  const secrets = outcome.secrets.map((f) => {
    const shown = hide(f);
    return f.Required ? { ...shown, Required: f.Required.map(hide) } : shown;
  });
  const previews = findingSecrets(outcome.secrets).filter((p) => p.length > 1);
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
  // gitleaks' shape: a composite finding's required findings are not in it (they are printed by -v)
  if (format === 'json') return `${JSON.stringify(outcome.secrets.map(asGitleaksFinding), null, 2)}\n`;
  if (format === 'markdown') return outcome.body;
  if (format === 'csv') return formatCsv(outcome);
  if (format === 'junit') return formatJunit(outcome);
  return formatSarif(outcome);
}

/** GitHub code scanning's scale (0.1–10): critical ≥ 9, high ≥ 7, medium ≥ 4. */
function advisorySeverity(severity: string | undefined): string {
  const s = (severity ?? '').trim().toLowerCase();
  const n = Number(s);
  if (s !== '' && Number.isFinite(n) && n >= 0 && n <= 10) return n.toFixed(1);
  if (s.startsWith('crit')) return '9.5';
  if (s.startsWith('high')) return '8.0';
  if (s.startsWith('mod') || s.startsWith('med')) return '5.5';
  if (s.startsWith('low')) return '3.0';
  return '7.0'; // unknown: counted as high, the gate fails on it anyway
}

/** A repository path as a SARIF URI reference (each segment percent-encoded). */
function uriOf(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  defaultConfiguration: { level: 'error' | 'warning' };
  properties: { 'security-severity': string; tags: string[]; precision: string };
}

function secretRule(id: string, description: string, tags: readonly string[]): SarifRule {
  const changed = id === SCAN_CONFIG_CHANGED_RULE;
  const text = changed
    ? 'The branch changes the scan configuration (.gitleaks.toml, its [extend] chain, .gitleaksignore or the baseline). The scan reads it from the base commit only; land the change on the main branch first.'
    : `A secret (${description}) was committed. Remove it from the branch history (rewrite the commits) and rotate it: it has been pushed. A false positive goes into .gitleaksignore on the main branch (its fingerprint), never on the branch under review.`;
  return {
    id,
    name: id,
    shortDescription: { text: description || id },
    fullDescription: { text: description || id },
    help: {
      text,
      markdown: changed
        ? `**Scan configuration changed by the branch.** ${text}`
        : `**${description || id}** (rule \`${id}\`)\n\n${text}`,
    },
    defaultConfiguration: { level: 'error' },
    properties: {
      'security-severity': changed ? '7.0' : '9.0',
      tags: ['security', 'secret', ...tags.filter((t) => t !== 'security' && t !== 'secret')],
      precision: tags.includes('generic') ? 'medium' : 'high',
    },
  };
}

function advisoryRule(v: DependencyVulnerability): SarifRule {
  const fix = v.fixed ? ` Upgrade ${v.pkg.name} to ${v.fixed} or later.` : ' No fixed version is known.';
  const aliases = v.aliases.length > 0 ? ` Also known as ${v.aliases.join(', ')}.` : '';
  const text = `${v.summary || v.id}: a vulnerable ${v.pkg.ecosystem} dependency.${fix}${aliases}`;
  return {
    id: v.id,
    name: v.id,
    shortDescription: { text: v.summary || v.id },
    fullDescription: { text: `${v.id}: ${v.summary || 'vulnerable dependency'}` },
    help: { text, markdown: `**${v.id}** ${v.summary}\n\n${fix.trim()}${aliases}` },
    defaultConfiguration: { level: 'error' },
    properties: {
      'security-severity': advisorySeverity(v.severity),
      tags: ['security', 'dependency', 'vulnerability', v.pkg.ecosystem],
      precision: 'high',
    },
  };
}

/**
 * SARIF 2.1.0 of an outcome: one rule per rule id with `help` (text and
 * markdown), `security-severity` and `tags`; each result with a region and
 * `partialFingerprints`. A dependency result points at the package's entry in
 * its lockfile (`line` when the scan located it, else line 1).
 *
 * @example
 * ```ts
 * await writeFile('results.sarif', formatSarif(outcome));
 * ```
 */
export function formatSarif(outcome: SecurityScanOutcome): string {
  const rules = new Map<string, SarifRule>();
  const results: unknown[] = [];
  const indexOf = (id: string) => [...rules.keys()].indexOf(id);
  for (const f of outcome.secrets) {
    if (!rules.has(f.RuleID)) rules.set(f.RuleID, secretRule(f.RuleID, f.Description, f.Tags));
    const startLine = Math.max(1, f.StartLine);
    const endLine = Math.max(startLine, f.EndLine);
    const startColumn = Math.max(1, f.StartColumn);
    // gitleaks' EndColumn is the last character; SARIF's endColumn is the one after it
    const endColumn = Math.max(endLine === startLine ? startColumn + 1 : 1, f.EndColumn + 1);
    results.push({
      ruleId: f.RuleID,
      ruleIndex: indexOf(f.RuleID),
      level: 'error',
      message: { text: describeSecretFinding(f) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: uriOf(f.File) },
            region: { startLine, startColumn, endLine, endColumn },
          },
        },
      ],
      partialFingerprints: { commitSha: f.Commit, gitleaksFingerprint: f.Fingerprint },
    });
  }
  for (const v of outcome.vulnerabilities) {
    if (!rules.has(v.id)) rules.set(v.id, advisoryRule(v));
    const line = Math.max(1, v.line ?? 1);
    results.push({
      ruleId: v.id,
      ruleIndex: indexOf(v.id),
      level: v.status === 'introduced' ? 'error' : 'warning',
      message: { text: describeVulnerability(v) },
      locations: [{ physicalLocation: { artifactLocation: { uri: uriOf(v.lockfile) }, region: { startLine: line } } }],
      partialFingerprints: {
        dependency: `${v.lockfile}:${v.pkg.ecosystem}:${v.pkg.name}@${v.pkg.version}:${v.id}`,
      },
    });
  }
  const info = gatesPackageInfo();
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'conveyor-scan',
            version: info.version,
            semanticVersion: info.version,
            ...(info.informationUri ? { informationUri: info.informationUri } : {}),
            rules: [...rules.values()],
          },
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
