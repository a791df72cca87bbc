import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AsyncResult, type ConveyorError, err, ok, type Task } from '@conveyor/core';
import { execa } from 'execa';
import { agentsError } from './errors.js';

/** A task's checkout, as {@link Workspaces.prepare} left it. */
export interface Workspace {
  readonly taskId: string;
  /** `<root>/<taskId>` */
  readonly dir: string;
  readonly branch: string;
  /** the sha of the base branch (main) as fetched for this job */
  readonly baseSha: string;
  /** HEAD when the job started (compare after the run to see whether it changed anything) */
  readonly startSha: string;
  /** true when this call created the workspace */
  readonly created: boolean;
}

/** What {@link Workspaces.commitAndPush} did. */
export interface PushOutcome {
  /** the runner made a commit for changes the agent left uncommitted */
  readonly committed: boolean;
  /** the tree differs from the job's start */
  readonly changed: boolean;
  /** the pushed head */
  readonly head: string;
  readonly pushed: boolean;
}

/** Push credentials, handed to git through `GIT_ASKPASS` and environment only. */
export interface GitCredentials {
  readonly username: string;
  /** the token or password; never written to a file, a URL, an argument or a log */
  readonly password: string;
}

/** Options of {@link createWorkspaces}. */
export interface WorkspacesOptions {
  /** the workspace root: one folder per task */
  readonly root: string;
  /** the remote of a task's repository, without credentials (`https://git.example/acme/shop.git` or a path) */
  readonly remoteUrl: (task: Task) => string;
  /** default `main` */
  readonly baseBranch?: string;
  /** branches the runner never pushes (the base branch always included) */
  readonly protectedBranches?: readonly string[];
  readonly credentials?: GitCredentials;
  /** the runner's commit identity */
  readonly identity?: { readonly name: string; readonly email: string };
  /** the most the whole root may use, in bytes; past it, preparing or finishing a job fails */
  readonly diskBudgetBytes?: number;
  /** squash the task's commits into one on top of its merge base before each push (default true) */
  readonly squash?: boolean;
  /** per git command (default 120 s) */
  readonly gitTimeoutMs?: number;
  /** extra environment for git (e.g. `GIT_SSH_COMMAND`) */
  readonly gitEnv?: Readonly<Record<string, string>>;
}

/**
 * Per-task git workspaces: a clone at `<root>/<taskId>` on the task branch,
 * created from the current base branch when the task starts and reused by
 * every job of the task.
 */
export interface Workspaces {
  readonly root: string;
  /** The task's workspace, fetched and checked out on its branch (created from the base branch the first time). */
  prepare(task: Task): AsyncResult<Workspace, ConveyorError>;
  /** A file of the base commit (not the task branch): `undefined` when absent. */
  readBaseFile(workspace: Workspace, file: string): AsyncResult<string | undefined, ConveyorError>;
  /** Commits what the agent left (a message naming the task), squashes, and pushes the branch with a lease. */
  commitAndPush(task: Task, workspace: Workspace, message: string): AsyncResult<PushOutcome, ConveyorError>;
  /** Throws away what a job left uncommitted (after a stage whose changes are not kept, e.g. analysis). */
  discardChanges(task: Task, workspace: Workspace): AsyncResult<void, ConveyorError>;
  /** Removes the task's workspace; with `deleteRemoteBranch` also deletes the branch on the remote. */
  remove(task: Task, options?: { readonly deleteRemoteBranch?: boolean }): AsyncResult<void, ConveyorError>;
  /** Bytes used under the root. */
  diskUsage(): number;
  /** An error when the root uses more than its budget. */
  checkDiskBudget(): AsyncResult<void, ConveyorError>;
}

const ASKPASS = `#!/bin/sh
# Conveyor's askpass helper: git asks, the environment answers. No secret lives here.
case "$1" in
  Username*|username*) printf '%s\\n' "$CONVEYOR_GIT_USERNAME" ;;
  *) printf '%s\\n' "$CONVEYOR_GIT_PASSWORD" ;;
esac
`;

/**
 * The size of a folder in bytes (files only; symbolic links are not followed).
 *
 * @example
 * ```ts
 * directorySize('/var/conveyor/workspaces'); // 123456789
 * ```
 */
