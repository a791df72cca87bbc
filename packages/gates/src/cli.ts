#!/usr/bin/env node
// conveyor-scan: the security gate alone, for a CI job.
// Exit 0 clean, 1 findings (or --exit-code), 2 error (bad arguments, unresolvable range, scan failure).
import { writeFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gatesPackageInfo } from './package-info.js';
import { MAX_DECODE_DEPTH } from './security/decode.js';
import type { SecurityOutputFormat } from './security/formats.js';
import type { SecurityScanOutcome } from './security/run-scan.js';

// the scan's modules (and the libraries they load: zod, re2js, the TOML parser) are loaded only when a scan runs,
// so --help, --version and argument errors answer at once
const loadScan = () =>
  Promise.all([
    import('./security/formats.js'),
    import('./security/redact.js'),
    import('./security/log-opts.js'),
    import('./security/run-scan.js'),
    import('./security/settings.js'),
  ]);
const loadDir = () => import('./security/dir-scan.js');

const USAGE = `usage: conveyor-scan [git] [REPO] [options]     scan the commits of a range (default origin/main..HEAD)
       conveyor-scan dir [PATH] [options]        scan files without git (every regular file; symlinks not
                                                 followed, .git skipped, files over --max-target-megabytes skipped)
options (gitleaks' names beside Conveyor's):
  --report-format, --format json|sarif|csv|junit|markdown   (default: from --report-path's extension, else markdown)
  --report-path, --report FILE     write the report there instead of stdout
  --baseline-path, --baseline PATH findings of this JSON report (gitleaks' or conveyor-scan's, redacted or not)
                                   are not reported again
  --config PATH                    a .gitleaks.toml
  --redact[=N]                     show secrets as REDACTED (N=100, the default); below 100 the usual preview
                                   (never more than the first 4 characters, whatever N)
  --exit-code N                    the exit code when something is found (default 1)
  --log-opts 'BASE..HEAD'          git mode: the revision range (options that run commands or write files,
                                   e.g. --output, --ext-diff, --textconv, are refused; others are not supported)
  --range BASE..HEAD  --repo DIR   git mode: the range and repository
  --max-target-megabytes N         dir mode: the per-file size cap (default 10)
  --max-decode-depth N             decode base64/hex/percent-encoded text this many times (default 5, 0 = off)
  -v, --verbose                    print each finding (redacted) on stderr
  --version                        print the version
  --no-banner                      accepted for gitleaks compatibility (there is no banner)
  --engine builtin|gitleaks  --gitleaks PATH  --strict  --no-audit  --advisory-dir DIR  --timeout MS
  --honour-inline-allow  --allow-config-changes
git mode: --config and --baseline-path are a path in the range's BASE commit, or an absolute path on this machine
(never read from the branch under review or a work tree). dir mode: paths on this machine; the scanned tree's
own .gitleaks.toml is not read (the built-in rules unless --config).
exit codes: 0 clean, 1 findings (--exit-code), 2 error`;

type Values = Record<string, string | boolean | undefined>;

/** `--redact` and `--redact=N` (parseArgs has no optional values) taken out of argv, `--log-opts V` joined to `--log-opts=V`. */
function takeRedact(argv: readonly string[]): { rest: string[]; redact?: number; error?: string } {
  const rest: string[] = [];
  let redact: number | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] as string;
    // gitleaks' --log-opts value usually starts with '-': parseArgs would take it for an option
    if (a === '--log-opts' && i + 1 < argv.length) {
      rest.push(`--log-opts=${argv[i + 1]}`);
      i += 1;
      continue;
    }
    const m = /^--redact(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const n = m[1] === undefined ? 100 : Number(m[1]);
    if (!/^\d{1,3}$/.test(m[1] ?? '100') || n > 100) return { rest, error: '--redact=N takes a percentage 0..100' };
    redact = n;
  }
  return { rest, ...(redact === undefined ? {} : { redact }) };
}

function one(values: Values, a: string, b: string): { value?: string; error?: string } {
  const x = values[a];
  const y = values[b];
  if (typeof x === 'string' && typeof y === 'string' && x !== y) return { error: `--${a} and --${b} disagree` };
  const v = typeof x === 'string' ? x : typeof y === 'string' ? y : undefined;
  return v === undefined ? {} : { value: v };
}

