import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES_MISSING_MESSAGE, sharedFixturesDir } from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdvisorySource,
  auditDependencies,
  createSecurityGate,
  npmBulkAdvisorySource,
  type OsvAdvisory,
  osvAffects,
  osvBatchSource,
  osvDirectorySource,
  parseLockfile,
  pipAuditSource,
  readSecurityReport,
} from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

function packageLock(deps: Record<string, string>): string {
  const packages: Record<string, unknown> = { '': { name: 'app', version: '1.0.0' } };
  for (const [name, version] of Object.entries(deps)) packages[`node_modules/${name}`] = { version };
  return `${JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`;
}

function repoWithLock(
  mainDeps: Record<string, string>,
  taskDeps: Record<string, string>,
  extra: Record<string, string> = {},
): TempRepo {
  const r = new TempRepo();
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'package-lock.json': packageLock(mainDeps) });
  r.git('checkout', '-q', '-b', 'task');
  r.commit('bump', { 'package-lock.json': packageLock(taskDeps), ...extra });
  return r;
}

async function audit(r: TempRepo, sources?: readonly AdvisorySource[]) {
  const base = r.git('rev-parse', 'main');
  const head = r.git('rev-parse', 'task');
  const res = await auditDependencies({
    repoDir: r.dir,
    baseSha: base,
    headSha: head,
    ...(sources ? { sources } : {}),
  });
  if (!res.ok) throw res.error;
  return res.value;
}

describe('lockfile parsing', () => {
  it('reads package-lock v3 (nested and scoped), pnpm v6/v9, requirements pins and poetry.lock', () => {
    const npm = parseLockfile(
      'package-lock.json',
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'root' },
          'node_modules/@scope/a': { version: '1.0.0' },
          'node_modules/b/node_modules/c': { version: '2.0.0' },
          'packages/ws': { version: '0.0.1' },
          'node_modules/ws-link': { resolved: 'packages/ws', link: true },
        },
      }),
    );
    expect(npm.ok && npm.value.map((p) => `${p.name}@${p.version}`)).toEqual(['@scope/a@1.0.0', 'c@2.0.0']);
    const pnpm = parseLockfile(
      'pnpm-lock.yaml',
      "lockfileVersion: '9.0'\npackages:\n  '@babel/core@7.24.0':\n    resolution: {integrity: sha512-x}\n  lodash@4.17.20:\n    resolution: {integrity: sha512-y}\n  /minimist/1.2.5:\n    resolution: {integrity: sha512-z}\n  react-dom@18.2.0(react@18.2.0):\n    resolution: {integrity: sha512-w}\n",
    );
    expect(pnpm.ok && pnpm.value.map((p) => `${p.name}@${p.version}`)).toEqual([
      '@babel/core@7.24.0',
      'lodash@4.17.20',
      'minimist@1.2.5',
      'react-dom@18.2.0',
    ]);
    const req = parseLockfile(
      'requirements.txt',
      '# deps\nRequests==2.30.0\nflask>=2\nJinja2[i18n]==3.1.2 ; python_version>"3"\n-r other.txt\n',
    );
    expect(req.ok && req.value.map((p) => `${p.name}@${p.version}`)).toEqual(['requests@2.30.0', 'jinja2@3.1.2']);
    const poetry = parseLockfile(
      'poetry.lock',
      '[[package]]\nname = "PyYAML"\nversion = "5.3.1"\n\n[[package]]\nname = "urllib3"\nversion = "2.0.5"\n',
    );
    expect(poetry.ok && poetry.value.map((p) => `${p.name}@${p.version}`)).toEqual(['pyyaml@5.3.1', 'urllib3@2.0.5']);
    expect(parseLockfile('package-lock.json', '{nope').ok).toBe(false);
  });
});

