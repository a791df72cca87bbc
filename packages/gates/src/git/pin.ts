import { tmpdir } from 'node:os';
import { ConveyorError, err, ok, type Result, type Task } from '@conveyor/core';
import { lsRemote, remoteDefaultBranch } from './refs.js';
import { GATES_PKG, type GitCommonOptions } from './run.js';

/** The commits a decision is bound to, as a pin resolver reads them from the remote. */
export interface ResolvedGitPin {
  /** the task branch's head */
  readonly headSha: string;
  /** the default branch's head */
  readonly baseSha: string;
  /** the default branch's name */
  readonly baseBranch: string;
}

/**
 * Resolves the commits a new decision is bound to. Structurally the shape of
 * the pipeline's `resolvePin(task, signal)` option: an error result (a
 * missing branch, an unreachable remote) means no decision starts.
 */
export type GitPinResolver = (
  task: Pick<Task, 'id' | 'repo' | 'branch'>,
  signal?: AbortSignal,
) => Promise<Result<ResolvedGitPin, ConveyorError>>;

/** Options of {@link createGitPinResolver}. */
export interface GitPinResolverOptions {
  /** the URL (or local path) of `repo` (`owner/name`), as the gates fetch it */
  readonly remoteUrl: (repo: string) => string;
  /**
   * the default branch (a name, or one per repository); when omitted the
   * remote's `HEAD` says, and `main` when it does not
   */
  readonly baseBranch?: string | ((repo: string) => string);
  /** added to git's environment (credentials helpers…) */
  readonly gitEnv?: Readonly<Record<string, string>>;
  /** per git command; default 30 s */
  readonly timeoutMs?: number;
}

/**
 * A pin resolver over git: one `git ls-remote` of the task branch and the
 * default branch (nothing is fetched). A task branch or default branch the
 * remote lacks is a `not_found` error naming it; a task branch that is the
 * default branch is `invalid_input`.
 *
 * @example
 * ```ts
 * const resolvePin = createGitPinResolver({ remoteUrl: (repo) => `https://git.example.com/${repo}.git` });
 * const pin = await resolvePin(task);
 * if (pin.ok) console.log(pin.value.headSha, 'on', pin.value.baseBranch, pin.value.baseSha);
 * ```
 */
export function createGitPinResolver(options: GitPinResolverOptions): GitPinResolver {
  const config = Object.freeze({ ...options });
  return async (task, signal) => {
    const common: GitCommonOptions = {
      timeoutMs: config.timeoutMs ?? 30_000,
      ...(config.gitEnv === undefined ? {} : { env: config.gitEnv }),
      ...(signal === undefined ? {} : { signal }),
    };
    const remote = config.remoteUrl(task.repo);
    const cwd = tmpdir();
    const branch = task.branch.replace(/^refs\/heads\//, '');
    let baseBranch: string;
    if (typeof config.baseBranch === 'string') baseBranch = config.baseBranch;
    else if (config.baseBranch !== undefined) baseBranch = config.baseBranch(task.repo);
    else {
      const found = await remoteDefaultBranch({ cwd, remote, ...common });
      if (!found.ok) return err(pinError(task, 'cannot read the default branch', found.error));
      baseBranch = found.value ?? 'main';
    }
    if (branch === baseBranch) {
      return err(
        new ConveyorError(
          GATES_PKG,
          'invalid_input',
          `task ${task.id}: its branch ${branch} is the default branch of ${task.repo}; there is nothing to decide`,
          { details: { taskId: task.id, repo: task.repo, branch } },
        ),
      );
    }
    const heads = await lsRemote({ cwd, remote, branches: [branch, baseBranch], ...common });
    if (!heads.ok) return err(pinError(task, 'cannot list the branches', heads.error));
    const headSha = heads.value.get(branch);
    const baseSha = heads.value.get(baseBranch);
    for (const [name, sha, what] of [
      [branch, headSha, 'task branch'],
      [baseBranch, baseSha, 'default branch'],
    ] as const) {
      if (sha === undefined) {
        return err(
          new ConveyorError(GATES_PKG, 'not_found', `task ${task.id}: the ${what} ${name} is not on ${task.repo}`, {
            details: { taskId: task.id, repo: task.repo, branch: name },
          }),
        );
      }
    }
    return ok({ headSha: headSha ?? '', baseSha: baseSha ?? '', baseBranch });
  };
}

function pinError(task: Pick<Task, 'id' | 'repo'>, what: string, cause: ConveyorError): ConveyorError {
  return new ConveyorError(GATES_PKG, cause.code, `task ${task.id}: ${what} of ${task.repo}: ${cause.message}`, {
    cause,
    details: { taskId: task.id, repo: task.repo },
  });
}
