import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runScanCli, runScript } from './fixtures/security/cli.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

// The gitleaks-compatible command line of the real `conveyor-scan` (and
// `conveyor-staging --help`), each case a child process on a real temp repo or dir.

const STAGING = fileURLToPath(new URL('../src/staging-cli.ts', import.meta.url));
const ROOT = REPO_ROOT;
const TOKEN = `ghp_${chars(36, 11)}`;
const TOKEN2 = `ghp_${chars(36, 12)}`;

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

const run = runScript;
const scan = runScanCli;

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'conveyor-scan-cli-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function leakyRepo(): TempRepo {
  const r = new TempRepo('conveyor-scan-cli-');
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'README.md': '# app\n' });
  r.git('checkout', '-q', '-b', 'task');
  r.commit('add config', { 'src/config.ts': `export const token = "${TOKEN}";\n` });
  return r;
}

describe('conveyor-scan, gitleaks flags (real child processes)', { timeout: 180_000 }, () => {
  it('--help on both CLIs exits 0 with the usage; --version prints the package version', async () => {
    const [h, s, v] = await Promise.all([scan('--help'), run(STAGING, ['--help']), scan('--version')]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--report-format');
    expect(h.stdout).toContain('conveyor-scan dir');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('usage: conveyor-staging');
    expect(s.stdout).not.toContain('Unknown option');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/gates/package.json'), 'utf8')) as { version: string };
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(`conveyor-scan ${pkg.version}`);
  });

  it('git REPO --log-opts BASE..HEAD finds the secret: exit 1, --exit-code changes it, the report never holds it', async () => {
    const r = leakyRepo();
    const out = tmp();
    const report = join(out, 'r.json');
    const res = await scan('git', r.dir, '--log-opts', 'main..task', '--report-path', report, '--no-audit', '-v');
    expect(res.code).toBe(1);
    const findings = JSON.parse(readFileSync(report, 'utf8')) as { RuleID: string; File: string; Secret: string }[];
    expect(findings.map((f) => [f.RuleID, f.File])).toEqual([['github-pat', 'src/config.ts']]);
    expect(readFileSync(report, 'utf8')).not.toContain(TOKEN);
    expect(res.stderr).toContain('finding: github-pat src/config.ts:1');
    expect(res.stderr).not.toContain(TOKEN);
    const seven = await scan('git', r.dir, '--log-opts', 'main..task', '--exit-code', '7', '--no-audit');
    expect(seven.code).toBe(7);
    const clean = await scan('git', r.dir, '--log-opts', 'main..main', '--no-audit');
    expect(clean.code).toBe(0);
  });

  it('the redacted JSON report is a baseline: rescan finds nothing, a new secret is still found', async () => {
    const r = leakyRepo();
    const report = join(tmp(), 'baseline.json');
    const first = await scan(
      'git',
      r.dir,
      '--log-opts',
      'main..task',
      '--report-path',
      report,
      '--redact',
      '--no-audit',
    );
    expect(first.code).toBe(1);
    expect(readFileSync(report, 'utf8')).not.toContain(TOKEN);
    const again = await scan('git', r.dir, '--log-opts', 'main..task', '--baseline-path', report, '--no-audit');
    expect(again.code).toBe(0);
    r.commit('more', { 'src/other.ts': `export const other = "${TOKEN2}";\n` });
    const more = await scan(
      'git',
      r.dir,
      '--log-opts',
      'main..task',
      '--baseline-path',
      report,
      '--report-format',
      'json',
      '--no-audit',
    );
    expect(more.code).toBe(1);
    expect((JSON.parse(more.stdout) as { File: string }[]).map((f) => f.File)).toEqual(['src/other.ts']);
    // the same secret in another file is another finding: the baseline names places, not secret values
    r.commit('copied', { 'src/copy.ts': `export const token = "${TOKEN}";\n` });
    const moved = await scan(
      'git',
      r.dir,
      '--log-opts',
      'main..task',
      '--baseline-path',
      report,
      '--report-format',
      'json',
      '--no-audit',
    );
    expect(moved.code).toBe(1);
    expect(
      (JSON.parse(moved.stdout) as { File: string; StartLine: number }[]).map((f) => `${f.File}:${f.StartLine}`),
    ).toContain('src/copy.ts:1');
  });

  it('--redact shows REDACTED; every report format is written and holds no secret', async () => {
    const r = leakyRepo();
    const out = tmp();
    for (const fmt of ['json', 'sarif', 'csv', 'junit', 'markdown']) {
      const p = join(out, `r.${fmt}`);
      const res = await scan(
        '--repo',
        r.dir,
        '--range',
        'main..task',
        '--report-format',
        fmt,
        '--report-path',
        p,
        '--redact',
        '--no-audit',
      );
      expect(res.code, fmt).toBe(1);
      const text = readFileSync(p, 'utf8');
      expect(text, fmt).not.toContain(TOKEN);
      expect(text, fmt).not.toContain(TOKEN.slice(0, 10));
      expect(text, fmt).toContain('github-pat');
      if (fmt === 'json') expect((JSON.parse(text) as { Secret: string }[])[0]?.Secret).toBe('REDACTED');
      if (fmt === 'csv')
        expect(text.split('\r\n')[0]).toBe(
          'RuleID,Commit,File,SymlinkFile,Secret,Match,StartLine,EndLine,StartColumn,EndColumn,Author,Message,Date,Email,Fingerprint,Tags',
        );
      if (fmt === 'junit') expect(text).toMatch(/<testsuite failures="1" errors="0" name="conveyor-scan" tests="1"/);
    }
  });

  it('--log-opts refuses options that run commands or write files, and does not write them', async () => {
    const r = leakyRepo();
    const out = tmp();
    for (const opt of [`--output=${join(out, 'x')}`, '--ext-diff', '--textconv', '-c core.pager=touch', '--all']) {
      const res = await scan('git', r.dir, '--log-opts', `${opt} main..task`, '--no-audit');
      expect(res.code, opt).toBe(2);
      expect(res.stderr, opt).toMatch(/--log-opts: option \S+ is (refused|not supported)/);
    }
    expect(() => readFileSync(join(out, 'x'))).toThrow();
    const single = await scan('git', r.dir, '--log-opts', 'task', '--no-audit');
    expect(single.code).toBe(2);
  });

  it('bad flags are errors (exit 2): unknown command, bad format, bad --redact, bad --exit-code', async () => {
    const results = await Promise.all([
      scan('scan', '.'),
      scan('--report-format', 'xml'),
      scan('--redact=150'),
      scan('--exit-code', 'x'),
    ]);
    for (const res of results) expect(res.code).toBe(2);
  });

  it('dir PATH: regular files only, symlinks not followed, .git skipped, size cap; exit 1 on a find', async () => {
    const d = tmp();
    const outside = tmp();
    writeFileSync(join(outside, 'leak.txt'), `t=${TOKEN2}\n`);
    mkdirSync(join(d, 'src'));
    mkdirSync(join(d, '.git'));
    writeFileSync(join(d, 'src', 'a.ts'), `const t = "${TOKEN}";\n`);
    writeFileSync(join(d, '.git', 'config'), `t=${TOKEN2}\n`);
    symlinkSync(join(outside, 'leak.txt'), join(d, 'link.txt'));
    symlinkSync(outside, join(d, 'linked-dir'));
    writeFileSync(join(d, 'big.txt'), `${'x'.repeat(2 * 1024 * 1024)}\n${TOKEN2}\n`);
    const report = join(tmp(), 'dir.json');
    const res = await scan('dir', d, '--report-path', report, '--max-target-megabytes', '1');
    expect(res.code).toBe(1);
    const findings = JSON.parse(readFileSync(report, 'utf8')) as {
      File: string;
      Fingerprint: string;
      Commit: string;
    }[];
    expect(findings.map((f) => f.File)).toEqual(['src/a.ts']);
    expect(findings[0]?.Fingerprint).toBe('src/a.ts:github-pat:1');
    expect(res.stderr).toMatch(/warning: big\.txt: skipped/);
    expect(readFileSync(report, 'utf8')).not.toContain(TOKEN);
    // the report as a baseline: nothing new; a new secret is still found
    const again = await scan('dir', d, '--baseline-path', report, '--max-target-megabytes', '1');
    expect(again.code).toBe(0);
    writeFileSync(join(d, 'src', 'b.ts'), `const t = "${TOKEN2}";\n`);
    const more = await scan(
      'dir',
      d,
      '--baseline-path',
      report,
      '--max-target-megabytes',
      '1',
      '--report-format',
      'json',
    );
    expect(more.code).toBe(1);
    expect((JSON.parse(more.stdout) as { File: string }[]).map((f) => f.File)).toEqual(['src/b.ts']);
    const missing = await scan('dir', join(d, 'absent'));
    expect(missing.code).toBe(2);
  });
});
