import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conveyorError, err, ok } from '@conveyor/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  classifyStagingCheck,
  createStagingGate,
  decideStaging,
  runStagingChecks,
  type StagingCheckResult,
  stagingMain,
  stagingVerdictFromReport,
} from '../src/staging/index.js';
import { makeContext, makeTask } from './helpers/git-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'conveyor-staging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INFRA = ['sandbox/dns', 'sandbox/quota'];
const green = (id: string): StagingCheckResult => ({ id, state: 'success' });
const red = (id: string): StagingCheckResult => ({ id, state: 'failure' });

describe('staging fold: the full decision table', () => {
  const table: {
    name: string;
    checks: StagingCheckResult[];
    tolerant: 'SUCCESS' | 'FAILED';
    strict: 'SUCCESS' | 'FAILED';
    waived?: string[];
  }[] = [
    { name: 'no checks at all', checks: [], tolerant: 'FAILED', strict: 'FAILED' },
    { name: 'all real checks green', checks: [green('e2e'), green('smoke')], tolerant: 'SUCCESS', strict: 'SUCCESS' },
    {
      name: 'all green including infra',
      checks: [green('e2e'), green('sandbox/dns')],
      tolerant: 'SUCCESS',
      strict: 'SUCCESS',
    },
    { name: 'a real failure', checks: [red('e2e'), green('sandbox/dns')], tolerant: 'FAILED', strict: 'FAILED' },
    {
      name: 'only infra failures',
      checks: [green('e2e'), red('sandbox/dns'), red('sandbox/quota')],
      tolerant: 'SUCCESS',
      strict: 'FAILED',
      waived: ['sandbox/dns', 'sandbox/quota'],
    },
    {
      name: 'a real and an infra failure',
      checks: [red('e2e'), red('sandbox/dns')],
      tolerant: 'FAILED',
      strict: 'FAILED',
    },
    {
      name: 'an infra check errors',
      checks: [green('e2e'), { id: 'sandbox/dns', state: 'error' }],
      tolerant: 'FAILED',
      strict: 'FAILED',
    },
    { name: 'a real check errors', checks: [{ id: 'e2e', state: 'error' }], tolerant: 'FAILED', strict: 'FAILED' },
    {
      name: 'a pending check',
      checks: [green('e2e'), { id: 'smoke', state: 'pending' }],
      tolerant: 'FAILED',
      strict: 'FAILED',
    },
    {
      name: 'a check that calls itself infra but is not allowlisted',
      checks: [green('e2e'), { id: 'flaky-ui', state: 'failure', category: 'sandbox-infra' }],
      tolerant: 'FAILED',
      strict: 'FAILED',
    },
    {
      name: 'an allowlisted id that declares itself real',
      checks: [green('e2e'), { id: 'sandbox/dns', state: 'failure', category: 'real' }],
      tolerant: 'FAILED',
      strict: 'FAILED',
    },
  ];
  for (const row of table) {
    it(`${row.name}: tolerant ${row.tolerant}, strict ${row.strict}`, () => {
      const tolerant = decideStaging(row.checks, { infraAllowlist: INFRA, strict: false });
      const strict = decideStaging(row.checks, { infraAllowlist: INFRA, strict: true });
      expect(tolerant.status).toBe(row.tolerant);
      expect(strict.status).toBe(row.strict);
      expect(tolerant.mode).toBe('tolerant');
      expect(strict.mode).toBe('strict');
      expect(tolerant.waived).toEqual(row.waived ?? []);
      expect(strict.waived).toEqual([]);
    });
  }

  it('classifies by the exact allowlist only', () => {
    expect(classifyStagingCheck(red('sandbox/dns'), INFRA).category).toBe('sandbox-infra');
    expect(classifyStagingCheck(red('sandbox/dns2'), INFRA).category).toBe('real');
    expect(classifyStagingCheck({ ...red('x'), category: 'sandbox-infra' }, INFRA)).toMatchObject({
      category: 'real',
      notAllowlisted: true,
    });
  });
});

