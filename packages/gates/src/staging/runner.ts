import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseEnvSettings } from '@conveyor/core';
import { retest } from '../git/retest.js';
import {
  classifyStagingCheck,
  decideStaging,
  type StagingCategory,
  type StagingCheckResult,
  type StagingDecision,
} from './classify.js';
import { stagingVerdictFromReport, writeStagingReport } from './report.js';
import { stagingSettingsSchema } from './settings.js';

/** One staging check to run: a shell command; exit 0 is `success`. */
export interface StagingCheckSpec {
  readonly id: string;
  readonly command: string;
  readonly category?: StagingCategory;
}

/** Options of {@link runStagingChecks}. */
export interface StagingRunOptions {
  readonly infraAllowlist?: readonly string[];
  readonly strict?: boolean;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** per check (default 5 min); a check that times out is a `failure` */
  readonly timeoutMs?: number;
  /** where each printed line goes (default stdout) */
  readonly write?: (line: string) => void;
  /** when given, the report is written there and the exit code comes from reading it back */
  readonly reportPath?: string;
}

/** What {@link executeStagingChecks} found. */
export interface StagingRun {
  readonly results: readonly StagingCheckResult[];
  readonly decision: StagingDecision;
}

/**
 * Runs each check's command (a child process, one after the other) and folds
 * the results. A command that cannot start is an `error`; exit 0 is
 * `success`, anything else `failure`.
 *
 * @example
 * ```ts
 * const run = await executeStagingChecks([{ id: 'smoke', command: 'curl -fsS http://staging/health' }], { infraAllowlist: [] });
 * console.log(run.decision.status);
 * ```
 */
