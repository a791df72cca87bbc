import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GateContext, LogFields, Logger, Task } from '@conveyor/core';

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
  const fixture: GitFixture = {
    root,
    origin,
    work,
    commit(branch, files, message = `change on ${branch}`, from = 'main') {
      // Plumbing straight into origin: no clone, fetch or push (fast on a loaded machine).
      const parent = fixture.head(branch) ?? fixture.head(from);
      const index = join(root, `index-${process.pid}`);
      const opts = {
        cwd: origin,
        env: { ...process.env, ...GIT_TEST_ENV, GIT_INDEX_FILE: index },
        encoding: 'utf8' as const,
      };
      if (parent === undefined) rmSync(index, { force: true });
      else execFileSync('git', ['read-tree', parent], opts);
      const entries = Object.entries(files).map(([name, content]) => {
        const oid = execFileSync('git', ['hash-object', '-w', '--stdin'], { ...opts, input: content }).trim();
        return `100644 ${oid}\t${name}`;
      });
      execFileSync('git', ['update-index', '--index-info'], { ...opts, input: `${entries.join('\n')}\n` });
      const tree = execFileSync('git', ['write-tree'], opts).trim();
      const parents = parent === undefined ? [] : ['-p', parent];
      const sha = execFileSync('git', ['commit-tree', tree, ...parents, '-m', message], opts).trim();
      execFileSync('git', ['update-ref', `refs/heads/${branch}`, sha], opts);
      rmSync(index, { force: true });
      return sha;
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
  fixture.commit('main', initial, 'initial');
  return fixture;
}

/** A logger that keeps lines in memory (tests read them when they need to). */
export function memoryLogger(lines: string[] = []): Logger {
  const make = (bindings: LogFields): Logger => {
    const write = (level: string) => (message: string, fields?: LogFields) => {
      lines.push(`${level} ${message} ${JSON.stringify({ ...bindings, ...(fields ?? {}) })}`);
    };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}

/** A task on `repo`/`branch` in the `deploy-staging` stage. */
export function makeTask(id: string, branch: string, overrides: Partial<Task> = {}, repo = 'acme/app'): Task {
  return {
    id,
    project: 'acme',
    issueId: id,
    repo,
    branch,
    title: `Task ${id}`,
    description: '',
    snapshot: { stage: 'deploy-staging', status: 'gating', step: 3, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

/** A gate context for `task` on the `deploy-staging->deploy` edge. */
export function makeContext(task: Task, extra: Partial<GateContext> = {}): GateContext {
  return {
    task,
    edge: 'deploy-staging->deploy',
    signal: new AbortController().signal,
    logger: memoryLogger(),
    now: () => Date.now(),
    readOnly: false,
    ...extra,
  };
}
