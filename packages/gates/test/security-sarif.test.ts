import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_MISSING_MESSAGE, sharedFixturesDir } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSarif, lockfileLine, type SecurityScanOutcome } from '../src/index.js';
import { SHRINKWRAP, YARN_V1 } from './fixtures/audit/lockfile-texts.js';
import { REPO_ROOT, runScanCli } from './fixtures/security/cli.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const runCli = (args: readonly string[]) => runScanCli(...args);

// SARIF 2.1.0, checked field by field against what the spec requires (no network
// for the schema) and what GitHub code scanning needs: help, security-severity,
// tags, a region and partialFingerprints on every result, the driver's version.

const ROOT = REPO_ROOT;
const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The SARIF 2.1.0 required fields and the constraints code scanning relies on; returns the problems found. */
function sarifProblems(doc: unknown, version: string): string[] {
  const p: string[] = [];
  if (!isObj(doc)) return ['not an object'];
  if (doc.version !== '2.1.0') p.push('version is not 2.1.0');
  if (!Array.isArray(doc.runs) || doc.runs.length !== 1) return [...p, 'runs is not one run'];
  const run = doc.runs[0] as Obj;
  const driver = (run.tool as Obj | undefined)?.driver as Obj | undefined;
  if (!isObj(driver) || typeof driver.name !== 'string' || driver.name === '') p.push('tool.driver.name missing');
  if (driver?.version !== version) p.push(`driver.version is ${String(driver?.version)}`);
  if (driver?.informationUri !== undefined && !/^https:\/\/\S+$/.test(String(driver.informationUri))) {
    p.push('informationUri is not an absolute https URI');
  }
  if (String(driver?.informationUri ?? '').includes('github.com/conveyor"')) p.push('placeholder informationUri');
  const rules = (driver?.rules ?? []) as Obj[];
  const ids = rules.map((r) => r.id);
  if (new Set(ids).size !== ids.length) p.push('duplicate rule ids');
  for (const r of rules) {
    const at = `rule ${String(r.id)}`;
    if (typeof r.id !== 'string' || r.id === '') p.push(`${at}: id`);
    if (!isObj(r.shortDescription) || typeof r.shortDescription.text !== 'string') p.push(`${at}: shortDescription`);
    const help = r.help as Obj | undefined;
    if (!isObj(help) || typeof help.text !== 'string' || help.text === '' || typeof help.markdown !== 'string') {
      p.push(`${at}: help text and markdown`);
    }
    const props = r.properties as Obj | undefined;
    const sev = Number(props?.['security-severity']);
    if (typeof props?.['security-severity'] !== 'string' || !(sev > 0 && sev <= 10)) p.push(`${at}: security-severity`);
    if (!Array.isArray(props?.tags) || !props.tags.includes('security')) p.push(`${at}: tags`);
  }
  if (!Array.isArray(run.results)) return [...p, 'results is not an array'];
  for (const [i, res] of (run.results as Obj[]).entries()) {
    const at = `result ${i}`;
    if (!isObj(res.message) || typeof res.message.text !== 'string' || res.message.text === '')
      p.push(`${at}: message.text`);
    if (typeof res.ruleId !== 'string' || !ids.includes(res.ruleId)) p.push(`${at}: ruleId not among the rules`);
    if (typeof res.ruleIndex !== 'number' || ids[res.ruleIndex] !== res.ruleId) p.push(`${at}: ruleIndex`);
    if (!['error', 'warning', 'note', 'none'].includes(String(res.level))) p.push(`${at}: level`);
    const loc = ((res.locations ?? []) as Obj[])[0]?.physicalLocation as Obj | undefined;
    const uri = (loc?.artifactLocation as Obj | undefined)?.uri;
    if (typeof uri !== 'string' || uri === '' || /[\s<>"]/.test(uri)) p.push(`${at}: artifactLocation.uri`);
    const region = loc?.region as Obj | undefined;
    const sl = region?.startLine;
    if (typeof sl !== 'number' || !Number.isInteger(sl) || sl < 1) p.push(`${at}: region.startLine`);
    const el = (region?.endLine ?? sl) as number;
    if (el < (sl as number)) p.push(`${at}: endLine before startLine`);
    if (region?.startColumn !== undefined && el === sl && Number(region.endColumn) <= Number(region.startColumn)) {
      p.push(`${at}: endColumn not after startColumn`);
    }
    const fp = res.partialFingerprints as Obj | undefined;
    if (!isObj(fp) || Object.keys(fp).length === 0 || Object.values(fp).some((v) => typeof v !== 'string')) {
      p.push(`${at}: partialFingerprints`);
    }
  }
  return p;
}

const pkgVersion = (): string =>
  (JSON.parse(readFileSync(join(ROOT, 'packages/gates/package.json'), 'utf8')) as { version: string }).version;

describe('SARIF output', () => {
  it('lockfileLine finds the package entry', () => {
    const lock = SHRINKWRAP('4.17.15');
    const line = lockfileLine(lock, 'lodash', '4.17.15');
    expect(lock.split('\n')[(line ?? 0) - 1]).toContain('"node_modules/lodash"');
    const yarn = YARN_V1('4.17.15');
    const y = lockfileLine(yarn, 'lodash', '4.17.15') ?? 0;
    expect(yarn.split('\n')[y - 1]).toMatch(/^"?lodash@/);
    expect(lockfileLine('{}', 'lodash', '1.0.0')).toBeUndefined();
  });

  it('a hand-made outcome with a secret, a config change and a dependency is complete SARIF', () => {
    const outcome = {
      report: { verdict: 'fail' },
      body: '',
      secrets: [
        {
          RuleID: 'github-pat',
          Description: 'GitHub PAT',
          StartLine: 3,
          EndLine: 3,
          StartColumn: 5,
          EndColumn: 44,
          Match: 'ghp_…',
          Secret: 'ghp_…',
          File: '<commit message>',
          Commit: 'a'.repeat(40),
          Entropy: 5,
          Author: '',
          Email: '',
          Date: '',
          Message: '',
          Tags: ['github'],
          Fingerprint: `${'a'.repeat(40)}:<commit message>:github-pat:3`,
        },
        {
          RuleID: 'conveyor-scan-config-changed',
          Description: 'scan config changed',
          StartLine: 0,
          EndLine: 0,
          StartColumn: 0,
          EndColumn: 0,
          Match: '',
          Secret: '',
          File: '.gitleaks.toml',
          Commit: 'b'.repeat(40),
          Entropy: 0,
          Author: '',
          Email: '',
          Date: '',
          Message: '',
          Tags: [],
          Fingerprint: 'x',
        },
      ],
      vulnerabilities: [
        {
          pkg: { ecosystem: 'npm', name: 'lodash', version: '4.17.15' },
          id: 'GHSA-p6mc-m468-83gw',
          aliases: ['CVE-2020-8203'],
          summary: 'Prototype pollution',
          severity: 'HIGH',
          fixed: '4.17.19',
          lockfile: 'package-lock.json',
          status: 'introduced',
          source: 'osv-dir',
          line: 9,
        },
        {
          pkg: { ecosystem: 'npm', name: 'minimist', version: '1.2.0' },
          id: 'GHSA-xvch-5gv4-984h',
          aliases: [],
          summary: 'Prototype pollution',
          lockfile: 'yarn.lock',
          status: 'inherited',
          source: 'osv-dir',
        },
      ],
    } as unknown as SecurityScanOutcome;
    const doc = JSON.parse(formatSarif(outcome)) as Obj;
    expect(sarifProblems(doc, pkgVersion())).toEqual([]);
    const results = ((doc.runs as Obj[])[0]?.results ?? []) as Obj[];
    const regions = results.map((r) => (((r.locations as Obj[])[0] as Obj).physicalLocation as Obj).region as Obj);
    expect(regions.map((r) => r.startLine)).toEqual([3, 1, 9, 1]);
    expect(regions[0]).toEqual({ startLine: 3, startColumn: 5, endLine: 3, endColumn: 45 });
    const rules = (((doc.runs as Obj[])[0] as Obj).tool as { driver: { rules: Obj[] } }).driver.rules;
    expect(rules.find((r) => r.id === 'GHSA-p6mc-m468-83gw')?.properties).toMatchObject({ 'security-severity': '8.0' });
  });

  it('conveyor-scan --report-format sarif on a real repo is complete SARIF', { timeout: 120_000 }, async () => {
    const r = new TempRepo('conveyor-sarif-');
    cleanup.push(() => r.cleanup());
    r.commit('init', { 'README.md': '# app\n' });
    r.git('checkout', '-q', '-b', 'task');
    r.commit('leak', { 'src/a.ts': `\nconst t = "ghp_${chars(36, 31)}";\n` });
    const res = await runCli(['git', r.dir, '--log-opts', 'main..task', '--report-format', 'sarif', '--no-audit']);
    expect(res.code).toBe(1);
    const doc = JSON.parse(res.stdout) as Obj;
    expect(sarifProblems(doc, pkgVersion())).toEqual([]);
    expect((((doc.runs as Obj[])[0] as Obj).results as Obj[]).length).toBe(1);
  });

  const fixtures = sharedFixturesDir();
  if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);
  it.skipIf(!fixtures)(
    'a vulnerable dependency result points at its lockfile entry',
    { timeout: 120_000 },
    async () => {
      const r = new TempRepo('conveyor-sarif-dep-');
      cleanup.push(() => r.cleanup());
      r.commit('init', { 'npm-shrinkwrap.json': SHRINKWRAP('4.17.21') });
      r.git('checkout', '-q', '-b', 'task');
      r.commit('downgrade', { 'npm-shrinkwrap.json': SHRINKWRAP('4.17.15') });
      const res = await runCli([
        'git',
        r.dir,
        '--log-opts',
        'main..task',
        '--report-format',
        'sarif',
        '--advisory-dir',
        join(fixtures ?? '', 'osv'),
      ]);
      expect(res.code).toBe(1);
      const doc = JSON.parse(res.stdout) as Obj;
      expect(sarifProblems(doc, pkgVersion())).toEqual([]);
      const results = ((doc.runs as Obj[])[0]?.results ?? []) as Obj[];
      expect(results.length).toBeGreaterThan(0);
      const lines = SHRINKWRAP('4.17.15').split('\n');
      for (const res1 of results) {
        const region = (((res1.locations as Obj[])[0] as Obj).physicalLocation as Obj).region as { startLine: number };
        expect(lines[region.startLine - 1]).toContain('"node_modules/lodash"');
      }
    },
  );
});