export function directorySize(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) {
        try {
          total += fs.lstatSync(full).size;
        } catch {
          /* vanished */
        }
      }
    }
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** A task id as a folder name: anything but letters, digits, `-`, `_` and `.` is rejected. */
function safeName(taskId: string): string | undefined {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(taskId) ? taskId : undefined;
}

function hasUrlCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(url);
}

/**
 * Creates the workspace manager. The runner's own git commands run with the
 * workspace's `.git/config` restored from the copy taken at creation and hooks
 * disabled, so an agent cannot plant a hook, a filter or an `insteadOf` that
 * runs or redirects when the runner commits and pushes with credentials.
 *
 * @example
 * ```ts
 * const workspaces = createWorkspaces({ root: '/var/conveyor/workspaces',
 *   remoteUrl: (task) => `https://git.example.com/${task.repo}.git`,
 *   credentials: { username: 'conveyor-bot', password: process.env.GITEA_TOKEN ?? '' },
 *   diskBudgetBytes: 20 * 1024 ** 3 });
 * const ws = await workspaces.prepare(task);
 * ```
 */
export function createWorkspaces(options: WorkspacesOptions): Workspaces {
  const root = path.resolve(options.root);
  const baseBranch = options.baseBranch ?? 'main';
  const protectedBranches = new Set([baseBranch, ...(options.protectedBranches ?? [])]);
  const identity = options.identity ?? { name: 'Conveyor', email: 'conveyor@localhost' };
  const squash = options.squash ?? true;
  const stateDir = path.join(root, '.conveyor');
  const askpass = path.join(stateDir, 'askpass.sh');

  const ensureState = () => {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    if (!fs.existsSync(askpass)) fs.writeFileSync(askpass, ASKPASS, { mode: 0o700 });
  };

  const gitEnv = (network: boolean): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: stateDir,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    ...(options.gitEnv ?? {}),
    ...(network && options.credentials
      ? {
          GIT_ASKPASS: askpass,
          CONVEYOR_GIT_USERNAME: options.credentials.username,
          CONVEYOR_GIT_PASSWORD: options.credentials.password,
        }
      : {}),
  });

  async function git(
    cwd: string,
    args: readonly string[],
    network = false,
    trim = true,
  ): AsyncResult<string, ConveyorError> {
    const result = await execa(
      'git',
      ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', '-c', 'credential.helper=', ...args],
      {
        cwd,
        env: gitEnv(network),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        stripFinalNewline: trim,
        timeout: options.gitTimeoutMs ?? 120_000,
      },
    );
    if (result.exitCode !== 0) {
      const secret = options.credentials?.password;
      const stderr = String(result.stderr ?? '');
      const text = (secret ? stderr.split(secret).join('[redacted]') : stderr).trim().slice(0, 500);
      return err(
        agentsError('git_failed', `git ${args[0] ?? ''} failed in ${cwd}: ${text}`, { exitCode: result.exitCode }),
      );
    }
    const out = String(result.stdout ?? '');
    return ok(trim ? out.trim() : out);
  }

  const dirOf = (task: Task) => {
    const name = safeName(task.id);
    return name === undefined ? undefined : path.join(root, name);
  };
  const pristineConfig = (taskId: string) => path.join(stateDir, `${taskId}.gitconfig`);

  /** Undo whatever the agent did to `.git/config` and `.git/hooks` before the runner's git runs. */
  const restoreConfig = (dir: string, taskId: string) => {
    try {
      fs.copyFileSync(pristineConfig(taskId), path.join(dir, '.git', 'config'));
      fs.rmSync(path.join(dir, '.git', 'hooks'), { recursive: true, force: true });
      fs.rmSync(path.join(dir, '.git', 'info', 'attributes'), { force: true });
      return ok(undefined);
    } catch (thrown) {
      return err(agentsError('internal', `cannot restore the git config of ${dir}: ${(thrown as Error).message}`));
    }
  };

  async function checkDiskBudget(): AsyncResult<void, ConveyorError> {
    if (options.diskBudgetBytes === undefined) return ok(undefined);
    const used = directorySize(root);
    if (used > options.diskBudgetBytes)
      return err(
        agentsError(
          'too_large',
          `the workspace root ${root} uses ${mb(used)}, over its disk budget of ${mb(options.diskBudgetBytes)}: remove finished workspaces or raise the budget`,
          { used, budget: options.diskBudgetBytes },
        ),
      );
    return ok(undefined);
  }

  return Object.freeze({
    root,
    async prepare(task: Task): AsyncResult<Workspace, ConveyorError> {
      const dir = dirOf(task);
      if (dir === undefined)
        return err(agentsError('invalid_input', `task id ${JSON.stringify(task.id)} is not a safe folder name`));
      if (protectedBranches.has(task.branch))
        return err(
          agentsError(
            'invalid_input',
            `task ${task.id}: its branch ${task.branch} is protected; an agent never works on it`,
          ),
        );
      const url = options.remoteUrl(task);
      if (hasUrlCredentials(url))
        return err(
          agentsError(
            'invalid_config',
            `the remote URL of ${task.repo} carries credentials; pass them as credentials instead`,
          ),
        );
      try {
        fs.mkdirSync(root, { recursive: true });
        ensureState();
      } catch (thrown) {
        return err(agentsError('internal', `cannot create the workspace root ${root}: ${(thrown as Error).message}`));
      }
      let created = false;
      if (!fs.existsSync(path.join(dir, '.git'))) {
        const budget = await checkDiskBudget();
        if (!budget.ok) return err(budget.error);
        fs.rmSync(dir, { recursive: true, force: true });
        const cloned = await git(root, ['clone', '--quiet', '--no-tags', '--origin', 'origin', url, dir], true);
        if (!cloned.ok) return err(cloned.error);
        fs.copyFileSync(path.join(dir, '.git', 'config'), pristineConfig(task.id));
        created = true;
      }
      const restored = restoreConfig(dir, task.id);
      if (!restored.ok) return err(restored.error);
      const fetched = await git(dir, ['fetch', '--quiet', '--prune', '--no-tags', 'origin'], true);
      if (!fetched.ok) return err(fetched.error);
      const base = await git(dir, ['rev-parse', `refs/remotes/origin/${baseBranch}^{commit}`]);
      if (!base.ok) return err(base.error);
      if (created) {
        const remote = await git(dir, [
          'rev-parse',
          '--verify',
          '--quiet',
          `refs/remotes/origin/${task.branch}^{commit}`,
        ]);
        const from = remote.ok && remote.value !== '' ? `origin/${task.branch}` : `origin/${baseBranch}`;
        const checkedOut = await git(dir, ['checkout', '--quiet', '-B', task.branch, from]);
        if (!checkedOut.ok) return err(checkedOut.error);
      } else {
        const current = await git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
        if (!current.ok) return err(current.error);
        if (current.value !== task.branch) {
          const switched = await git(dir, ['checkout', '--quiet', task.branch]);
          if (!switched.ok) return err(switched.error);
        }
      }
      const start = await git(dir, ['rev-parse', 'HEAD']);
      if (!start.ok) return err(start.error);
      return ok({ taskId: task.id, dir, branch: task.branch, baseSha: base.value, startSha: start.value, created });
    },

    async readBaseFile(workspace: Workspace, file: string): AsyncResult<string | undefined, ConveyorError> {
      const exists = await git(workspace.dir, ['cat-file', '-e', `${workspace.baseSha}:${file}`]);
      if (!exists.ok) return ok(undefined);
      return git(workspace.dir, ['show', `${workspace.baseSha}:${file}`], false, false);
    },

    async commitAndPush(task: Task, workspace: Workspace, message: string): AsyncResult<PushOutcome, ConveyorError> {
      if (protectedBranches.has(workspace.branch))
        return err(agentsError('invalid_input', `refusing to push the protected branch ${workspace.branch}`));
      const restored = restoreConfig(workspace.dir, task.id);
      if (!restored.ok) return err(restored.error);
      // The agent may have switched branches; the runner commits on the task branch only.
      const current = await git(workspace.dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
      if (!current.ok) return err(current.error);
      if (current.value !== workspace.branch)
        return err(
          agentsError(
            'conflict',
            `the agent left ${workspace.dir} on ${current.value}, not on the task branch ${workspace.branch}`,
          ),
        );
      const added = await git(workspace.dir, ['add', '--all']);
      if (!added.ok) return err(added.error);
      const staged = await git(workspace.dir, ['diff', '--cached', '--name-only']);
      if (!staged.ok) return err(staged.error);
      let committed = false;
      if (staged.value !== '') {
        const made = await git(workspace.dir, ['commit', '--quiet', '--no-verify', '-m', message]);
        if (!made.ok) return err(made.error);
        committed = true;
      }
      if (squash) {
        const mergeBase = await git(workspace.dir, ['merge-base', 'HEAD', workspace.baseSha]);
        if (!mergeBase.ok) return err(mergeBase.error);
        const ahead = await git(workspace.dir, ['rev-list', '--count', `${mergeBase.value}..HEAD`]);
        if (!ahead.ok) return err(ahead.error);
        if (Number(ahead.value) > 1) {
          const reset = await git(workspace.dir, ['reset', '--soft', mergeBase.value]);
          if (!reset.ok) return err(reset.error);
          const made = await git(workspace.dir, ['commit', '--quiet', '--no-verify', '--allow-empty', '-m', message]);
          if (!made.ok) return err(made.error);
        }
      }
      const head = await git(workspace.dir, ['rev-parse', 'HEAD']);
      if (!head.ok) return err(head.error);
      const diff = await git(workspace.dir, ['diff', '--name-only', workspace.startSha, head.value]);
      if (!diff.ok) return err(diff.error);
      const changed = diff.value !== '';
      // The lease is what this workspace last saw of the branch (fetched when the job started, or
      // its own last push): a push by anyone else since then makes ours fail instead of erasing theirs.
      const seen = await git(workspace.dir, [
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/remotes/origin/${workspace.branch}`,
      ]);
      const expected = seen.ok && seen.value !== '' ? seen.value : '';
      if (expected === head.value) return ok({ committed, changed, head: head.value, pushed: false });
      const lease = `--force-with-lease=refs/heads/${workspace.branch}:${expected}`;
      const pushed = await git(
        workspace.dir,
        ['push', '--quiet', '--no-verify', lease, 'origin', `HEAD:refs/heads/${workspace.branch}`],
        true,
      );
      if (!pushed.ok && /stale info|rejected|fetch first/i.test(pushed.error.message))
        return err(
          agentsError(
            'conflict',
            `the task branch ${workspace.branch} moved on the remote while the agent worked; not overwriting it`,
          ),
        );
      if (!pushed.ok) return err(pushed.error);
      return ok({ committed, changed, head: head.value, pushed: true });
    },

    async discardChanges(task: Task, workspace: Workspace): AsyncResult<void, ConveyorError> {
      const restored = restoreConfig(workspace.dir, task.id);
      if (!restored.ok) return err(restored.error);
      const reset = await git(workspace.dir, ['reset', '--quiet', '--hard', workspace.startSha]);
      if (!reset.ok) return err(reset.error);
      const cleaned = await git(workspace.dir, ['clean', '-fdq']);
      if (!cleaned.ok) return err(cleaned.error);
      return ok(undefined);
    },

    async remove(
      task: Task,
      removeOptions: { readonly deleteRemoteBranch?: boolean } = {},
    ): AsyncResult<void, ConveyorError> {
      const dir = dirOf(task);
      if (dir === undefined)
        return err(agentsError('invalid_input', `task id ${JSON.stringify(task.id)} is not a safe folder name`));
      if (removeOptions.deleteRemoteBranch && !protectedBranches.has(task.branch)) {
        ensureState();
        const cwd = fs.existsSync(path.join(dir, '.git')) ? dir : root;
        if (cwd === dir) {
          const restored = restoreConfig(dir, task.id);
          if (!restored.ok) return err(restored.error);
        }
        const remote = cwd === dir ? 'origin' : options.remoteUrl(task);
        const deleted = await git(cwd, ['push', '--quiet', remote, '--delete', `refs/heads/${task.branch}`], true);
        if (!deleted.ok && !/remote ref does not exist|unable to delete/i.test(deleted.error.message))
          return err(deleted.error);
      }
      try {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(pristineConfig(task.id), { force: true });
      } catch (thrown) {
        return err(agentsError('internal', `cannot remove the workspace ${dir}: ${(thrown as Error).message}`));
      }
      return ok(undefined);
    },

    diskUsage: () => directorySize(root),
    checkDiskBudget,
  } satisfies Workspaces);
}
