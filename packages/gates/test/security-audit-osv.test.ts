import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvSettings } from '@conveyor/core';
import {
  type FakeOsv,
  FIXTURES_MISSING_MESSAGE,
  loadOsvAdvisories,
  sharedFixturesDir,
  startFakeOsv,
} from '@conveyor/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdvisorySource,
  auditDependencies,
  createOsvCache,
  createOsvClient,
  createSecurityGate,
  type LockedPackage,
  osvApiSource,
  pipAuditSource,
  readSecurityReport,
  securitySettingsSchema,
} from '../src/security/index.js';
import { BUN_LOCK, packageLock, SHRINKWRAP, YARN_BERRY, YARN_V1 } from './fixtures/audit/lockfile-texts.js';
import { TempRepo } from './fixtures/security/git-repo.js';

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A repository whose `main` holds `before` and whose `task` branch changes it to `after`. */
function repo(before: Record<string, string>, after: Record<string, string>): TempRepo {
  const r = new TempRepo('conveyor-audit-');
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'README.md': 'app\n', ...before });
  r.git('checkout', '-q', '-b', 'task');
  r.commit('deps', after);
  return r;
}

async function audit(r: TempRepo, sources: readonly AdvisorySource[]) {
  const res = await auditDependencies({
    repoDir: r.dir,
    baseSha: r.git('rev-parse', 'main'),
    headSha: r.git('rev-parse', 'task'),
    sources,
  });
  if (!res.ok) throw res.error;
  return res.value;
}

function gateContext(r: TempRepo) {
  const reportDir = tempDir('conveyor-audit-report-');
  const logged: string[] = [];
  const logger = {
    debug(m: string) {
      logged.push(m);
    },
    info(m: string) {
      logged.push(m);
    },
    warn(m: string) {
      logged.push(m);
    },
    error(m: string) {
      logged.push(m);
    },
    child() {
      return logger;
    },
  };
  return {
    ctx: {
      task: { id: 't' } as never,
      edge: 'deploy-staging->deploy',
      signal: new AbortController().signal,
      logger,
      now: () => 0,
      readOnly: false,
      workdir: r.dir,
      reportDir,
    },
    logged,
  };
}

/** A port on 127.0.0.1 that refuses connections: a server opened then closed. */
async function deadUrl(): Promise<string> {
  const s = await startFakeOsv();
  const url = s.url;
  await s.close();
  return url;
}

describe('settings refuse an audit with no source', () => {
  it('an empty ORCH_SECURITY_ADVISORY_SOURCES is an error naming the variable', () => {
    for (const value of [' , ', ',', []] as const) {
      const parsed = securitySettingsSchema.safeParse({ securityAdvisorySources: value });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toContain('ORCH_SECURITY_ADVISORY_SOURCES');
    }
    const env = parseEnvSettings(securitySettingsSchema, { ORCH_SECURITY_ADVISORY_SOURCES: ' , ' });
    expect(env.ok).toBe(false);
    expect(!env.ok && env.error.message).toContain('ORCH_SECURITY_ADVISORY_SOURCES');
    expect(() => createSecurityGate({ securityAdvisorySources: ' , ' })).toThrow(/ORCH_SECURITY_ADVISORY_SOURCES/);
  });

  it('the default source is the OSV API', () => {
    expect(securitySettingsSchema.parse({}).securityAdvisorySources).toEqual(['osv-api']);
  });
});

