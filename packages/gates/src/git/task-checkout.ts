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
import { branchMovedSummary } from './moved.js';
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
  /** with a decision whose branch moved: how long the `defer` asks to wait (default 1 s) */
  readonly movedDeferMs?: number;
}

/** The commits a checkout is pinned to (a decision's `headSha` and `baseSha`). */
export interface CheckoutPin {
  readonly headSha: string;
  readonly baseSha?: string;
}

/**
 * Brings the gates' own checkout of a task up to date: clones on first use,
 * fetches every branch of the remote (pruning deleted ones) and detaches HEAD
 * at the remote's task branch. Resolves to the checkout's path. The agents'
 * working copies are never touched: gates look at what was pushed.
 *
 * With a `pin` (a decision's commits) HEAD is detached at exactly
 * `pin.headSha`, and only while the remote branch still points there: a
 * branch that moved (or vanished) since the decision started is an error
 * with code `head_out_of_date` and `details.expected` / `details.actual`
 * (the new head, `undefined` when gone), so the decision ends as `defer` and
 * a new one judges the new head. A `pin.baseSha` the checkout does not have
 * is `not_found`.
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
  pin?: CheckoutPin,
): Promise<Result<string, ConveyorError>> {
  const dir = join(options.root, task.id);
  const remote = options.remote ?? 'origin';
  const run = (args: readonly string[], acceptExitCodes?: readonly number[]) =>
    git(args, {
      cwd: dir,
      ...(acceptExitCodes === undefined ? {} : { acceptExitCodes }),
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
  const branchRef = `refs/remotes/${remote}/${task.branch.replace(/^refs\/heads\//, '')}`;
  if (pin !== undefined) {
    const current = await run(['rev-parse', '--verify', '--quiet', `${branchRef}^{commit}`], [0, 1]);
    if (!current.ok) return err(current.error);
    const actual = current.value.exitCode === 0 ? current.value.stdout.trim() : undefined;
    if (actual !== pin.headSha) {
      return err(
        new ConveyorError(GATES_PKG, 'head_out_of_date', branchMovedSummary(task.branch, pin.headSha, actual), {
          details: { branch: task.branch, repo: task.repo, expected: pin.headSha, actual },
        }),
      );
    }
    if (pin.baseSha !== undefined) {
      const base = await run(['cat-file', '-e', `${pin.baseSha}^{commit}`], [0, 1, 128]);
      if (!base.ok) return err(base.error);
      if (base.value.exitCode !== 0) {
        return err(
          new ConveyorError(GATES_PKG, 'not_found', `the decided base ${pin.baseSha} is not on ${remote}`, {
            details: { repo: task.repo, baseSha: pin.baseSha },
          }),
        );
      }
    }
  }
  const checkedOut = await run(['checkout', '--quiet', '--force', '--detach', pin?.headSha ?? branchRef]);
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
 * With `ctx.decision` the checkout is detached at exactly its `headSha`; a
 * branch that moved since the decision started answers `defer` ("branch
 * moved from X to Y; a new decision starts on the new head") without running
 * the gate: nothing is judged but the decided commit.
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
      const pin =
        ctx.decision === undefined ? undefined : { headSha: ctx.decision.headSha, baseSha: ctx.decision.baseSha };
      const dir = await syncTaskCheckout(ctx.task, config, ctx.signal, pin);
      if (!dir.ok && dir.error.code === 'head_out_of_date') {
        return { status: 'defer', summary: `${gate.id}: ${dir.error.message}`, deferMs: config.movedDeferMs ?? 1_000 };
      }
      if (!dir.ok)
        return {
          status: 'error',
          summary: `${gate.id}: no fresh checkout of ${ctx.task.branch}: ${dir.error.message}`,
        };
      return gate.run({ ...ctx, workdir: dir.value });
    },
  });
}