describe('dependency audit on real repositories (embedded advisories)', () => {
  it('fails a bump into a vulnerable range', async () => {
    const r = repoWithLock({ minimist: '1.2.6', lodash: '4.17.21' }, { minimist: '1.2.5', lodash: '4.17.21' });
    const res = await audit(r);
    expect(res.changed).toEqual([{ ecosystem: 'npm', name: 'minimist', version: '1.2.5' }]);
    expect(res.vulnerabilities.map((v) => [v.pkg.name, v.id, v.status])).toEqual([
      ['minimist', 'CONVEYOR-2021-0002', 'introduced'],
    ]);
  });

  it('passes a bump out of a vulnerable range', async () => {
    const r = repoWithLock({ lodash: '4.17.20' }, { lodash: '4.17.21' });
    const res = await audit(r);
    expect(res.changed.map((p) => p.version)).toEqual(['4.17.21']);
    expect(res.vulnerabilities).toEqual([]);
  });

  it('warns (does not fail) for a vulnerability inherited from main', async () => {
    const r = repoWithLock({ lodash: '4.17.19', axios: '1.6.0' }, { lodash: '4.17.20', axios: '1.6.0' });
    const res = await audit(r);
    expect(res.vulnerabilities.map((v) => [v.pkg.name, v.pkg.version, v.status])).toEqual([
      ['lodash', '4.17.20', 'inherited'],
    ]);
  });

  it('audits Python requirements with PEP 440 ranges', async () => {
    const r = new TempRepo();
    cleanup.push(() => r.cleanup());
    r.commit('init', { 'svc/requirements.txt': 'requests==2.31.0\nPyYAML==5.4\n' });
    r.git('checkout', '-q', '-b', 'task');
    r.commit('downgrade', { 'svc/requirements.txt': 'requests==2.30.0\nPyYAML==5.4.1\n' });
    const res = await audit(r);
    expect(res.vulnerabilities.map((v) => [v.lockfile, v.pkg.name, v.status])).toEqual([
      ['svc/requirements.txt', 'requests', 'introduced'],
    ]);
  });
});

