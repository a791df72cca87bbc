import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConveyorError,
  err,
  type Gate,
  type GateContext,
  type GateOutcome,
  ok,
  type Result,
  type Task,
} from '@conveyor/core';
import { GATES_PKG, git } from './run.js';

/** Options of {@link syncTaskCheckout} and {@link withTaskCheckout}. */
export interface TaskCheckoutOptions {
  /** where the per-task checkouts live (`<root>/<taskId>`) */
  readonly root: string;
  /** the URL (or local path) to clone `repo` (`owner/name`) from */
  readonly remoteUrl: (repo: string) => string;
  /** the remote's name in the checkout; default `origin` */
  readonly remote?: string;
  /** added to git's environment (credentials helpers, identity…) */
  readonly gitEnv?: Readonly<Record<string, string>>;
  /** per git command; default 120 s */
  readonly timeoutMs?: number;
}

/**
 * Brings the gates' own checkout of a task up to date: clones on first use,
 * fetches every branch of the remote (pruning deleted ones) and detaches HEAD
 * at the remote's task branch. Resolves to the checkout's path. The agents'
 * working copies are never touched: gates look at what was pushed.
 *
 * @example
 * ```ts
 * const dir = await syncTaskCheckout(task, { root: '/srv/conveyor/checkouts', remoteUrl: (repo) => `https://git.example/${repo}.git` });
 * ```
 */
export async function syncTaskCheckout(
  task: Pick<Task, 'id' | 'repo' | 'branch'>,
  options: TaskCheckoutOptions,
  signal?: AbortSignal,
): Promise<Result<string, ConveyorError>> {
  const dir = join(options.root, task.id);
  const remote = options.remote ?? 'origin';
  const run = (args: readonly string[]) =>
    git(args, {
      cwd: dir,
      ...(options.gitEnv ? { env: options.gitEnv } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(signal ? { signal } : {}),
    });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (thrown) {
    return err(new ConveyorError(GATES_PKG, 'git_failed', `cannot create the checkout ${dir}`, { cause: thrown }));
  }
  if (!existsSync(join(dir, '.git'))) {
    const init = await run(['init', '--quiet']);
    if (!init.ok) return err(init.error);
    const added = await run(['remote', 'add', remote, options.remoteUrl(task.repo)]);
    if (!added.ok) return err(added.error);
  }
  const fetched = await run(['fetch', '--quiet', '--prune', remote, `+refs/heads/*:refs/remotes/${remote}/*`]);
  if (!fetched.ok) return err(fetched.error);
  const checkedOut = await run(['checkout', '--quiet', '--force', '--detach', `refs/remotes/${remote}/${task.branch}`]);
  if (!checkedOut.ok) {
    return err(
      new ConveyorError(
        GATES_PKG,
        'git_failed',
        `the task branch ${task.branch} is not on ${remote}: ${checkedOut.error.message}`,
        {
          cause: checkedOut.error,
          details: { branch: task.branch, repo: task.repo },
        },
      ),
    );
  }
  return ok(dir);
}

/**
 * Wraps a gate so it runs on a fresh checkout of the task branch (see
 * {@link syncTaskCheckout}), passed as `ctx.workdir`. A checkout that cannot
 * be brought up to date is an `error` (fail-closed): the gate never decides
 * on stale code. The wrapped gate keeps its id and timeout.
 *
 * @example
 * ```ts
 * registry.register('deploy-staging->deploy', withTaskCheckout(createSecurityGate(), { root, remoteUrl }), { order: 10 });
 * ```
 */
export function withTaskCheckout(gate: Gate, options: TaskCheckoutOptions): Gate {
  const config = Object.freeze({ ...options });
  return Object.freeze({
    id: gate.id,
    ...(gate.timeoutMs === undefined ? {} : { timeoutMs: gate.timeoutMs }),
    async run(ctx: GateContext): Promise<GateOutcome> {
      const dir = await syncTaskCheckout(ctx.task, config, ctx.signal);
      if (!dir.ok)
        return {
          status: 'error',
          summary: `${gate.id}: no fresh checkout of ${ctx.task.branch}: ${dir.error.message}`,
        };
      return gate.run({ ...ctx, workdir: dir.value });
    },
  });
}