function formatFromPath(path: string | undefined): SecurityOutputFormat {
  const ext = path ? extname(path).toLowerCase() : '';
  if (ext === '.json') return 'json';
  if (ext === '.sarif') return 'sarif';
  if (ext === '.csv') return 'csv';
  if (ext === '.xml') return 'junit';
  return 'markdown';
}

async function main(argv: readonly string[]): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`conveyor-scan: ${message}\n${USAGE}\n`);
    return 2;
  };
  const taken = takeRedact(argv);
  if (taken.error) return fail(taken.error);
  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: taken.rest,
      options: {
        range: { type: 'string' },
        repo: { type: 'string' },
        config: { type: 'string' },
        report: { type: 'string' },
        'report-path': { type: 'string' },
        format: { type: 'string' },
        'report-format': { type: 'string' },
        engine: { type: 'string' },
        gitleaks: { type: 'string' },
        baseline: { type: 'string' },
        'baseline-path': { type: 'string' },
        'exit-code': { type: 'string' },
        'log-opts': { type: 'string' },
        'max-target-megabytes': { type: 'string' },
        'max-decode-depth': { type: 'string' },
        'advisory-dir': { type: 'string' },
        strict: { type: 'boolean' },
        timeout: { type: 'string' },
        'honour-inline-allow': { type: 'boolean' },
        'allow-config-changes': { type: 'boolean' },
        'no-audit': { type: 'boolean' },
        'no-banner': { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (thrown) {
    return fail(thrown instanceof Error ? thrown.message : String(thrown));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`conveyor-scan ${gatesPackageInfo().version}\n`);
    return 0;
  }
  let mode: 'git' | 'dir' = 'git';
  const [formats, { redactSecret }, { parseLogOpts }, { runSecurityScan }, { securitySettingsSchema }] =
    await loadScan();
  const { formatSecurityOutcome, SECURITY_OUTPUT_FORMATS, withRedaction } = formats;
  const command = positionals[0];
  if (command === 'git' || command === 'dir') {
    mode = command;
    positionals.shift();
  } else if (command !== undefined) return fail(`unknown command ${command} (git or dir)`);
  if (positionals.length > 1) return fail(`unexpected argument ${positionals[1]}`);
  const target = positionals[0];
  const formatOpt = one(values, 'report-format', 'format');
  const reportOpt = one(values, 'report-path', 'report');
  const baselineOpt = one(values, 'baseline-path', 'baseline');
  for (const o of [formatOpt, reportOpt, baselineOpt]) if (o.error) return fail(o.error);
  const format = (formatOpt.value ?? formatFromPath(reportOpt.value)) as SecurityOutputFormat;
  if (!SECURITY_OUTPUT_FORMATS.includes(format)) {
    return fail(`--report-format must be one of ${SECURITY_OUTPUT_FORMATS.join(', ')} (got ${format})`);
  }
  let findingsCode = 1;
  if (values['exit-code'] !== undefined) {
    const raw = String(values['exit-code']);
    findingsCode = Number(raw);
    if (!/^\d{1,3}$/.test(raw) || findingsCode > 255) return fail('--exit-code takes an integer 0..255');
  }

  let maxDecodeDepth: number | undefined;
  if (values['max-decode-depth'] !== undefined) {
    const raw = String(values['max-decode-depth']);
    maxDecodeDepth = Number(raw);
    if (!/^\d{1,3}$/.test(raw) || maxDecodeDepth > MAX_DECODE_DEPTH) {
      return fail(`--max-decode-depth takes an integer 0..${MAX_DECODE_DEPTH}`);
    }
  }

  let outcome: SecurityScanOutcome;
  if (mode === 'dir') {
    for (const k of ['range', 'log-opts', 'repo', 'engine', 'gitleaks']) {
      if (values[k] !== undefined) return fail(`--${k} has no meaning in dir mode`);
    }
    let maxFileBytes: number | undefined;
    if (values['max-target-megabytes'] !== undefined) {
      const mb = Number(values['max-target-megabytes']);
      if (!Number.isFinite(mb) || mb <= 0) return fail('--max-target-megabytes takes a positive number');
      maxFileBytes = Math.floor(mb * 1024 * 1024);
    }
    const { scanDirectory } = await loadDir();
    outcome = await scanDirectory({
      path: target ?? process.cwd(),
      ...(typeof values.config === 'string' ? { configPath: values.config } : {}),
      ...(baselineOpt.value ? { baselinePath: baselineOpt.value } : {}),
      ...(maxFileBytes === undefined ? {} : { maxFileBytes }),
      honourInlineAllow: values['honour-inline-allow'] === true,
      ...(maxDecodeDepth === undefined ? {} : { maxDecodeDepth }),
    });
  } else {
    if (values['max-target-megabytes'] !== undefined) return fail('--max-target-megabytes is for dir mode');
    let range = typeof values.range === 'string' ? values.range : undefined;
    if (values['log-opts'] !== undefined) {
      const opts = parseLogOpts(String(values['log-opts']));
      if (!opts.ok) return fail(opts.error.message);
      if (opts.value.range !== undefined) {
        if (range !== undefined && range !== opts.value.range) return fail('--range and --log-opts disagree');
        range = opts.value.range;
      }
    }
    if (target !== undefined && values.repo !== undefined && resolve(target) !== resolve(String(values.repo))) {
      return fail('the repository path and --repo disagree');
    }
    const settings = securitySettingsSchema.safeParse({
      ...(values.engine ? { securityEngine: values.engine } : {}),
      ...(values.config ? { securityConfigPath: values.config } : {}),
      ...(values.gitleaks ? { securityGitleaksPath: values.gitleaks } : {}),
      ...(baselineOpt.value ? { securityBaselinePath: baselineOpt.value } : {}),
      ...(values['advisory-dir']
        ? { securityAdvisorySources: ['osv-dir'], securityAdvisoryDir: resolve(String(values['advisory-dir'])) }
        : {}),
      ...(values.timeout ? { securityTimeoutMs: values.timeout } : {}),
      securityHonourInlineAllow: values['honour-inline-allow'] === true,
      ...(maxDecodeDepth === undefined ? {} : { securityMaxDecodeDepth: maxDecodeDepth }),
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
    outcome = await runSecurityScan({
      repoDir: resolve(String(target ?? values.repo ?? process.cwd())),
      ...(range ? { range } : {}),
      settings: settings.data,
      // this command is its own process: no host event loop to keep free, so no worker thread to start
      inProcess: true,
      onProgress: (line) => {
        // only talk when the scan is long enough for someone to wonder
        if (Date.now() - started > 1000) process.stderr.write(`conveyor-scan: ${line}\n`);
      },
    });
  }
  const shown = withRedaction(outcome, taken.redact);
  const text = formatSecurityOutcome(shown, format);
  if (reportOpt.value) {
    try {
      await writeFile(resolve(reportOpt.value), text, 'utf8');
    } catch {
      process.stderr.write(`conveyor-scan: error: cannot write the report to ${resolve(reportOpt.value)}\n`);
      return 2;
    }
  } else process.stdout.write(text);
  if (values.verbose) {
    // (the outcome is redacted already; -v shows no more of a secret than a preview of it)
    const preview = (secret: string) => (secret === 'REDACTED' || secret === '' ? secret : redactSecret(secret));
    for (const f of shown.secrets) {
      process.stderr.write(
        `conveyor-scan: finding: ${f.RuleID} ${f.File}:${f.StartLine}${f.Commit ? ` commit ${f.Commit.slice(0, 12)}` : ''} secret ${preview(f.Secret)} fingerprint ${f.Fingerprint}\n`,
      );
      // a composite rule's required findings, as gitleaks' verbose output lists them
      for (const r of f.Required ?? []) {
        process.stderr.write(`conveyor-scan:   required: ${r.RuleID}:${r.StartLine} secret ${preview(r.Secret)}\n`);
      }
    }
  }
  const r = shown.report;
  process.stderr.write(
    mode === 'dir'
      ? `conveyor-scan: ${r.verdict}: ${r.counts.secrets} secret(s) in ${r.range.head} in ${r.durations.totalMs} ms\n`
      : `conveyor-scan: ${r.verdict}: ${r.counts.secrets} secret(s), ${r.counts.vulnerabilities} vulnerable dependenc${r.counts.vulnerabilities === 1 ? 'y' : 'ies'}, ${r.counts.commitsScanned} commit(s) in ${r.durations.totalMs} ms\n`,
  );
  for (const w of r.warnings) process.stderr.write(`conveyor-scan: warning: ${w}\n`);
  if (shown.error) process.stderr.write(`conveyor-scan: error: ${shown.error.message}\n`);
  return r.verdict === 'pass' ? 0 : r.verdict === 'fail' ? findingsCode : 2;
}

main(process.argv.slice(2)).then(
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