describe('advisory feeds over HTTP (in-process server on 127.0.0.1)', () => {
  let server: Server;
  let base = '';
  const seen: { url: string; body: string }[] = [];
  let mode: 'ok' | '405' | '500' = 'ok';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += String(c);
      });
      req.on('end', () => {
        seen.push({ url: req.url ?? '', body });
        if (mode !== 'ok') {
          res.writeHead(mode === '405' ? 405 : 500, { 'content-type': 'text/plain' }).end('Method Not Allowed');
          return;
        }
        if (req.url === '/v1/querybatch') {
          const q = JSON.parse(body) as { queries: { package: { name: string }; version: string }[] };
          const results = q.queries.map((x) =>
            x.package.name === 'minimist' && x.version === '1.2.5'
              ? { vulns: [{ id: 'GHSA-xvch-5gv4-984h', modified: '2024-06-21T21:33:52Z' }] }
              : {},
          );
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
          return;
        }
        if (req.url === '/-/npm/v1/security/advisories/bulk') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              minimist: [
                {
                  id: 1179,
                  url: 'https://github.com/advisories/GHSA-xvch-5gv4-984h',
                  title: 'Prototype Pollution in minimist',
                  severity: 'critical',
                  vulnerable_versions: '<0.2.4 || >=1.0.0 <1.2.6',
                },
              ],
            }),
          );
          return;
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const pkgs = [
    { ecosystem: 'npm' as const, name: 'minimist', version: '1.2.5' },
    { ecosystem: 'npm' as const, name: 'minimist', version: '1.2.6' },
  ];

  it('queries OSV /v1/querybatch with one query per package', async () => {
    mode = 'ok';
    const res = await osvBatchSource({ baseUrl: base }).query(pkgs);
    expect(res.ok && res.value.map((m) => `${m.pkg.version}:${m.id}`)).toEqual(['1.2.5:GHSA-xvch-5gv4-984h']);
    const sent = JSON.parse(seen.filter((r) => r.url === '/v1/querybatch').at(-1)?.body ?? '{}');
    expect(sent.queries[0]).toEqual({ package: { name: 'minimist', ecosystem: 'npm' }, version: '1.2.5' });
  });

  it('posts the npm bulk body and evaluates vulnerable_versions', async () => {
    mode = 'ok';
    const res = await npmBulkAdvisorySource({ baseUrl: base }).query(pkgs);
    expect(seen.at(-1)?.url).toBe('/-/npm/v1/security/advisories/bulk');
    expect(JSON.parse(seen.at(-1)?.body ?? '{}')).toEqual({ minimist: ['1.2.5', '1.2.6'] });
    expect(res.ok && res.value.map((m) => `${m.pkg.version}:${m.id}`)).toEqual(['1.2.5:GHSA-xvch-5gv4-984h']);
  });

  it('treats a 405 (like this machine’s registry), a 500 and a refused connection as unreachable', async () => {
    mode = '405';
    const r405 = await npmBulkAdvisorySource({ baseUrl: base }).query(pkgs);
    expect(!r405.ok && r405.error.message).toContain('405');
    mode = '500';
    expect((await osvBatchSource({ baseUrl: base }).query(pkgs)).ok).toBe(false);
    const refused = await osvBatchSource({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 }).query(pkgs);
    expect(!refused.ok && refused.error.code).toBe('network');
  });

  it('gate: an unreachable feed passes with a loud warning by default and fails when strict', async () => {
    mode = '405';
    const r = repoWithLock({ minimist: '1.2.6' }, { minimist: '1.2.5' });
    const reportDir = mkdtempSync(join(tmpdir(), 'conveyor-sec-report-'));
    cleanup.push(() => rmSync(reportDir, { recursive: true, force: true }));
    const ctx = {
      task: { id: 't' } as never,
      edge: 'deploy-staging->deploy',
      signal: new AbortController().signal,
      logger: {
        debug() {},
        info() {},
        warn() {},
        error() {},
        child() {
          return this;
        },
      },
      now: () => 0,
      readOnly: false,
      workdir: r.dir,
      reportDir,
    };
    const sources = [npmBulkAdvisorySource({ baseUrl: base })];
    const open = await createSecurityGate({ securityBaseRef: 'main', securityHeadRef: 'task', sources }).run(ctx);
    expect(open.status).toBe('pass');
    expect(open.warnings?.find((w) => w.includes('ADVISORY FEED UNREACHABLE'))).toContain('npm-bulk');
    const report = readFileSync(open.reportPath ?? '', 'utf8');
    expect(report).toContain('ADVISORY FEED UNREACHABLE');
    const strict = await createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditFailClosed: true,
      sources,
    }).run(ctx);
    expect(strict.status).toBe('fail');
    const fm = await readSecurityReport(strict.reportPath ?? '');
    expect(fm.ok && [fm.value.verdict, fm.value.counts.unreachableFeeds, fm.value.strictAudit]).toEqual([
      'fail',
      1,
      true,
    ]);
    mode = 'ok';
    const online = await createSecurityGate({ securityBaseRef: 'main', securityHeadRef: 'task', sources }).run(ctx);
    expect(online.status).toBe('fail');
    expect(online.findings?.[0]?.message).toContain('minimist@1.2.5');
  });
});

describe('pip-audit runner (real child processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-pip-audit-fake-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const py = [{ ecosystem: 'PyPI' as const, name: 'requests', version: '2.30.0' }];
  it('reads pip-audit JSON and reports a missing binary as unreachable', async () => {
    const fake = join(dir, 'pip-audit');
    writeFileSync(
      fake,
      `#!/bin/sh\necho '{"dependencies":[{"name":"requests","version":"2.30.0","vulns":[{"id":"PYSEC-2023-74","fix_versions":["2.31.0"],"aliases":["CVE-2023-32681"],"description":"leak"}]}],"fixes":[]}'\nexit 1\n`,
    );
    chmodSync(fake, 0o755);
    const res = await pipAuditSource({ command: fake }).query(py);
    expect(res.ok && res.value.map((m) => [m.id, m.fixed])).toEqual([['PYSEC-2023-74', '2.31.0']]);
    const missing = await pipAuditSource({ command: join(dir, 'absent') }).query(py);
    expect(missing.ok).toBe(false);
  });
});

