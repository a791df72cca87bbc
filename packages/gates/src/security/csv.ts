import type { SecurityScanOutcome } from './run-scan.js';

/** gitleaks' CSV columns, in its order. */
export const CSV_COLUMNS = [
  'RuleID',
  'Commit',
  'File',
  'SymlinkFile',
  'Secret',
  'Match',
  'StartLine',
  'EndLine',
  'StartColumn',
  'EndColumn',
  'Author',
  'Message',
  'Date',
  'Email',
  'Fingerprint',
  'Tags',
] as const;

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would read as a
 * formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`: file names
 * and commit messages are written by the branch's author.
 */
function cell(value: string | number): string {
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The outcome as gitleaks' CSV report (same columns; empty when nothing was
 * found). Vulnerable dependencies are rows too: `RuleID` the advisory, `File`
 * the lockfile, `Match` the description, `Tags` `dependency`.
 *
 * @example
 * ```ts
 * await writeFile('report.csv', formatCsv(outcome));
 * ```
 */
export function formatCsv(outcome: SecurityScanOutcome): string {
  const rows: (string | number)[][] = [];
  for (const f of outcome.secrets) {
    rows.push([
      f.RuleID,
      f.Commit,
      f.File,
      '',
      f.Secret,
      f.Match,
      f.StartLine,
      f.EndLine,
      f.StartColumn,
      f.EndColumn,
      f.Author,
      f.Message,
      f.Date,
      f.Email,
      f.Fingerprint,
      f.Tags.join(' '),
    ]);
  }
  for (const v of outcome.vulnerabilities) {
    const what = `${v.pkg.ecosystem} ${v.pkg.name}@${v.pkg.version}: ${v.summary}${v.fixed ? ` (fixed in ${v.fixed})` : ''}`;
    rows.push([
      v.id,
      '',
      v.lockfile,
      '',
      '',
      what,
      0,
      0,
      0,
      0,
      '',
      '',
      '',
      '',
      `${v.lockfile}:${v.id}:${v.pkg.name}@${v.pkg.version}`,
      `dependency ${v.status}`,
    ]);
  }
  if (rows.length === 0) return '';
  return `${[[...CSV_COLUMNS], ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