describe('a change no source checks is admitted, not passed silently', () => {
  const lodashDown = () => repo({ 'yarn.lock': YARN_V1('4.17.21') }, { 'yarn.lock': YARN_V1('4.17.15') });

  it('only pip-audit configured: a yarn.lock lodash downgrade is unchecked → loud warning, strict fails', async () => {
    const r = lodashDown();
    const sources = [pipAuditSource({ command: '/nonexistent/pip-audit' })];
    const res = await audit(r, sources);
    expect(res.unreachable).toHaveLength(1);
    expect(res.unreachable[0]).toContain('no configured advisory source covers npm');
    expect(res.unreachable[0]).toContain('yarn.lock');
    expect(res.unreachable[0]).toContain('lodash@4.17.15');

    const { ctx } = gateContext(r);
    const open = await createSecurityGate({ securityBaseRef: 'main', securityHeadRef: 'task', sources }).run(ctx);
    expect(open.status).toBe('pass');
    expect(open.warnings?.join('\n')).toMatch(/ADVISORY FEED UNREACHABLE.*yarn\.lock/);
    expect(readFileSync(open.reportPath ?? '', 'utf8')).toMatch(/ADVISORY FEED UNREACHABLE.*yarn\.lock/);
    const strict = await createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditFailClosed: true,
      sources,
    }).run(ctx);
    expect(strict.status).toBe('fail');
    const fm = await readSecurityReport(strict.reportPath ?? '');
    expect(fm.ok && fm.value.counts.unreachableFeeds).toBe(1);
  });

  it('a changed lockfile of an ecosystem the audit does not read (Cargo.lock) is unchecked', async () => {
    const r = repo({ 'Cargo.lock': 'version = 3\n' }, { 'Cargo.lock': 'version = 3\n# bumped\n' });
    const res = await audit(r, [osvApiSource({ baseUrl: await deadUrl(), cache: false, retries: 0 })]);
    expect(res.unreachable).toEqual([
      'Cargo.lock changed, but the audit reads no crates.io (Cargo) lockfiles: its dependency changes were not checked',
    ]);
  });

  it('a branch that deletes the lockfile and pins the version in package.json is unchecked', async () => {
    const pkg = (lodash: string) => `${JSON.stringify({ name: 'app', dependencies: { lodash } }, null, 2)}\n`;
    const r = new TempRepo('conveyor-audit-');
    cleanup.push(() => r.cleanup());
    r.commit('init', { 'package.json': pkg('^4.17.21'), 'package-lock.json': packageLock({ lodash: '4.17.21' }) });
    r.git('checkout', '-q', '-b', 'task');
    r.git('rm', '-q', 'package-lock.json');
    r.commit('pin', { 'package.json': pkg('4.17.15') });
    const res = await audit(r, [osvApiSource({ baseUrl: await deadUrl(), cache: false, retries: 0 })]);
    expect(res.unreachable).toEqual([
      'package-lock.json was removed by the branch: what the install resolves without it was not checked (keep or regenerate the lockfile)',
      'package.json changed its dependencies, but no npm-shrinkwrap.json, package-lock.json, yarn.lock, pnpm-lock.yaml or bun.lock pins them: the versions an install resolves were not checked',
    ]);
  });

  it('a workspace package.json under a root lockfile, or a change outside its dependencies, says nothing', async () => {
    const r = repo(
      { 'yarn.lock': YARN_V1('4.17.21'), 'packages/a/package.json': '{"name":"a","dependencies":{"lodash":"^4"}}' },
      {
        'packages/a/package.json': '{"name":"a","dependencies":{"lodash":"^4.17"}}',
        'tools/package.json': '{"name":"tools","version":"2.0.0","scripts":{"x":"y"}}',
      },
    );
    const res = await audit(r, [osvApiSource({ baseUrl: await deadUrl(), cache: false, retries: 0 })]);
    expect(res.unreachable).toEqual([]);
  });

  it('an audit stopped by its signal is an error, never a partial pass', async () => {
    const r = lodashDown();
    const stop = new AbortController();
    stop.abort();
    const res = await auditDependencies({
      repoDir: r.dir,
      baseSha: r.git('rev-parse', 'main'),
      headSha: r.git('rev-parse', 'task'),
      signal: stop.signal,
    });
    expect(res.ok).toBe(false);
  });

  it('a lockfile that does not parse at HEAD fails closed (gate error) without quoting it', async () => {
    const CANARY = 'glpat-CANARYcanaryCANARY1234';
    const r = repo({ 'yarn.lock': YARN_V1('4.17.21') }, { 'yarn.lock': `${YARN_V1('4.17.15')}${CANARY}\n` });
    const { ctx, logged } = gateContext(r);
    const out = await createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      sources: [osvApiSource({ baseUrl: await deadUrl(), cache: false, retries: 0 })],
    }).run(ctx);
    expect(out.status).toBe('error');
    expect(out.summary).toContain('lockfile yarn.lock');
    const everything = [JSON.stringify(out), readFileSync(out.reportPath ?? '', 'utf8'), ...logged].join('\n');
    expect(everything).not.toContain(CANARY);
  });

  it('a lockfile that is a symbolic link fails closed', async () => {
    const r = new TempRepo('conveyor-audit-');
    cleanup.push(() => r.cleanup());
    r.commit('init', { 'package-lock.json': packageLock({ lodash: '4.17.21' }) });
    r.git('checkout', '-q', '-b', 'task');
    r.commit('real', { 'vendor/lock.json': packageLock({ lodash: '4.17.15' }) });
    r.git('rm', '-q', 'package-lock.json');
    r.git('commit', '-qm', 'rm');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ln', ['-s', 'vendor/lock.json', 'package-lock.json'], { cwd: r.dir });
    r.commit('link');
    const res = await auditDependencies({
      repoDir: r.dir,
      baseSha: r.git('rev-parse', 'main'),
      headSha: r.git('rev-parse', 'task'),
    });
    expect(!res.ok && res.error.message).toContain('package-lock.json is a symbolic link');
  });

  it('a merge-base lockfile that does not parse: a warning, and every HEAD package counts as new', async () => {
    const r = repo({ 'bun.lock': '{ not json' }, { 'bun.lock': BUN_LOCK('4.17.20') });
    const res = await audit(r, [osvApiSource({ baseUrl: await deadUrl(), cache: false, retries: 0 })]);
    expect(res.warnings[0]).toContain('bun.lock at the merge base cannot be parsed');
    expect(res.changed.map((p) => p.name)).toEqual(['lodash', 'ansi-styles']);
    expect(res.vulnerabilities.map((v) => [v.id, v.status])).toEqual([['CONVEYOR-2021-0001', 'introduced']]);
  });
});

