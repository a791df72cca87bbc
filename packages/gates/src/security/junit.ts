import type { SecurityScanOutcome } from './run-scan.js';
import { describeVulnerability } from './run-scan.js';
import type { SecretFinding } from './types.js';

/** XML-escapes text for an attribute or character data (and drops characters XML 1.0 cannot hold). */
function xml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: characters XML 1.0 forbids are removed on purpose
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;')
  );
}

/**
 * A finding as gitleaks' reports hold it: without the required findings a
 * composite finding lists (gitleaks prints those with `-v` only).
 *
 * @internal
 */
export function asGitleaksFinding(f: SecretFinding): SecretFinding {
  if (f.Required === undefined) return f;
  const { Required: _, ...rest } = f;
  return rest;
}

/**
 * The outcome as gitleaks' JUnit XML report: one test suite, one failed test
 * case per finding (the finding's JSON as the failure's text), and one per
 * vulnerable dependency. A scan that could not decide has one `error` case.
 *
 * @example
 * ```ts
 * await writeFile('report.xml', formatJunit(outcome));
 * ```
 */
export function formatJunit(outcome: SecurityScanOutcome): string {
  const cases: string[] = [];
  for (const f of outcome.secrets) {
    const message = f.Commit
      ? `${f.RuleID} has detected a secret in file ${f.File}, line ${f.StartLine}, at commit ${f.Commit}.`
      : `${f.RuleID} has detected a secret in file ${f.File}, line ${f.StartLine}.`;
    cases.push(
      `\t\t<testcase classname="${xml(f.Description)}" file="${xml(f.File)}" name="${xml(message)}" time="">\n` +
        `\t\t\t<failure message="${xml(message)}" type="${xml(f.Description)}">${xml(JSON.stringify(asGitleaksFinding(f), null, '\t'))}</failure>\n` +
        '\t\t</testcase>',
    );
  }
  for (const v of outcome.vulnerabilities) {
    const message = describeVulnerability(v);
    cases.push(
      `\t\t<testcase classname="dependency" file="${xml(v.lockfile)}" name="${xml(message)}" time="">\n` +
        `\t\t\t<failure message="${xml(message)}" type="${xml(v.id)}"></failure>\n` +
        '\t\t</testcase>',
    );
  }
  let errors = 0;
  if (outcome.error) {
    errors = 1;
    cases.push(
      `\t\t<testcase classname="conveyor-scan" name="scan" time="">\n\t\t\t<error message="${xml(outcome.error.message)}"></error>\n\t\t</testcase>`,
    );
  }
  const failures = outcome.secrets.length + outcome.vulnerabilities.length;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' +
    `\t<testsuite failures="${failures}" errors="${errors}" name="conveyor-scan" tests="${failures + errors}" time="">\n` +
    `${cases.map((c) => `${c}\n`).join('')}\t</testsuite>\n</testsuites>\n`
  );
}
