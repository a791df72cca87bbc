import * as z from 'zod';
import type { ConveyorError } from '../result/errors.js';
import type { Result } from '../result/result.js';
import { DEFAULT_STAGES } from '../stages/defaults.js';
import { STAGES_DEFAULTS } from '../stages/define.js';
import {
  DEFAULT_REAPER_INTERVAL_MS,
  DEFAULT_RECONCILER_INTERVAL_MS,
  DEFAULT_WORKER_INTERVAL_MS,
} from './daemon-defaults.js';
import { type EnvSettingsOptions, parseEnvSettings } from './env.js';

const int = (min: number) => z.number().int().min(min);
const enabled = (what: string) => z.boolean().default(true).describe(`kill-switch of ${what}`);
const repos = (what: string) =>
  z
    .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'))
    .default([])
    .describe(`repositories (owner/name) ${what} runs for; empty = the host's own repository only`);

/** Reconciler grace per stage, in seconds, from the default stages' `graceMs`. */
const DEFAULT_GRACE_SECONDS: Record<string, number> = Object.fromEntries(
  DEFAULT_STAGES.stages.filter((s) => s.graceMs !== undefined).map((s) => [s.id, Math.round((s.graceMs ?? 0) / 1000)]),
);

/**
 * The settings of the core runtime: daemons, caps, gates' kill-switches and
 * repository scopes. Read with {@link loadCoreSettings} from `ORCH_*`
 * variables; `describeSettings(coreSettingsSchema)` lists them for docs.
 */
export const coreSettingsSchema = z.object({
  hostRepo: z
    .string()
    .regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name')
    .optional()
    .describe("the host's own repository (owner/name): what an empty gate scope means"),
  maxConcurrency: int(1).default(2).describe('jobs running at the same time'),

  workerEnabled: enabled('the worker daemon'),
  workerIntervalMs: int(100).default(DEFAULT_WORKER_INTERVAL_MS).describe('worker tick interval (ms)'),

  reaperEnabled: enabled('the reaper daemon'),
  reaperIntervalMs: int(100).default(DEFAULT_REAPER_INTERVAL_MS).describe('reaper tick interval (ms)'),
  reaperDeadTicks: int(1).default(3).describe('ticks a running job\u2019s pid must be dead before it is reaped'),
  reaperMaxRunningSeconds: int(1).default(3_600).describe('a job running longer than this is reaped (s)'),
  reaperLeaseReclaimEnabled: enabled('stale lease reclaiming by the reaper'),

  reconcilerEnabled: enabled('the reconciler daemon'),
  reconcilerIntervalMs: int(100).default(DEFAULT_RECONCILER_INTERVAL_MS).describe('reconciler tick interval (ms)'),
  reconcilerTrackerPollingEnabled: enabled('tracker polling by the reconciler (replays missed webhooks)'),
  reconcilerGraceSeconds: z
    .record(z.string(), int(0))
    .default(DEFAULT_GRACE_SECONDS)
    .describe('per stage: seconds a task may sit with no active job before the reconciler looks (stage=seconds,…)'),

  maxDeveloperRetries: int(0)
    .default(STAGES_DEFAULTS.maxDeveloperRetries)
    .describe('rollbacks to development before a task fails'),
  maxDeferrals: int(0)
    .default(STAGES_DEFAULTS.maxDeferrals)
    .describe(
      'consecutive defer verdicts on an edge before the task is blocked (default: enough deferrals to wait out deferWaitMs)',
    ),
  deferDelayMs: int(0)
    .default(STAGES_DEFAULTS.deferDelayMs)
    .describe('delay before a deferred edge is decided again (ms)'),
  deferWaitMs: int(0)
    .default(STAGES_DEFAULTS.deferWaitMs)
    .describe(
      'how long deferrals of one edge wait in total before the task is blocked (ms); at least the merge lease TTL plus the retest timeout',
    ),
  maxDecisionErrors: int(0)
    .default(STAGES_DEFAULTS.maxDecisionErrors)
    .describe('consecutive error decisions (forge, tracker, network) of an edge before the task is blocked'),
  decisionRetryDelayMs: int(0)
    .default(STAGES_DEFAULTS.decisionRetryDelayMs)
    .describe('delay before an error decision is retried (ms); doubles per retry'),
  gateTimeoutMs: int(1).default(600_000).describe('default gate timeout (ms); a gate past it yields error'),

  allowForeignGateScopes: z
    .boolean()
    .default(false)
    .describe(
      "accept a gate scope (ORCH_*_GATE_REPOS) that leaves out the host's own repository; by default such a scope is refused at startup (a typo would switch the gate off)",
    ),
  securityGateEnabled: enabled('the security gate'),
  securityGateRepos: repos('the security gate'),
  mergeGateEnabled: enabled('the merge gate'),
  mergeGateRepos: repos('the merge gate'),
  stagingGateEnabled: enabled('the staging verdict gate'),
  stagingGateRepos: repos('the staging verdict gate'),
  freshnessGateEnabled: enabled('the image freshness gate'),
  freshnessGateRepos: repos('the image freshness gate'),
});

/** The parsed core settings. */
export type CoreSettings = z.output<typeof coreSettingsSchema>;

/** Options of {@link loadCoreSettings}. */
export interface LoadCoreSettingsOptions extends EnvSettingsOptions {
  /** receives each warning (unknown `ORCH_*` variables) */
  readonly onWarning?: (warning: string) => void;
}

/**
 * Reads the core settings from an environment object (`ORCH_*` by default).
 * Every bad value is listed in one `invalid_config` error.
 *
 * @example
 * ```ts
 * const settings = loadCoreSettings(process.env, { onWarning: (w) => logger.warn(w) });
 * if (!settings.ok) { console.error(settings.error.message); process.exit(1); }
 * const registry = createGateRegistry({ hostRepo: settings.value.hostRepo, defaultTimeoutMs: settings.value.gateTimeoutMs });
 * ```
 */
export function loadCoreSettings(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadCoreSettingsOptions = {},
): Result<CoreSettings, ConveyorError> {
  const { onWarning, ...rest } = options;
  return parseEnvSettings(coreSettingsSchema, env, rest).map(({ settings, warnings }) => {
    for (const warning of warnings) {
      try {
        onWarning?.(warning);
      } catch {
        // a failing warning sink must not lose the settings
      }
    }
    return settings;
  });
}
