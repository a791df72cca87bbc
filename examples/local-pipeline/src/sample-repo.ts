import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A fixed identity so the demo never depends on the machine's git config. */
export const DEMO_GIT_ENV: Readonly<Record<string, string>> = Object.freeze({
  GIT_AUTHOR_NAME: 'Demo Teammate',
  GIT_AUTHOR_EMAIL: 'teammate@conveyor.invalid',
  GIT_COMMITTER_NAME: 'Demo Teammate',
  GIT_COMMITTER_EMAIL: 'teammate@conveyor.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
});

/** Runs git with the demo identity; throws on failure (the demo's own set-up, not a gate). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...DEMO_GIT_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

const write = (root: string, file: string, text: string) => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
};

const RUN_TESTS = `// Runs every test/*.test.js; exits non-zero on the first failure.
import { readdirSync } from 'node:fs';
for (const file of readdirSync(new URL('./test/', import.meta.url)).filter((f) => f.endsWith('.test.js')).sort()) {
  await import(new URL('./test/' + file, import.meta.url));
}
console.log('all tests passed');
`;

/**
 * Creates the sample repository the demo works on: a bare `origin` with a
 * tiny library (`greet()`), its tests and a test runner on `main`, plus a
 * teammate's clone to move main while the task is in flight.
 */
export function createSampleRepository(root: string): { origin: string; teammate: string } {
  const origin = join(root, 'origin', 'acme', 'shop.git');
  const teammate = join(root, 'teammate');
  mkdirSync(origin, { recursive: true });
  git(origin, 'init', '--quiet', '--bare', '--initial-branch=main');
  mkdirSync(teammate, { recursive: true });
  git(teammate, 'init', '--quiet', '--initial-branch=main');
  write(teammate, 'package.json', `${JSON.stringify({ name: 'shop', private: true, type: 'module' }, null, 2)}\n`);
  write(teammate, 'src/greet.js', "export function greet(name) {\n  return 'Hello, ' + name + '!';\n}\n");
  write(
    teammate,
    'test/greet.test.js',
    "import assert from 'node:assert/strict';\nimport { greet } from '../src/greet.js';\n\nassert.equal(greet('Ada'), 'Hello, Ada!');\n",
  );
  write(teammate, 'run-tests.mjs', RUN_TESTS);
  write(teammate, 'README.md', '# shop\n\nA tiny library.\n');
  git(teammate, 'add', '-A');
  git(teammate, 'commit', '--quiet', '-m', 'Initial commit');
  git(teammate, 'remote', 'add', 'origin', origin);
  git(teammate, 'push', '--quiet', 'origin', 'main');
  return { origin, teammate };
}

/** A teammate lands an unrelated change on main (so the merge gate must rebase). */
export function moveMain(teammate: string): string {
  git(teammate, 'pull', '--quiet', '--rebase', 'origin', 'main');
  write(teammate, 'README.md', '# shop\n\nA tiny library.\n\n- `greet(name)` says hello.\n');
  write(
    teammate,
    'test/readme.test.js',
    "import assert from 'node:assert/strict';\nimport { readFileSync } from 'node:fs';\n\nassert.match(readFileSync(new URL('../README.md', import.meta.url), 'utf8'), /greet/);\n",
  );
  git(teammate, 'add', '-A');
  git(teammate, 'commit', '--quiet', '-m', 'Document greet() and test the README');
  git(teammate, 'push', '--quiet', 'origin', 'main');
  return git(teammate, 'rev-parse', '--short', 'HEAD');
}
