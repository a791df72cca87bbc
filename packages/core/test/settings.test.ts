import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  coreSettingsSchema,
  describeSettings,
  envName,
  loadCoreSettings,
  parseEnvSettings,
  renderEnvExample,
} from '../src/index.js';

describe('envName', () => {
  it.each([
    ['securityGateEnabled', 'ORCH_SECURITY_GATE_ENABLED'],
    ['reaperMaxRunningSeconds', 'ORCH_REAPER_MAX_RUNNING_SECONDS'],
    ['gateTimeoutMs', 'ORCH_GATE_TIMEOUT_MS'],
    ['hostRepo', 'ORCH_HOST_REPO'],
    ['s3Bucket', 'ORCH_S3_BUCKET'],
    ['maxConcurrency', 'ORCH_MAX_CONCURRENCY'],
  ])('%s -> %s', (key, env) => {
    expect(envName(key)).toBe(env);
  });

  it('takes a prefix', () => {
    expect(envName('auditTimeoutMs', 'SEC_')).toBe('SEC_AUDIT_TIMEOUT_MS');
  });
});

const schema = z.object({
  flag: z.boolean().default(false),
  count: z.number().int().min(1).default(2),
  name: z.string().optional(),
  tags: z.array(z.string()).default([]),
  ports: z.array(z.number().int()).default([]),
  grace: z.record(z.string(), z.number().int().min(0)).default({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  required: z.string(),
});

describe('parseEnvSettings', () => {
  it('coerces booleans, numbers, lists and maps', () => {
    const parsed = parseEnvSettings(schema, {
      ORCH_FLAG: 'yes',
      ORCH_COUNT: ' 7 ',
      ORCH_NAME: 'conveyor',
      ORCH_TAGS: 'a, b,,c ',
      ORCH_PORTS: '80,443',
      ORCH_GRACE: 'development=1800, deploy=600',
      ORCH_MODE: 'fast',
      ORCH_REQUIRED: 'x',
    });
    expect(parsed.ok && parsed.value).toEqual({
      settings: {
        flag: true,
        count: 7,
        name: 'conveyor',
        tags: ['a', 'b', 'c'],
        ports: [80, 443],
        grace: { development: 1800, deploy: 600 },
        mode: 'fast',
        required: 'x',
      },
      warnings: [],
    });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('boolean %j -> %s', (raw, value) => {
    const parsed = parseEnvSettings(schema, { ORCH_FLAG: raw, ORCH_REQUIRED: 'x' });
    expect(parsed.ok && parsed.value.settings.flag).toBe(value);
  });

  it('fills defaults; an empty variable counts as unset', () => {
    const parsed = parseEnvSettings(schema, { ORCH_REQUIRED: 'x', ORCH_COUNT: '', ORCH_TAGS: '  ' });
    expect(parsed.ok && parsed.value.settings).toEqual({
      flag: false,
      count: 2,
      tags: [],
      ports: [],
      grace: {},
      mode: 'safe',
      required: 'x',
    });
  });

  it('lists every bad key, its variable and why, in one invalid_config error', () => {
    const parsed = parseEnvSettings(schema, {
      ORCH_FLAG: 'maybe',
      ORCH_COUNT: '0',
      ORCH_PORTS: '80,http',
      ORCH_GRACE: 'development',
      ORCH_MODE: 'reckless',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe('invalid_config');
    const problems = parsed.error.details.problems as string[];
    expect(problems).toHaveLength(6);
    const expected = [
      'ORCH_FLAG (flag): expected a boolean (true/false, 1/0, yes/no), got "maybe"',
      'ORCH_PORTS (ports): list item "http": expected a number, got "http"',
      'ORCH_GRACE (grace): expected key=value pairs separated by commas, got "development"',
      'ORCH_COUNT (count): ',
      'ORCH_MODE (mode): ',
      'ORCH_REQUIRED (required): required but not set',
    ];
    for (const e of expected) {
      expect(
        problems.some((p) => p.startsWith(e)),
        e,
      ).toBe(true);
      expect(parsed.error.message).toContain(e.trim());
    }
  });

  it('names the map entry that is bad', () => {
    const parsed = parseEnvSettings(schema, { ORCH_REQUIRED: 'x', ORCH_GRACE: 'development=-1,deploy=ten' });
    expect(!parsed.ok && parsed.error.message).toContain(
      'ORCH_GRACE (grace): value of "deploy": expected a number, got "ten"',
    );
    const negative = parseEnvSettings(schema, { ORCH_REQUIRED: 'x', ORCH_GRACE: 'development=-1' });
    expect(!negative.ok && negative.error.message).toContain('ORCH_GRACE (grace) at development:');
  });

  it('reports unknown prefixed variables as warnings, not errors', () => {
    const parsed = parseEnvSettings(
      schema,
      { ORCH_REQUIRED: 'x', ORCH_TYPO_FLAG: '1', ORCH_OTHER_PACKAGE: 'y', PATH: '/bin' },
      { known: ['ORCH_OTHER_PACKAGE'] },
    );
    expect(parsed.ok && parsed.value.warnings).toEqual(['unknown setting ORCH_TYPO_FLAG is ignored']);
    const quiet = parseEnvSettings(schema, { ORCH_REQUIRED: 'x', ORCH_TYPO_FLAG: '1' }, { warnUnknown: false });
    expect(quiet.ok && quiet.value.warnings).toEqual([]);
  });

  it('uses another prefix', () => {
    const parsed = parseEnvSettings(schema, { SEC_REQUIRED: 'x', SEC_COUNT: '5', ORCH_COUNT: '9' }, { prefix: 'SEC_' });
    expect(parsed.ok && parsed.value.settings.count).toBe(5);
  });
});

describe('core settings', () => {
  it('defaults', () => {
    const loaded = loadCoreSettings({});
    expect(loaded.ok && loaded.value).toEqual({
      maxConcurrency: 2,
      workerEnabled: true,
      workerIntervalMs: 2_000,
      reaperEnabled: true,
      reaperIntervalMs: 30_000,
      reaperDeadTicks: 3,
      reaperMaxRunningSeconds: 3_600,
      reaperLeaseReclaimEnabled: true,
      reconcilerEnabled: true,
      reconcilerIntervalMs: 60_000,
      reconcilerTrackerPollingEnabled: true,
      reconcilerGraceSeconds: { analysis: 900, development: 1800, 'deploy-staging': 600, deploy: 600 },
      maxDeveloperRetries: 3,
      maxDeferrals: 13,
      deferWaitMs: 720_000,
      maxDecisionErrors: 5,
      decisionRetryDelayMs: 30_000,
      deferDelayMs: 60_000,
      gateTimeoutMs: 600_000,
      allowForeignGateScopes: false,
      securityGateEnabled: true,
      securityGateRepos: [],
      mergeGateEnabled: true,
      mergeGateRepos: [],
      stagingGateEnabled: true,
      stagingGateRepos: [],
      freshnessGateEnabled: true,
      freshnessGateRepos: [],
    });
  });

  it('reads kill-switches, scopes and grace from ORCH_*', () => {
    const warnings: string[] = [];
    const loaded = loadCoreSettings(
      {
        ORCH_HOST_REPO: 'acme/conveyor',
        ORCH_SECURITY_GATE_ENABLED: 'false',
        ORCH_SECURITY_GATE_REPOS: 'acme/web,acme/api',
        ORCH_REAPER_DEAD_TICKS: '5',
        ORCH_RECONCILER_GRACE_SECONDS: 'development=60',
        ORCH_MERGE_GATE_ENABLD: '0',
      },
      { onWarning: (w) => warnings.push(w) },
    );
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.value.hostRepo).toBe('acme/conveyor');
    expect(loaded.value.securityGateEnabled).toBe(false);
    expect(loaded.value.securityGateRepos).toEqual(['acme/web', 'acme/api']);
    expect(loaded.value.mergeGateEnabled).toBe(true);
    expect(loaded.value.reaperDeadTicks).toBe(5);
    expect(loaded.value.reconcilerGraceSeconds).toEqual({ development: 60 });
    expect(warnings).toEqual(['unknown setting ORCH_MERGE_GATE_ENABLD is ignored']);
  });

  it('lists every bad core value at once', () => {
    const loaded = loadCoreSettings({
      ORCH_MAX_CONCURRENCY: '0',
      ORCH_WORKER_ENABLED: 'sometimes',
      ORCH_MERGE_GATE_REPOS: 'not-a-repo',
      ORCH_HOST_REPO: 'acme',
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.error.code).toBe('invalid_config');
    expect(loaded.error.message).toContain('ORCH_MAX_CONCURRENCY (maxConcurrency)');
    expect(loaded.error.message).toContain('ORCH_WORKER_ENABLED (workerEnabled): expected a boolean');
    expect(loaded.error.message).toContain('ORCH_MERGE_GATE_REPOS (mergeGateRepos) at 0: expected owner/name');
    expect(loaded.error.message).toContain('ORCH_HOST_REPO (hostRepo): expected owner/name');
    expect((loaded.error.details.problems as string[]).length).toBe(4);
  });

  it('a throwing warning sink does not lose the settings', () => {
    const loaded = loadCoreSettings(
      { ORCH_NOPE: '1' },
      {
        onWarning: () => {
          throw new Error('sink down');
        },
      },
    );
    expect(loaded.ok).toBe(true);
  });
});

describe('describeSettings and renderEnvExample', () => {
  it('describe every core key with its variable, default and description', () => {
    const described = describeSettings(coreSettingsSchema);
    expect(described.map((d) => d.key)).toEqual(Object.keys(coreSettingsSchema.shape));
    expect(described.every((d) => d.description !== '')).toBe(true);
    expect(described.find((d) => d.key === 'securityGateEnabled')).toEqual({
      key: 'securityGateEnabled',
      env: 'ORCH_SECURITY_GATE_ENABLED',
      default: 'true',
      description: 'kill-switch of the security gate',
      kind: 'boolean',
      required: false,
    });
    expect(described.find((d) => d.key === 'reconcilerGraceSeconds')).toMatchObject({
      kind: 'map',
      default: 'analysis=900,development=1800,deploy-staging=600,deploy=600',
    });
    expect(described.find((d) => d.key === 'hostRepo')).toMatchObject({
      default: undefined,
      required: false,
      kind: 'string',
    });
    expect(described.find((d) => d.key === 'mergeGateRepos')).toMatchObject({ kind: 'list', default: '' });
  });

  it('a rendered .env.example parses back to the defaults', () => {
    const text = renderEnvExample(coreSettingsSchema);
    expect(text).toContain('# kill-switch of the security gate\n# ORCH_SECURITY_GATE_ENABLED=true\n');
    const env: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const m = /^# (ORCH_[A-Z0-9_]+)=(.*)$/.exec(line);
      if (m?.[1] !== undefined) env[m[1]] = m[2] ?? '';
    }
    const fromExample = loadCoreSettings(env);
    const defaults = loadCoreSettings({});
    expect(fromExample.ok && fromExample.value).toEqual(defaults.ok && defaults.value);
  });

  it('marks a required key', () => {
    const text = renderEnvExample(z.object({ token: z.string().describe('the API token') }));
    expect(text).toBe('# the API token (required)\nORCH_TOKEN=\n');
  });
});
