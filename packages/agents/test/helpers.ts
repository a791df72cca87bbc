import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_STAGES, initialSnapshot, type Job, type NewJob, type Task } from '@conveyor/core';
import { createMemoryStore, type MemoryStore } from '@conveyor/testkit';

/** The monorepo root (its node_modules/.bin holds the real claude and codex). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** PATH with the CLIs installed as devDependencies first. */
export const AGENT_PATH = `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@conveyor.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@conveyor.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Runs git; throws on failure (test set-up only). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: GIT_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

const RUN_TESTS = `import { readdirSync } from 'node:fs';
for (const f of readdirSync(new URL('./test/', import.meta.url)).filter((f) => f.endsWith('.test.js')).sort()) {
  await import(new URL('./test/' + f, import.meta.url));
}
console.log('all tests passed');
`;

/** A temp folder with a bare `origin` whose main holds a tiny library and its tests. */
export function createFixture(name: string): { dir: string; origin: string; seed: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `conveyor-agents-${name}-`));
  const origin = join(dir, 'origin.git');
  const seed = join(dir, 'seed');
  mkdirSync(origin);
  git(origin, 'init', '--quiet', '--bare', '--initial-branch=main');
  mkdirSync(seed);
  git(seed, 'init', '--quiet', '--initial-branch=main');
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify({ name: 'shop', private: true, type: 'module' })}\n`,
    'src/greet.js': "export function greet(name) {\n  return 'Hello, ' + name + '!';\n}\n",
    'test/greet.test.js':
      "import assert from 'node:assert/strict';\nimport { greet } from '../src/greet.js';\nassert.equal(greet('Ada'), 'Hello, Ada!');\n",
    'run-tests.mjs': RUN_TESTS,
    'README.md': '# shop\n',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(seed, file)), { recursive: true });
    writeFileSync(join(seed, file), text);
  }
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'Initial commit');
  git(seed, 'remote', 'add', 'origin', origin);
  git(seed, 'push', '--quiet', 'origin', 'main');
  return { dir, origin, seed, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Adds a file to origin's main through the seed clone. */
export function commitToMain(seed: string, file: string, text: string, message = `add ${file}`): string {
  mkdirSync(dirname(join(seed, file)), { recursive: true });
  writeFileSync(join(seed, file), text);
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', message);
  git(seed, 'push', '--quiet', 'origin', 'main');
  return git(seed, 'rev-parse', 'HEAD');
}

/** A memory store holding one task and one queued job of `stage`. */
export async function storeWithJob(
  stage: string,
  agent: string,
  input: NewJob['input'] = { description: 'Add farewell(name) next to greet(name), with a test.' },
  taskFields: Partial<Pick<Task, 'issueId' | 'title' | 'branch'>> = {},
): Promise<{ store: MemoryStore; task: Task; job: Job }> {
  const store = createMemoryStore();
  const created = await store.createTaskIfAbsent({
    project: 'shop',
    issueId: taskFields.issueId ?? 'SHOP-1',
    repo: 'acme/shop',
    branch: taskFields.branch ?? 'task/SHOP-1',
    title: taskFields.title ?? 'Add farewell(name)',
    description: input.description,
    snapshot: { ...initialSnapshot(DEFAULT_STAGES), stage },
    now: Date.now(),
  });
  if (!created.ok) throw created.error;
  const enq = await store.enqueueJob({
    taskId: created.value.task.id,
    stage,
    agent,
    kind: 'agent',
    stepKey: `${created.value.task.id}:1`,
    attempt: 1,
    input,
    availableAt: 0,
    now: Date.now(),
  });
  if (!enq.ok) throw enq.error;
  return { store, task: created.value.task, job: enq.value.job };
}

/** The transcript's records. */
export function readTranscript(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
