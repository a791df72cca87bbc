import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** An environment that never reads the machine's git config and names the author explicitly. */
export const GIT_TEST_ENV: Readonly<Record<string, string>> = Object.freeze({
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
});

const BASE_ARGS = [
  '-c',
  'init.defaultBranch=main',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'user.name=Test',
  '-c',
  'user.email=t@example.test',
];

/** Runs git synchronously for fixture setup; throws on failure (tests only). */
export function gitSync(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...BASE_ARGS, ...args], {
    cwd,
    env: { ...process.env, ...GIT_TEST_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** A temp directory with a bare `origin.git` (branch `main`) and a scratch clone `work`. */
export interface GitFixture {
  readonly root: string;
  readonly origin: string;
  readonly work: string;
  /** commits `files` on `branch` (created from `from`, default main) and pushes it; returns the sha */
  commit(branch: string, files: Readonly<Record<string, string>>, message?: string, from?: string): string;
  /** the sha of `branch` in origin (undefined when absent) */
  head(branch: string): string | undefined;
  /** the content of `file` at `ref` in origin */
  show(ref: string, file: string): string;
  /** first-parent commits of `ref` in origin, newest first */
  firstParents(ref: string): string[];
  /** the tree sha of `rev` in origin */
  tree(rev: string): string;
  cleanup(): void;
}

/**
 * Creates the fixture: `origin.git` with one commit on main holding `initial`.
 */
export function createGitFixture(initial: Readonly<Record<string, string>>, prefix = 'conveyor-git-'): GitFixture {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  gitSync(root, 'init', '--bare', '--quiet', origin);
  gitSync(root, 'init', '--quiet', work);
  gitSync(work, 'remote', 'add', 'origin', origin);
  writeFiles(work, initial);
  gitSync(work, 'add', '-A');
  gitSync(work, 'commit', '--quiet', '-m', 'initial');
  gitSync(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  const fixture: GitFixture = {
    root,
    origin,
    work,
    commit(branch, files, message = `change on ${branch}`, from = 'main') {
      const exists = fixture.head(branch) !== undefined;
      gitSync(work, 'fetch', '--quiet', 'origin', '+refs/heads/*:refs/remotes/origin/*');
      gitSync(work, 'checkout', '--quiet', '--detach', exists ? `origin/${branch}` : `origin/${from}`);
      writeFiles(work, files);
      gitSync(work, 'add', '-A');
      gitSync(work, 'commit', '--quiet', '-m', message);
      gitSync(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
      return gitSync(work, 'rev-parse', 'HEAD');
    },
    head(branch) {
      try {
        return gitSync(origin, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
      } catch {
        return undefined;
      }
    },
    show(ref, file) {
      return gitSync(origin, 'show', `${ref}:${file}`);
    },
    firstParents(ref) {
      return gitSync(origin, 'rev-list', '--first-parent', ref).split('\n').filter(Boolean);
    },
    tree(rev) {
      return gitSync(origin, 'rev-parse', `${rev}^{tree}`);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Writes files (creating folders) under `dir`. */
export function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}
