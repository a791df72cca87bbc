import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

// The published `conveyor-scan` is the tsup bundle in dist/, not the sources the other CLI tests run under tsx:
// this runs the built file (CI builds before it tests) and records which of its files the process loads.

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const LIB = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const LOAD_LOG = fileURLToPath(new URL('./fixtures/security/load-log.mjs', import.meta.url));
const TOKEN = `ghp_${chars(36, 21)}`;
const built = existsSync(CLI);
if (!built) console.warn(`cli-bundle.test.ts: skipped, ${CLI} is not built (run npm run build)`);

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

interface BundleRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** the bundle's files the process loaded, and the source modules esbuild put in them (`// path` headers) */
  readonly modules: readonly string[];
}

function runBuilt(args: readonly string[]): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-cli-bundle-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'loaded.txt');
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', LOAD_LOG, CLI, ...args],
      { env: { ...process.env, CONVEYOR_LOAD_LOG: log }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : 0;
        const files = existsSync(log) ? [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))] : [];
        const modules = files
          .filter((u) => u.includes('/dist/'))
          .flatMap((u) =>
            [...readFileSync(fileURLToPath(u), 'utf8').matchAll(/^\/\/ (\S+)$/gm)].map((m) => m[1] ?? ''),
          );
        done({ code, stdout, stderr, modules });
      },
    );
  });
}

/** The npm packages whose code a run loaded (from esbuild's `// ../../node_modules/<pkg>/…` headers). */
const packagesOf = (modules: readonly string[]): Set<string> =>
  new Set(modules.flatMap((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []));

function leakyRepo(): TempRepo {
  const r = new TempRepo('conveyor-cli-bundle-');
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'README.md': '# app\n', 'package-lock.json': '{"lockfileVersion": 3, "packages": {}}\n' });
  r.git('checkout', '-q', '-b', 'task');
  r.commit('add config', { 'src/config.ts': `export const token = "${TOKEN}";\n` });
  return r;
}

describe.skipIf(!built)(
  'the built conveyor-scan bundle (dist/cli.js, real child processes)',
  { timeout: 120_000 },
  () => {
    it('finds the secret (exit 1) and loads no dependency-audit, process-runner or YAML code when the audit is off', async () => {
      const r = leakyRepo();
      const res = await runBuilt(['git', r.dir, '--log-opts', 'main..task', '--no-audit', '--report-format', 'json']);
      expect(res.stderr).toContain('1 secret(s)');
      expect(res.code).toBe(1);
      const findings = JSON.parse(res.stdout) as { RuleID: string; File: string; Secret: string }[];
      expect(findings.map((f) => [f.RuleID, f.File])).toEqual([['github-pat', 'src/config.ts']]);
      expect(res.stdout).not.toContain(TOKEN);
      // what the scan runs on is loaded …
      const pkgs = packagesOf(res.modules);
      expect(pkgs).toContain('re2js');
      expect(res.modules.some((m) => m.endsWith('src/security/scanner.ts'))).toBe(true);
      // … and what only the audit, the gitleaks binary or other gates need is not
      for (const p of ['yaml', 'execa', 'semver', '@renovatebot/pep440', 'eventemitter3'])
        expect(pkgs).not.toContain(p);
      // (the settings schema's OSV defaults are two numbers of their own)
      expect(res.modules.filter((m) => m.includes('/audit/') && !m.endsWith('/audit/osv-defaults.ts'))).toEqual([]);
      // zod's classic API without its 40-odd locale bundles
      expect(res.modules.filter((m) => m.includes('zod/v4/locales/') && !m.endsWith('/en.js'))).toEqual([]);
    });

    it("the built library's security scan runs in the bundled scan worker and finds the secret", async () => {
      const r = leakyRepo();
      const lib = (await import(pathToFileURL(LIB).href)) as typeof import('../src/index.js');
      const settings = lib.securitySettingsSchema.parse({ securityDepAuditEnabled: false });
      const outcome = await lib.runSecurityScan({ repoDir: r.dir, range: 'main..task', settings });
      expect(outcome.error).toBeUndefined();
      expect(outcome.report.verdict).toBe('fail');
      expect(outcome.secrets.map((f) => [f.RuleID, f.File])).toEqual([['github-pat', 'src/config.ts']]);
      expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    });

    it('with the audit on (the default), loads the audit and still reports the secret', async () => {
      const r = leakyRepo();
      const res = await runBuilt(['git', r.dir, '--log-opts', 'main..task', '--report-format', 'json']);
      expect(res.code).toBe(1);
      expect((JSON.parse(res.stdout) as unknown[]).length).toBe(1);
      expect(res.modules.some((m) => m.endsWith('src/security/audit/audit.ts'))).toBe(true);
    });
  },
);