// The real GitHub Advisory Database records in OSV format live beside the
// checkout (never copied into the repo); without them the OSV tests skip.
const fixtures = sharedFixturesDir();
if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);
describe.skipIf(!fixtures)('the OSV API source against a fake OSV serving real advisories', () => {
  let osv: FakeOsv;
  beforeAll(async () => {
    const advisories = loadOsvAdvisories(join(fixtures ?? '', 'osv'));
    expect(advisories.length).toBeGreaterThanOrEqual(10);
    osv = await startFakeOsv({ advisories });
  });
  afterAll(() => osv.close());
  afterEach(() => osv.reset());

  const source = (extra: Parameters<typeof osvApiSource>[0] = {}) =>
    osvApiSource({ baseUrl: osv.url, backoffMs: 5, cache: false, ...extra });
  const paths = () => osv.requests.map((q) => `${q.method} ${q.path}`);

  it('a lodash downgrade in package-lock.json: querybatch, then the advisory details', async () => {
    const r = repo(
      { 'package-lock.json': packageLock({ lodash: '4.17.21', qs: '6.11.0' }) },
      { 'package-lock.json': packageLock({ lodash: '4.17.15', qs: '6.11.0' }) },
    );
    const res = await audit(r, [source()]);
    expect(res.unreachable).toEqual([]);
    expect(res.vulnerabilities.map((v) => [v.pkg.name, v.pkg.version, v.id, v.status, v.fixed, v.severity])).toEqual([
      ['lodash', '4.17.15', 'GHSA-p6mc-m468-83gw', 'introduced', '4.17.19', 'HIGH'],
    ]);
    expect(res.vulnerabilities[0]?.summary).toBe('Prototype Pollution in lodash');
    expect(res.vulnerabilities[0]?.aliases).toContain('CVE-2020-8203');
    expect(res.vulnerabilities[0]?.source).toBe(`osv-api:${osv.url}`);
    // one batch with the new version and the merge base's (to tell inherited from introduced)
    expect(osv.batches()).toEqual([
      [
        { ecosystem: 'npm', name: 'lodash', version: '4.17.15' },
        { ecosystem: 'npm', name: 'lodash', version: '4.17.21' },
      ],
    ]);
    expect(paths()).toEqual(['POST /v1/querybatch', 'GET /v1/vulns/GHSA-p6mc-m468-83gw']);
  });

  it.each([
    ['yarn.lock (v1)', 'yarn.lock', YARN_V1],
    ['yarn.lock (Berry)', 'yarn.lock', YARN_BERRY],
    ['bun.lock', 'bun.lock', BUN_LOCK],
    ['npm-shrinkwrap.json', 'npm-shrinkwrap.json', SHRINKWRAP],
  ] as const)('a lodash downgrade in %s is found', async (_label, file, text) => {
    const r = repo({ [`app/${file}`]: text('4.17.21') }, { [`app/${file}`]: text('4.17.15') });
    const res = await audit(r, [source()]);
    expect(res.lockfiles).toEqual([`app/${file}`]);
    expect(res.vulnerabilities.map((v) => [v.lockfile, v.pkg.name, v.pkg.version, v.id, v.status])).toEqual([
      [`app/${file}`, 'lodash', '4.17.15', 'GHSA-p6mc-m468-83gw', 'introduced'],
    ]);
  });

  it('a vulnerability main already had is inherited (a warning), not introduced', async () => {
    const r = repo({ 'yarn.lock': YARN_V1('4.17.10') }, { 'yarn.lock': YARN_V1('4.17.15') });
    const res = await audit(r, [source()]);
    expect(res.vulnerabilities.map((v) => [v.id, v.status])).toEqual([['GHSA-p6mc-m468-83gw', 'inherited']]);
  });

  it('OSV answers 500, then 429 with Retry-After, then the answer: retried, no warning', async () => {
    osv.inject({ kind: 'status', status: 500, path: '/v1/querybatch' });
    osv.inject({ kind: 'rate-limit', retryAfterSeconds: 0, path: '/v1/querybatch' });
    const res = await source({ retries: 2 }).query([{ ecosystem: 'npm', name: 'ip', version: '2.0.1' }]);
    expect(res.ok && res.value.map((m) => [m.id, m.fixed])).toEqual([['GHSA-2p57-rm9w-gvfp', undefined]]);
    expect(paths()).toEqual([
      'POST /v1/querybatch',
      'POST /v1/querybatch',
      'POST /v1/querybatch',
      'GET /v1/vulns/GHSA-2p57-rm9w-gvfp',
    ]);
  });

  it('a request slower than the timeout is abandoned and retried', async () => {
    osv.inject({ kind: 'slow', delayMs: 1500, path: '/v1/querybatch' });
    const res = await source({ retries: 1, timeoutMs: 200 }).query([
      { ecosystem: 'npm', name: 'ip', version: '2.0.1' },
    ]);
    expect(res.ok && res.value.map((m) => m.id)).toEqual(['GHSA-2p57-rm9w-gvfp']);
    const slowOnly = source({ retries: 0, timeoutMs: 200 });
    osv.inject({ kind: 'slow', delayMs: 1500, path: '/v1/querybatch' });
    const timedOut = await slowOnly.query([{ ecosystem: 'npm', name: 'ip', version: '2.0.2' }]);
    expect(!timedOut.ok && [timedOut.error.code, timedOut.error.message]).toEqual([
      'timeout',
      `POST ${osv.url}/v1/querybatch timed out after 200 ms`,
    ]);
  });

  it('a details request that keeps failing keeps the match (querybatch said so)', async () => {
    osv.inject({ kind: 'status', status: 503, path: '/v1/vulns/', times: 3 });
    const res = await source({ retries: 2 }).query([{ ecosystem: 'npm', name: 'ip', version: '2.0.1' }]);
    expect(res.ok && res.value.map((m) => [m.id, m.summary])).toEqual([
      ['GHSA-2p57-rm9w-gvfp', 'GHSA-2p57-rm9w-gvfp (details unavailable from OSV)'],
    ]);
  });

  it('follows next_page_token and sends at most 1000 queries per batch', async () => {
    const paged = await startFakeOsv({ advisories: loadOsvAdvisories(join(fixtures ?? '', 'osv')), pageSize: 1 });
    try {
      const res = await osvApiSource({ baseUrl: paged.url, cache: false }).query([
        { ecosystem: 'npm', name: 'minimist', version: '1.2.0' },
      ]);
      expect(res.ok && res.value.map((m) => m.id).sort()).toEqual(['GHSA-vh95-rmgr-6w4m', 'GHSA-xvch-5gv4-984h']);
      const batches = paged.requests.filter((q) => q.path === '/v1/querybatch').map((q) => q.json);
      expect(batches).toHaveLength(2);
      expect(JSON.stringify(batches[1])).toContain('page_token');
    } finally {
      await paged.close();
    }
    const many: LockedPackage[] = Array.from({ length: 2500 }, (_, i) => ({
      ecosystem: 'npm',
      name: `pkg-${i}`,
      version: '1.0.0',
    }));
    const answered = await createOsvClient({ baseUrl: osv.url }).queryBatch(many);
    expect(answered.ok && answered.value.length).toBe(2500);
    expect(osv.batches().map((b) => b.length)).toEqual([1000, 1000, 500]);
    // the fake holds OSV's limit, as the real API does
    const refused = await createOsvClient({ baseUrl: osv.url, batchSize: 1000 }).queryBatch([]);
    expect(refused.ok).toBe(true);
    const tooMany = await fetch(`${osv.url}/v1/querybatch`, {
      method: 'POST',
      body: JSON.stringify({ queries: many.slice(0, 1001).map((p) => ({ package: p, version: p.version })) }),
    });
    expect(tooMany.status).toBe(400);
  });

  it('OSV unreachable: the embedded set is used, and the warning says what was not checked', async () => {
    const r = repo(
      { 'package-lock.json': packageLock({ lodash: '4.17.21', ip: '2.0.2' }) },
      { 'package-lock.json': packageLock({ lodash: '4.17.15', ip: '2.0.1' }) },
    );
    const dead = await deadUrl();
    const res = await audit(r, [osvApiSource({ baseUrl: dead, cache: false, retries: 1, backoffMs: 5 })]);
    // the embedded set still knows lodash (not ip): what it knows still fails the branch
    expect(res.vulnerabilities.map((v) => [v.pkg.name, v.id, v.source])).toEqual([
      ['lodash', 'CONVEYOR-2021-0001', 'embedded'],
    ]);
    expect(res.unreachable).toHaveLength(1);
    const line = res.unreachable[0] ?? '';
    expect(line).toContain(`osv-api:${dead} could not be reached`);
    expect(line).toContain("Conveyor's small embedded advisory set");
    expect(line).toContain('not the full advisory database');
    expect(line).toContain('package-lock.json');
    expect(line).toContain('ip@2.0.1');
    expect(line).toContain('checked only against it');
  });

  it('gate: OSV unreachable passes with the loud warning by default and fails when strict', async () => {
    const r = repo(
      { 'pnpm-lock.yaml': "lockfileVersion: '9.0'\npackages:\n  ip@2.0.2:\n    resolution: {integrity: sha512-x}\n" },
      { 'pnpm-lock.yaml': "lockfileVersion: '9.0'\npackages:\n  ip@2.0.1:\n    resolution: {integrity: sha512-x}\n" },
    );
    const sources = [osvApiSource({ baseUrl: await deadUrl(), cache: false, retries: 0 })];
    const { ctx } = gateContext(r);
    const open = await createSecurityGate({ securityBaseRef: 'main', securityHeadRef: 'task', sources }).run(ctx);
    expect(open.status).toBe('pass');
    const warning = open.warnings?.find((w) => w.includes('ADVISORY FEED UNREACHABLE')) ?? '';
    expect(warning).toContain('passing without it');
    expect(warning).toContain('embedded advisory set');
    expect(warning).toContain('pnpm-lock.yaml');
    expect(readFileSync(open.reportPath ?? '', 'utf8')).toContain(warning);
    const strict = await createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditFailClosed: true,
      sources,
    }).run(ctx);
    expect(strict.status).toBe('fail');
    expect(strict.warnings?.join('\n')).toContain('strict: failing');
  });

  it('gate with the settings alone: osv-api at the fake, cache dir and TTL from the settings', async () => {
    const r = repo({ 'yarn.lock': YARN_BERRY('4.17.21') }, { 'yarn.lock': YARN_BERRY('4.17.15') });
    const { ctx } = gateContext(r);
    const gate = createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityOsvApiUrl: osv.url,
      securityOsvCacheDir: tempDir('conveyor-osv-cache-'),
    });
    const out = await gate.run(ctx);
    expect(out.status).toBe('fail');
    expect(out.findings?.map((f) => [f.rule, f.file])).toEqual([['GHSA-p6mc-m468-83gw', 'yarn.lock']]);
    expect(out.warnings?.filter((w) => /ADVISORY|lockfile|audit/i.test(w))).toEqual([]);
  });

  it('a fresh cache answers without the network; a corrupt entry is ignored; a stale one is asked again', async () => {
    const dir = tempDir('conveyor-osv-cache-');
    let now = 1_000_000;
    const cache = createOsvCache({ dir, ttlMs: 60_000, now: () => now });
    const pkgs: LockedPackage[] = [{ ecosystem: 'npm', name: 'lodash', version: '4.17.15' }];
    const first = await source({ cache }).query(pkgs);
    expect(first.ok && first.value.map((m) => m.id)).toEqual(['GHSA-p6mc-m468-83gw']);
    expect(osv.requests).toHaveLength(2);

    // the network is gone: the cache alone answers, details included
    const offline = await osvApiSource({ baseUrl: await deadUrl(), cache, retries: 0, fallback: false }).query(pkgs);
    expect(offline.ok && offline.value.map((m) => [m.id, m.summary, m.fixed])).toEqual([
      ['GHSA-p6mc-m468-83gw', 'Prototype Pollution in lodash', '4.17.19'],
    ]);

    // a corrupt query entry (a torn write, a full disk) is a miss, not an error
    const queryDir = join(dir, 'v1', 'query');
    for (const f of readdirSync(queryDir)) writeFileSync(join(queryDir, f), '{"format":1,"fetchedAt":');
    osv.reset();
    const again = await source({ cache }).query(pkgs);
    expect(again.ok && again.value.map((m) => m.id)).toEqual(['GHSA-p6mc-m468-83gw']);
    expect(paths()).toEqual(['POST /v1/querybatch']); // the details were still cached (same `modified`)

    // past the TTL OSV is asked again
    osv.reset();
    now += 61_000;
    await source({ cache }).query(pkgs);
    expect(paths()).toEqual(['POST /v1/querybatch']);
    // no temporary files are left behind by the atomic writes
    expect(readdirSync(queryDir).every((f) => f.endsWith('.json'))).toBe(true);
  });

  it('credentials in the OSV address never reach a warning', async () => {
    const dead = new URL(await deadUrl());
    dead.username = 'user';
    dead.password = 'sekret-token-123';
    const res = await osvApiSource({ baseUrl: dead.toString(), cache: false, retries: 0, fallback: false }).query([
      { ecosystem: 'npm', name: 'ip', version: '2.0.1' },
    ]);
    expect(res.ok).toBe(false);
    expect(!res.ok && JSON.stringify({ m: res.error.message, d: res.error.details })).not.toContain('sekret');
    expect(!res.ok && res.error.code).toBe('network');
    const src = osvApiSource({ baseUrl: dead.toString() });
    expect(src.name).not.toContain('sekret');
  });
});
