import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { securitySettingsSchema } from '../src/index.js';
import { runScanCli as scan } from './fixtures/security/cli.js';
import { chars } from './fixtures/security/samples.js';

// `--max-decode-depth` (gitleaks' flag) on conveyor-scan and its setting.

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

describe('--max-decode-depth', () => {
  it('is listed by --help and refuses a value that is not an integer within the cap', async () => {
    const help = await scan('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--max-decode-depth N');
    const bad = await scan('dir', '.', '--max-decode-depth', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-decode-depth takes an integer 0..32');
    expect((await scan('dir', '.', '--max-decode-depth', '99')).code).toBe(2);
  });

  it('dir mode finds a base64-encoded token by default and reports where the encoded text is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-decode-cli-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const encoded = Buffer.from(`ghp_${chars(36, 21)}`).toString('base64');
    writeFileSync(join(dir, 'secret.yaml'), `kind: Secret\ndata:\n  token: ${encoded}\n`);
    const r = await scan('dir', dir, '--report-format', 'json');
    expect(r.code).toBe(1);
    const [f] = JSON.parse(r.stdout) as { RuleID: string; StartLine: number; StartColumn: number; Tags: string[] }[];
    expect(f?.RuleID).toBe('github-pat');
    expect([f?.StartLine, f?.StartColumn]).toEqual([3, 10]);
    expect(f?.Tags).toEqual(expect.arrayContaining(['decoded:base64', 'decode-depth:1']));
    // the token never appears in clear, encoded or not
    expect(r.stdout).not.toContain(encoded);
    expect(r.stdout).not.toContain(`ghp_${chars(36, 21)}`);
  });

  it('--max-decode-depth reaches the scan: 0 turns decoding off in dir and git mode, the default finds the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-decode-cli-git-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: dir });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'README.md'), 'hello\n');
    git('add', '.');
    git('commit', '-qm', 'base');
    const encoded = Buffer.from(`ghp_${chars(36, 22)}`).toString('base64');
    writeFileSync(join(dir, 'notes.yaml'), `kind: Note\ndata:\n  payload: ${encoded}\n`);
    git('add', '.');
    git('commit', '-qm', 'add a secret, encoded');
    for (const mode of [
      ['dir', dir],
      ['git', dir, '--log-opts', 'HEAD~1..HEAD'],
    ]) {
      const found = await scan(...mode, '--report-format', 'json');
      expect(found.code, `${mode[0]} mode: ${found.stderr}`).toBe(1);
      expect((JSON.parse(found.stdout) as { RuleID: string }[]).map((f) => f.RuleID)).toContain('github-pat');
      const off = await scan(...mode, '--report-format', 'json', '--max-decode-depth', '0');
      expect(off.code, `${mode[0]} mode, depth 0: ${off.stderr}`).toBe(0);
    }
  });

  it('is a setting (ORCH_SECURITY_MAX_DECODE_DEPTH), 5 by default, 0..32', () => {
    expect(securitySettingsSchema.parse({}).securityMaxDecodeDepth).toBe(5);
    expect(securitySettingsSchema.parse({ securityMaxDecodeDepth: '0' }).securityMaxDecodeDepth).toBe(0);
    expect(securitySettingsSchema.safeParse({ securityMaxDecodeDepth: '33' }).success).toBe(false);
  });
});
