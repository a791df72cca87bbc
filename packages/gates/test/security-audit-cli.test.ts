import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES_MISSING_MESSAGE, sharedFixturesDir } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { BUN_LOCK, SHRINKWRAP, YARN_BERRY, YARN_V1 } from './fixtures/audit/lockfile-texts.js';
import { TempRepo } from './fixtures/security/git-repo.js';

// Hostile dependency changes on a task branch, judged by the real `conveyor-scan`
// in a child process. `--advisory-dir` makes the advisory source the real OSV
// records of the shared fixtures (offline, so the outcome does not depend on
// whether this machine reaches api.osv.dev); a missing directory plays the
// unreachable feed.

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CANARY = 'xoxb-CANARY-canary-CANARY-0123456789';

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, CONVEYOR_TEST_CANARY: CANARY } },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

function branch(before: Record<string, string>, after: Record<string, string>): TempRepo {
  const r = new TempRepo('conveyor-audit-cli-');
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'README.md': '# app\n', ...before });
  r.git('checkout', '-q', '-b', 'task');
  r.commit('deps', after);
  return r;
}

const fixtures = sharedFixturesDir();
if (!fixtures) console.warn(FIXTURES_MISSING_MESSAGE);
// each case starts one or two child processes that load TypeScript through tsx: slow on a busy machine
describe.skipIf(!fixtures)(
  'conveyor-scan on hostile dependency changes (a real child process)',
  { timeout: 120_000 },
  () => {
    const osvDir = join(fixtures ?? '', 'osv');
    const scan = (r: TempRepo, ...extra: string[]) =>
      runCli(['--repo', r.dir, '--range', 'main..task', '--format', 'json', '--advisory-dir', osvDir, ...extra]);

    it.each([
      ['yarn.lock (v1)', 'yarn.lock', YARN_V1],
      ['yarn.lock (Berry)', 'yarn.lock', YARN_BERRY],
      ['npm-shrinkwrap.json', 'npm-shrinkwrap.json', SHRINKWRAP],
      ['bun.lock', 'bun.lock', BUN_LOCK],
    ] as const)('a lodash downgrade in %s fails (exit 1)', async (_label, file, text) => {
      const res = await scan(branch({ [file]: text('4.17.21') }, { [file]: text('4.17.15') }));
      expect(res.stderr).toContain('1 vulnerable dependency');
      expect(res.code).toBe(1);
    });

    it('an unreachable feed: exit 0 with a warning naming the file; --strict exits 1', async () => {
      const r = branch({ 'yarn.lock': YARN_V1('4.17.21') }, { 'yarn.lock': YARN_V1('4.17.15') });
      const args = ['--repo', r.dir, '--range', 'main..task', '--advisory-dir', join(osvDir, 'absent')];
      const open = await runCli(args);
      expect(open.code).toBe(0);
      expect(open.stderr).toMatch(/warning: ADVISORY FEED UNREACHABLE.*yarn\.lock \(lodash@4\.17\.15/);
      const strict = await runCli([...args, '--strict']);
      expect(strict.code).toBe(1);
    });

    it('a changed Cargo.lock: exit 0 with a warning; --strict exits 1', async () => {
      const r = branch({ 'Cargo.lock': 'version = 3\n' }, { 'Cargo.lock': 'version = 3\n\n[[package]]\nname = "x"\n' });
      expect((await scan(r)).stderr).toContain('Cargo.lock changed, but the audit reads no crates.io');
      expect((await scan(r, '--strict')).code).toBe(1);
    });

    it('a lockfile that does not parse: exit 2, its content quoted nowhere', async () => {
      const r = branch(
        { 'pnpm-lock.yaml': "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.21: {}\n" },
        { 'pnpm-lock.yaml': `lockfileVersion: '9.0'\npackages:\n  lodash@4.17.15: {resolution: [${CANARY}\n` },
      );
      const res = await scan(r);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('lockfile pnpm-lock.yaml: not valid YAML');
      expect(`${res.stdout}${res.stderr}`).not.toContain(CANARY);
    });
  },
);
