import type { Finding } from './types.js';

/**
 * One finding as one line: `- [severity] rule file:line: message (fingerprint …)`,
 * leaving out the parts the finding does not have. Line breaks inside the
 * message are flattened so one finding stays one line.
 *
 * @example
 * ```ts
 * renderFinding({ rule: 'aws-key', file: 'src/a.ts', line: 3, message: 'AWS key', fingerprint: 'abc:src/a.ts:aws-key:3', severity: 'error' });
 * // '- [error] aws-key src/a.ts:3: AWS key (fingerprint abc:src/a.ts:aws-key:3)'
 * ```
 */
export function renderFinding(finding: Finding): string {
  const parts = [`- [${finding.severity}]`];
  if (finding.rule !== undefined && finding.rule !== '') parts.push(finding.rule);
  if (finding.file !== undefined && finding.file !== '') {
    parts.push(finding.line === undefined ? finding.file : `${finding.file}:${finding.line}`);
  }
  const head = parts.join(' ');
  const message = finding.message.replace(/\r?\n/g, ' ');
  const fingerprint = finding.fingerprint === undefined ? '' : ` (fingerprint ${finding.fingerprint})`;
  return `${head}: ${message}${fingerprint}`;
}

/**
 * The text a failing gate hands to the next developer job: its summary, then
 * its findings one per line. The stage machine carries it verbatim.
 *
 * @example
 * ```ts
 * findingsText('security', '1 secret found', findings);
 * // 'security: 1 secret found\n- [error] aws-key src/a.ts:3: AWS key (fingerprint …)'
 * ```
 */
export function findingsText(gateId: string, summary: string, findings: readonly Finding[]): string {
  return [`${gateId}: ${summary}`, ...findings.map(renderFinding)].join('\n');
}
