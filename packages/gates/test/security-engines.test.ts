import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecurityRange, runGitleaksEngine } from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});
const tmp = mkdtempSync(join(tmpdir(), 'conveyor-fake-gitleaks-'));
cleanup.push(() => rmSync(tmp, { recursive: true, force: true }));

const TOKEN = `ghp_${chars(36, 301)}`;

function fakeGitleaks(name: string, script: string): string {
  const path = join(tmp, name);
  writeFileSync(
    path,
    `#!/bin/sh\n# a stand-in for gitleaks: records its arguments, then behaves as told\necho "$@" > "${path}.args"\n${script}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

// writes $1 (a JSON text) to the value following --report-path
const writeReport = (json: string) =>
  `prev=""; for a in "$@"; do if [ "$prev" = "--report-path" ]; then printf '%s' '${json}' > "$a"; fi; prev="$a"; done`;

describe('gitleaks engine (a fake binary as a real child process)', () => {
  const repo = new TempRepo();
  cleanup.push(() => repo.cleanup());
  repo.commit('init', { 'a.txt': 'a\n' });
  repo.git('checkout', '-q', '-b', 'task');
  repo.commit('work', { 'b.txt': 'b\n' });

  async function range() {
    const r = await resolveSecurityRange(repo.dir, 'main..task');
    if (!r.ok) throw r.error;
    return r.value;
  }

  it('passes the range as --log-opts and reads findings on exit 1', async () => {
    const finding = {
      RuleID: 'github-pat',
      Description: 'x',
      StartLine: 3,
      EndLine: 3,
      StartColumn: 1,
      EndColumn: 40,
      Match: 'REDACTED',
      Secret: 'REDACTED',
      File: 'b.txt',
      Commit: 'abc',
      Entropy: 4,
      Author: 'a',
      Email: 'e',
      Date: 'd',
      Message: 'm',
      Tags: [],
      Fingerprint: 'abc:b.txt:github-pat:3',
    };
    const bin = fakeGitleaks('leaks', `${writeReport(JSON.stringify([finding]))}\nexit 1`);
    const r = await range();
    const res = await runGitleaksEngine({ repoDir: repo.dir, range: r, binaryPath: bin });
    expect(res.ok && res.value.findings.map((f) => f.Fingerprint)).toEqual(['abc:b.txt:github-pat:3']);
    const args = readFileSync(`${bin}.args`, 'utf8');
    expect(args).toContain(`--log-opts=${r.baseSha}..${r.headSha}`);
    expect(args).toContain('--report-format json');
    expect(args).toContain('--exit-code 1');
  });

  it('reads a clean run (exit 0, empty report)', async () => {
    const bin = fakeGitleaks('clean', `${writeReport('[]')}\nexit 0`);
    const res = await runGitleaksEngine({ repoDir: repo.dir, range: await range(), binaryPath: bin });
    expect(res.ok && res.value.findings).toEqual([]);
  });

  it.each([
    ['missing binary', undefined, 'not_found'],
    ['another exit code', 'echo boom >&2\nexit 2', 'process_failed'],
    ['a timeout', 'sleep 5', 'timeout'],
    ['an unreadable report', 'echo nothing\nexit 1', 'corrupt'],
    ['a report that is not JSON', `${writeReport('not json')}\nexit 0`, 'corrupt'],
    ['exit 1 with an empty report', `${writeReport('[]')}\nexit 1`, 'corrupt'],
  ])('is an error on %s', async (name, script, code) => {
    const bin = script === undefined ? join(tmp, 'does-not-exist') : fakeGitleaks(name.replace(/\W/g, '-'), script);
    const res = await runGitleaksEngine({ repoDir: repo.dir, range: await range(), binaryPath: bin, timeoutMs: 700 });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe(code);
  });
});

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('conveyor-scan CLI (a real child process)', () => {
  const repo = new TempRepo();
  cleanup.push(() => repo.cleanup());
  repo.commit('init', { 'a.txt': 'a\n' });
  repo.git('checkout', '-q', '-b', 'task');
  repo.commit('clean', { 'b.txt': 'b\n' });
  repo.git('checkout', '-q', '-b', 'leaky');
  const leakSha = repo.commit('leak', { 'c.ts': `const t = "${TOKEN}";\n` });

  it('exits 0 on a clean range', async () => {
    const res = await runCli(['--repo', repo.dir, '--range', 'main..task', '--format', 'json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([]);
  });

  it('exits 1 with redacted findings in json, sarif and markdown; never prints the secret', async () => {
    const json = await runCli(['--repo', repo.dir, '--range', 'main..leaky', '--format', 'json']);
    expect(json.code).toBe(1);
    const findings = JSON.parse(json.stdout) as { RuleID: string; Fingerprint: string }[];
    expect(findings.map((f) => f.Fingerprint)).toEqual([`${leakSha}:c.ts:github-pat:1`]);
    const reportFile = join(tmp, 'out.sarif');
    const sarif = await runCli([
      '--repo',
      repo.dir,
      '--range',
      'main..leaky',
      '--format',
      'sarif',
      '--report',
      reportFile,
    ]);
    expect(sarif.code).toBe(1);
    const doc = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(doc.version).toBe('2.1.0');
    expect(doc.runs[0].results[0].ruleId).toBe('github-pat');
    expect(doc.runs[0].results[0].locations[0].physicalLocation.region.startLine).toBe(1);
    const md = await runCli(['--repo', repo.dir, '--range', 'main..leaky']);
    expect(md.stdout).toContain('| github-pat | c.ts | 1 |');
    for (const out of [json.stdout, json.stderr, readFileSync(reportFile, 'utf8'), md.stdout, md.stderr])
      expect(out).not.toContain(TOKEN);
  });

  it('exits 2 on an unresolvable range and on bad arguments', async () => {
    const bad = await runCli(['--repo', repo.dir, '--range', 'origin/main..HEAD']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'origin/main' does not resolve");
    expect((await runCli(['--format', 'xml'])).code).toBe(2);
    expect((await runCli(['--bogus'])).code).toBe(2);
  });
});
