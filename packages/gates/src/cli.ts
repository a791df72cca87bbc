#!/usr/bin/env node
// conveyor-scan: the security gate alone, for a CI job.
// Exit 0 clean, 1 findings, 2 error (bad arguments, unresolvable range, scan failure).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSecurityOutcome, type SecurityOutputFormat } from './security/formats.js';
import { runSecurityScan } from './security/run-scan.js';
import { securitySettingsSchema } from './security/settings.js';

const USAGE = `usage: conveyor-scan [--range BASE..HEAD] [--repo DIR] [--config PATH] [--report FILE]
                     [--format json|sarif|markdown] [--engine builtin|gitleaks] [--gitleaks PATH]
                     [--baseline PATH] [--strict] [--no-audit] [--advisory-dir DIR] [--timeout MS]
                     [--honour-inline-allow] [--allow-config-changes]
--config and --baseline: a path in the range's BASE commit, or an absolute path on this machine
(never read from the branch under review or a work tree).
exit codes: 0 clean, 1 findings, 2 error`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      options: {
        range: { type: 'string' },
        repo: { type: 'string' },
        config: { type: 'string' },
        report: { type: 'string' },
        format: { type: 'string' },
        engine: { type: 'string' },
        gitleaks: { type: 'string' },
        baseline: { type: 'string' },
        'advisory-dir': { type: 'string' },
        strict: { type: 'boolean' },
        timeout: { type: 'string' },
        'honour-inline-allow': { type: 'boolean' },
        'allow-config-changes': { type: 'boolean' },
        'no-audit': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }).values;
  } catch (thrown) {
    process.stderr.write(`conveyor-scan: ${thrown instanceof Error ? thrown.message : String(thrown)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format = (values.format ?? 'markdown') as string;
  if (!['json', 'sarif', 'markdown'].includes(format)) {
    process.stderr.write(`conveyor-scan: --format must be json, sarif or markdown (got ${format})\n`);
    return 2;
  }
  const settings = securitySettingsSchema.safeParse({
    ...(values.engine ? { securityEngine: values.engine } : {}),
    ...(values.config ? { securityConfigPath: values.config } : {}),
    ...(values.gitleaks ? { securityGitleaksPath: values.gitleaks } : {}),
    ...(values.baseline ? { securityBaselinePath: values.baseline } : {}),
    ...(values['advisory-dir']
      ? { securityAdvisorySources: ['osv-dir'], securityAdvisoryDir: resolve(String(values['advisory-dir'])) }
      : {}),
    ...(values.timeout ? { securityTimeoutMs: values.timeout } : {}),
    securityHonourInlineAllow: values['honour-inline-allow'] === true,
    securityAllowScanConfigChanges: values['allow-config-changes'] === true,
    securityDepAuditFailClosed: values.strict === true,
    securityDepAuditEnabled: values['no-audit'] !== true,
  });
  if (!settings.success) {
    const issue = settings.error.issues[0];
    process.stderr.write(`conveyor-scan: invalid option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}\n`);
    return 2;
  }
  const started = Date.now();
  const outcome = await runSecurityScan({
    repoDir: resolve(String(values.repo ?? process.cwd())),
    ...(values.range ? { range: String(values.range) } : {}),
    settings: settings.data,
    onProgress: (line) => {
      // only talk when the scan is long enough for someone to wonder
      if (Date.now() - started > 1000) process.stderr.write(`conveyor-scan: ${line}\n`);
    },
  });
  const text = formatSecurityOutcome(outcome, format as SecurityOutputFormat);
  if (values.report) await writeFile(resolve(String(values.report)), text, 'utf8');
  else process.stdout.write(text);
  const r = outcome.report;
  process.stderr.write(
    `conveyor-scan: ${r.verdict}: ${r.counts.secrets} secret(s), ${r.counts.vulnerabilities} vulnerable dependenc${r.counts.vulnerabilities === 1 ? 'y' : 'ies'}, ${r.counts.commitsScanned} commit(s) in ${r.durations.totalMs} ms\n`,
  );
  for (const w of r.warnings) process.stderr.write(`conveyor-scan: warning: ${w}\n`);
  if (outcome.error) process.stderr.write(`conveyor-scan: error: ${outcome.error.message}\n`);
  return r.verdict === 'pass' ? 0 : r.verdict === 'fail' ? 1 : 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (thrown: unknown) => {
    process.stderr.write(
      `conveyor-scan: internal error: ${thrown instanceof Error ? thrown.message : String(thrown)}\n`,
    );
    process.exitCode = 2;
  },
);