describe('staging gate: the verdict lives in the report', () => {
  it('writes staging_status and answers what it reads back, waived list as warnings', async () => {
    const gate = createStagingGate({
      readChecks: async () => ok([green('e2e'), red('sandbox/dns')]),
      settings: { stagingInfraAllowlist: INFRA },
    });
    const out = await gate.run(makeContext(makeTask('s1', 'task/s1'), { reportDir: dir }));
    expect(out.status).toBe('pass');
    expect(out.warnings).toEqual(['waived sandbox-infra failures: sandbox/dns']);
    expect(out.reportPath).toBe(join(dir, 's1', 'staging.md'));
    const text = readFileSync(join(dir, 's1', 'staging.md'), 'utf8');
    expect(text).toMatch(/^---\nstaging_status: SUCCESS\nmode: tolerant\n/);
    expect(text).toContain('| sandbox/dns | failure | sandbox-infra |');
  });

  it('the kill switch and the per-run override make infra failures fail', async () => {
    const checks = async () => ok([green('e2e'), red('sandbox/dns')]);
    const killed = createStagingGate({
      readChecks: checks,
      settings: { stagingInfraAllowlist: INFRA, stagingStrict: true },
    });
    const a = await killed.run(makeContext(makeTask('s2', 'b'), { reportDir: dir }));
    expect(a.status).toBe('fail');
    expect(a.findings).toEqual([
      { rule: 'sandbox/dns', message: 'staging check sandbox/dns failed', severity: 'error' },
    ]);
    expect(readFileSync(join(dir, 's2', 'staging.md'), 'utf8')).toMatch(/staging_status: FAILED\nmode: strict/);

    const perRun = createStagingGate({
      readChecks: checks,
      settings: { stagingInfraAllowlist: INFRA },
      strictFor: (task) => task.id === 's3',
    });
    expect((await perRun.run(makeContext(makeTask('s3', 'b'), { reportDir: dir }))).status).toBe('fail');
    expect((await perRun.run(makeContext(makeTask('s4', 'b'), { reportDir: dir }))).status).toBe('pass');
  });

  it('an internal error (checks unreadable, reader throws) fails with a report; no report dir is error', async () => {
    const unreadable = createStagingGate({
      readChecks: async () => err(conveyorError('@conveyor/gates', 'network', 'CI unreachable')),
    });
    const out = await unreadable.run(makeContext(makeTask('s5', 'b'), { reportDir: dir }));
    expect(out.status).toBe('fail');
    expect(readFileSync(join(dir, 's5', 'staging.md'), 'utf8')).toMatch(/staging_status: FAILED/);

    const throwing = createStagingGate({
      readChecks: () => {
        throw new Error('bug');
      },
    });
    expect((await throwing.run(makeContext(makeTask('s6', 'b'), { reportDir: dir }))).status).toBe('fail');
    expect((await throwing.run(makeContext(makeTask('s7', 'b')))).status).toBe('error');
  });

  it('a tampered or missing report is a fail, never a pass', async () => {
    const path = join(dir, 'tampered.md');
    writeFileSync(path, '---\nstaging_status: MAYBE\n---\n');
    expect((await stagingVerdictFromReport(path)).status).toBe('fail');
    writeFileSync(path, 'staging_status: SUCCESS\n');
    expect((await stagingVerdictFromReport(path)).status).toBe('fail');
    expect((await stagingVerdictFromReport(join(dir, 'nope.md'))).status).toBe('fail');
  });
});

describe('staging runner: real child processes', () => {
  it('prints one line per check, the waived list and the verdict; exit 0 when only infra failed', async () => {
    const lines: string[] = [];
    const code = await runStagingChecks(
      [
        { id: 'e2e', command: 'echo all good', category: 'real' },
        { id: 'sandbox/dns', command: 'echo "no route to db" >&2; exit 7', category: 'sandbox-infra' },
      ],
      { infraAllowlist: INFRA, write: (l) => lines.push(l), cwd: dir },
    );
    expect(code).toBe(0);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^PASS {2}e2e \[real\] .* — all good$/);
    expect(lines[1]).toMatch(/^FAIL {2}sandbox\/dns \[sandbox-infra\] .* — no route to db$/);
    expect(lines[2]).toBe('waived: sandbox/dns');
    expect(lines[3]).toMatch(/^staging_status: SUCCESS \(tolerant\)/);
  });

  it('exit 1 on a real failure, under strict, and from the read-back report', async () => {
    const quiet = () => undefined;
    expect(await runStagingChecks([{ id: 'e2e', command: 'exit 1' }], { write: quiet, cwd: dir })).toBe(1);
    const infraOnly = [
      { id: 'e2e', command: 'true' },
      { id: 'sandbox/dns', command: 'false' },
    ];
    expect(await runStagingChecks(infraOnly, { infraAllowlist: INFRA, strict: true, write: quiet, cwd: dir })).toBe(1);
    const reportPath = join(dir, 'runner', 'staging.md');
    expect(await runStagingChecks(infraOnly, { infraAllowlist: INFRA, write: quiet, cwd: dir, reportPath })).toBe(0);
    expect(readFileSync(reportPath, 'utf8')).toMatch(/^---\nstaging_status: SUCCESS/);
    expect(await runStagingChecks([], { write: quiet, cwd: dir })).toBe(1);
  });

  it('stagingMain reads checks from JSON, the allowlist and kill switch from flags or env; bad input exits 1', async () => {
    const file = join(dir, 'checks.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'e2e', command: 'true', category: 'real' },
        { id: 'sandbox/quota', command: 'false', category: 'sandbox-infra' },
      ]),
    );
    const lines: string[] = [];
    const io = { write: (l: string) => lines.push(l), cwd: dir, env: {} };
    expect(await stagingMain(['--checks', file, '--infra', 'sandbox/quota'], io)).toBe(0);
    expect(await stagingMain(['--checks', file], io)).toBe(1);
    expect(await stagingMain(['--checks', file, '--infra', 'sandbox/quota', '--strict'], io)).toBe(1);
    expect(
      await stagingMain(['--checks', file], { ...io, env: { ORCH_STAGING_INFRA_ALLOWLIST: 'sandbox/quota' } }),
    ).toBe(0);
    expect(
      await stagingMain(['--checks', file], {
        ...io,
        env: { ORCH_STAGING_INFRA_ALLOWLIST: 'sandbox/quota', ORCH_STAGING_STRICT: 'true' },
      }),
    ).toBe(1);
    lines.length = 0;
    expect(await stagingMain([], io)).toBe(1);
    expect(lines[0]).toMatch(/^usage:/);
    expect(await stagingMain(['--checks', join(dir, 'missing.json')], io)).toBe(1);
    writeFileSync(file, '[{"id":"x"}]');
    expect(await stagingMain(['--checks', file], io)).toBe(1);
    expect(await stagingMain(['--bogus'], io)).toBe(1);
  });
});