export async function executeStagingChecks(
  checks: readonly StagingCheckSpec[],
  options: StagingRunOptions = {},
  onResult?: (result: StagingCheckResult, durationMs: number) => void,
): Promise<StagingRun> {
  const results: StagingCheckResult[] = [];
  for (const check of checks) {
    const ran = await retest(check.command, {
      cwd: options.cwd ?? process.cwd(),
      timeoutMs: options.timeoutMs ?? 300_000,
      tailLines: 5,
      tailBytes: 1024,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    const result: StagingCheckResult = ran.ok
      ? {
          id: check.id,
          state: ran.value.passed ? 'success' : 'failure',
          ...(check.category === undefined ? {} : { category: check.category }),
          detail: ran.value.timedOut ? 'timed out' : (ran.value.tail.split('\n').slice(-1)[0] ?? ''),
        }
      : {
          id: check.id,
          state: 'error',
          detail: ran.error.message,
          ...(check.category === undefined ? {} : { category: check.category }),
        };
    results.push(result);
    onResult?.(result, ran.ok ? ran.value.durationMs : 0);
  }
  const decision = decideStaging(results, {
    infraAllowlist: options.infraAllowlist ?? [],
    strict: options.strict ?? false,
  });
  return { results, decision };
}

const MARK: Record<string, string> = { success: 'PASS', failure: 'FAIL', error: 'ERROR' };

/**
 * The staging runner: executes the checks, prints one line per check, the
 * waived list and the verdict, and resolves to the exit code (0 when the
 * verdict is SUCCESS, else 1). With `reportPath` the verdict is the one read
 * back from the written report. Never rejects.
 *
 * @example
 * ```ts
 * const code = await runStagingChecks(
 *   [{ id: 'e2e', command: 'npm run e2e', category: 'real' }, { id: 'sandbox/dns', command: 'getent hosts db', category: 'sandbox-infra' }],
 *   { infraAllowlist: ['sandbox/dns'] },
 * );
 * process.exitCode = code;
 * ```
 */
export async function runStagingChecks(
  checks: readonly StagingCheckSpec[],
  options: StagingRunOptions = {},
): Promise<number> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  try {
    const run = await executeStagingChecks(checks, options, (result, ms) => {
      const classified = classifyStagingCheck(result, options.infraAllowlist ?? []).category;
      write(
        `${(MARK[result.state] ?? result.state.toUpperCase()).padEnd(5)} ${result.id} [${classified}] ${(ms / 1000).toFixed(1)}s${result.detail ? ` — ${result.detail}` : ''}`,
      );
    });
    const { decision } = run;
    write(`waived: ${decision.waived.length === 0 ? '(none)' : decision.waived.join(', ')}`);
    let status: string = decision.status;
    if (options.reportPath !== undefined) {
      const written = await writeStagingReport(options.reportPath, decision);
      if (!written.ok) {
        write(`staging_status: FAILED (cannot write the report: ${written.error.message})`);
        return 1;
      }
      const verdict = await stagingVerdictFromReport(options.reportPath);
      status = verdict.status === 'pass' ? 'SUCCESS' : 'FAILED';
    }
    write(`staging_status: ${status} (${decision.mode}) — ${decision.reason}`);
    return status === 'SUCCESS' ? 0 : 1;
  } catch (thrown) {
    write(`staging_status: FAILED (internal error: ${thrown instanceof Error ? thrown.message : String(thrown)})`);
    return 1;
  }
}

/** Input/output of {@link stagingMain}. */
export interface StagingMainIo {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly write?: (line: string) => void;
  readonly cwd?: string;
}

const USAGE =
  'usage: conveyor-staging --checks <checks.json> [--strict] [--infra id,id] [--report <path>] [--timeout-ms <n>] [--help]\n' +
  '  checks.json: [{ "id": "e2e", "command": "npm run e2e", "category": "real" }, …]\n' +
  '  env: ORCH_STAGING_STRICT (kill switch), ORCH_STAGING_INFRA_ALLOWLIST, ORCH_STAGING_CHECK_TIMEOUT_MS';

/**
 * The runner as a command-line main: reads the checks from a JSON file, the
 * allowlist and kill switch from flags or the environment (`ORCH_STAGING_*`),
 * and resolves to the exit code (bad usage or a bad file is 1: fail-closed).
 *
 * @example
 * ```ts
 * process.exitCode = await stagingMain(process.argv.slice(2));
 * ```
 */
export async function stagingMain(argv: readonly string[], io: StagingMainIo = {}): Promise<number> {
  const write = io.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  let values: {
    checks?: string;
    strict?: boolean;
    infra?: string;
    report?: string;
    'timeout-ms'?: string;
    help?: boolean;
  };
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        checks: { type: 'string' },
        strict: { type: 'boolean' },
        infra: { type: 'string' },
        report: { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (thrown) {
    write(`${thrown instanceof Error ? thrown.message : String(thrown)}\n${USAGE}`);
    return 1;
  }
  if (values.help === true) {
    write(USAGE);
    return 0;
  }
  if (values.checks === undefined) {
    write(USAGE);
    return 1;
  }
  const env = parseEnvSettings(stagingSettingsSchema, io.env ?? process.env, { warnUnknown: false });
  if (!env.ok) {
    write(env.error.message);
    return 1;
  }
  let checks: StagingCheckSpec[];
  try {
    checks = parseCheckFile(JSON.parse(await readFile(values.checks, 'utf8')) as unknown, values.checks);
  } catch (thrown) {
    write(`cannot read checks from ${values.checks}: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    return 1;
  }
  const timeout =
    values['timeout-ms'] === undefined ? env.value.settings.stagingCheckTimeoutMs : Number(values['timeout-ms']);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    write(`--timeout-ms must be a positive integer, got ${values['timeout-ms']}`);
    return 1;
  }
  const infra =
    values.infra === undefined
      ? env.value.settings.stagingInfraAllowlist
      : values.infra
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  return runStagingChecks(checks, {
    infraAllowlist: infra,
    strict: values.strict === true || env.value.settings.stagingStrict,
    timeoutMs: timeout,
    write,
    ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
    ...(values.report === undefined ? {} : { reportPath: values.report }),
  });
}

function parseCheckFile(data: unknown, path: string): StagingCheckSpec[] {
  if (!Array.isArray(data)) throw new Error(`${path} must hold a JSON array of checks`);
  return data.map((item, i) => {
    const c = item as Partial<Record<string, unknown>>;
    if (typeof c.id !== 'string' || c.id === '' || typeof c.command !== 'string' || c.command === '') {
      throw new Error(`check #${i} needs a non-empty "id" and "command"`);
    }
    if (c.category !== undefined && c.category !== 'real' && c.category !== 'sandbox-infra') {
      throw new Error(`check ${c.id}: category must be "real" or "sandbox-infra"`);
    }
    return { id: c.id, command: c.command, ...(c.category === undefined ? {} : { category: c.category }) };
  });
}