// The real GitHub Advisory Database records in OSV format live beside the
// checkout (never copied into the repo); without them these contract checks skip.
const fixtures = sharedFixturesDir();
if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);
describe.skipIf(!fixtures)('range evaluation against real OSV advisories', () => {
  const dir = join(fixtures ?? '', 'osv');
  const load = (id: string) => JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as OsvAdvisory;
  const cases: [string, 'npm' | 'PyPI', string, string, boolean][] = [
    ['GHSA-p6mc-m468-83gw', 'npm', 'lodash', '4.17.15', true],
    ['GHSA-p6mc-m468-83gw', 'npm', 'lodash', '4.17.19', false],
    ['GHSA-p6mc-m468-83gw', 'npm', 'lodash', '3.6.0', false],
    ['GHSA-p6mc-m468-83gw', 'npm', 'lodash.pick', '4.4.0', true],
    ['GHSA-p6mc-m468-83gw', 'npm', 'lodash.pick', '4.4.1', false],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '0.2.0', true],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '0.2.1', false],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '1.2.2', true],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.5', true],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.6', false],
    ['GHSA-hrpp-h998-j3pp', 'npm', 'qs', '6.10.2', true],
    ['GHSA-hrpp-h998-j3pp', 'npm', 'qs', '6.10.3', false],
    ['GHSA-hrpp-h998-j3pp', 'npm', 'qs', '6.9.7', false],
    ['GHSA-hrpp-h998-j3pp', 'npm', 'qs', '6.2.3', true],
    ['GHSA-rv95-896h-c2vc', 'npm', 'express', '4.19.1', true],
    ['GHSA-rv95-896h-c2vc', 'npm', 'express', '5.0.0-alpha.8', true],
    ['GHSA-rv95-896h-c2vc', 'npm', 'express', '5.0.0-beta.3', false],
    ['GHSA-2p57-rm9w-gvfp', 'npm', 'ip', '2.0.1', true],
    ['GHSA-2p57-rm9w-gvfp', 'npm', 'ip', '2.0.2', false],
    ['GHSA-j8r2-6x86-q33q', 'PyPI', 'requests', '2.30.0', true],
    ['GHSA-j8r2-6x86-q33q', 'PyPI', 'requests', '2.31.0', false],
    ['GHSA-j8r2-6x86-q33q', 'PyPI', 'requests', '2.2.1', false],
    ['GHSA-v845-jxx5-vc9f', 'PyPI', 'urllib3', '1.26.16', true],
    ['GHSA-v845-jxx5-vc9f', 'PyPI', 'urllib3', '2.0.6', false],
    ['GHSA-h5c8-rqwp-cp95', 'PyPI', 'Jinja2', '3.1.2', true],
    ['GHSA-h6gw-r52c-724r', 'PyPI', 'tensorflow-gpu', '2.7.0', true],
    ['GHSA-h6gw-r52c-724r', 'PyPI', 'tensorflow', '2.6.3', false],
    ['GHSA-h6gw-r52c-724r', 'PyPI', 'tensorflow', '2.5.2', true],
  ];
  it.each(cases)('%s: %s %s@%s affected=%s', (id, ecosystem, name, version, expected) => {
    expect(osvAffects(load(id), { ecosystem, name, version }).affected).toBe(expected);
  });

  it('serves the directory as an offline source', async () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(10);
    const res = await osvDirectorySource(dir).query([{ ecosystem: 'npm', name: 'minimist', version: '1.2.0' }]);
    expect(res.ok && res.value.map((m) => m.id).sort()).toEqual(['GHSA-vh95-rmgr-6w4m', 'GHSA-xvch-5gv4-984h']);
    expect((await osvDirectorySource(join(dir, 'absent')).query([])).ok).toBe(false);
  });
});
