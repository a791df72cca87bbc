import type { ConveyorError, Forge, Gate, GateContext, GateOutcome, Result, Task } from '@conveyor/core';
import { err, ok } from '@conveyor/core';
import { branchMovedSummary } from '../git/moved.js';
import { git } from '../git/run.js';

/** What is known about the artifact that would be deployed. */
export interface ArtifactInfo {
  /** the commit the artifact (e.g. an image) was built from */
  readonly builtFromSha?: string;
  /** a build is known to be running */
  readonly building?: boolean;
}

/** Reads the task branch's current head sha; `undefined` when the branch is gone. */
export type BranchHeadReader = (task: Task, signal: AbortSignal) => Promise<Result<string | undefined, ConveyorError>>;

/** Options of {@link createFreshnessGate}. */
export interface FreshnessGateOptions {
  /** what the deployable artifact was built from, and whether a build is running */
  readonly readArtifact: (task: Task) => Promise<Result<ArtifactInfo, ConveyorError>>;
  /** the branch's current head (after the merge gate's rebase): {@link gitBranchHead} or {@link forgeBranchHead} */
  readonly readHead: BranchHeadReader;
  /** how long to wait while a build runs (default 60 s) */
  readonly deferMs?: number;
}

/**
 * The image-freshness gate (id `freshness`): the artifact that would be
 * deployed must have been built from the task branch's CURRENT head — after
 * the rebase, the old image tested an old tree.
 *
 * - built from the head → `pass` (a short sha of at least 7 characters matches by prefix);
 * - not, and a build is running → `defer`;
 * - not (or unknown) → `fail` "rebuild needed";
 * - the artifact or the head cannot be read, or the branch is gone → `error`;
 * - with `ctx.decision`, a branch no longer at the decided head → `defer` (a new decision judges it).
 *
 * @example
 * ```ts
 * const gate = createFreshnessGate({
 *   readArtifact: async (task) => ok({ builtFromSha: await registry.labelOf(`app:${task.branch}`) }),
 *   readHead: forgeBranchHead(forge, 'main'),
 * });
 * ```
 */
export function createFreshnessGate(options: FreshnessGateOptions): Gate {
  const config = Object.freeze({ ...options });
  return Object.freeze({
    id: 'freshness',
    run: async (ctx: GateContext): Promise<GateOutcome> => {
      try {
        return await decide(config, ctx);
      } catch (thrown) {
        return {
          status: 'error',
          summary: `freshness gate crashed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        };
      }
    },
  } satisfies Gate);
}

async function decide(config: FreshnessGateOptions, ctx: GateContext): Promise<GateOutcome> {
  const { task } = ctx;
  const head = await config.readHead(task, ctx.signal);
  if (!head.ok) return { status: 'error', summary: `cannot read the head of ${task.branch}: ${head.error.message}` };
  if (head.value === undefined)
    return { status: 'error', summary: `cannot read the head of ${task.branch}: no such branch` };
  // A decision judges exactly its head: a branch that moved since is a new decision's business.
  if (ctx.decision !== undefined && head.value.toLowerCase() !== ctx.decision.headSha.toLowerCase()) {
    return {
      status: 'defer',
      summary: branchMovedSummary(task.branch, ctx.decision.headSha, head.value),
      deferMs: 1_000,
    };
  }
  const artifact = await config.readArtifact(task);
  if (!artifact.ok)
    return { status: 'error', summary: `cannot read the artifact of ${task.branch}: ${artifact.error.message}` };
  const built = artifact.value.builtFromSha?.trim().toLowerCase();
  const current = head.value.toLowerCase();
  if (built !== undefined && built.length >= 7 && current.startsWith(built)) {
    return {
      status: 'pass',
      summary: `artifact built from the current head ${current.slice(0, 12)} of ${task.branch}`,
    };
  }
  const from = built === undefined || built === '' ? 'an unknown commit' : built.slice(0, 12);
  if (artifact.value.building === true) {
    return {
      status: 'defer',
      summary: `a build is running; the artifact is from ${from}, the head is ${current.slice(0, 12)}`,
      deferMs: config.deferMs ?? 60_000,
    };
  }
  return {
    status: 'fail',
    summary: `rebuild needed: the artifact is from ${from}, ${task.branch} is at ${current.slice(0, 12)}`,
    findings: [
      {
        rule: 'freshness/stale-artifact',
        commit: current,
        message: `rebuild needed: the artifact was built from ${from}, not the current head ${current}`,
        severity: 'error',
      },
    ],
  };
}

/**
 * Reads the head from git (`git ls-remote <url> refs/heads/<branch>`): the
 * truth after the merge gate pushed the rebased branch.
 *
 * @example
 * ```ts
 * const readHead = gitBranchHead((repo) => `https://git.example.com/${repo}.git`);
 * ```
 */
export function gitBranchHead(
  remoteUrl: (repo: string) => string,
  options: { readonly env?: Readonly<Record<string, string>>; readonly cwd?: string; readonly timeoutMs?: number } = {},
): BranchHeadReader {
  return async (task, signal) => {
    const out = await git(['ls-remote', '--heads', remoteUrl(task.repo), `refs/heads/${task.branch}`], {
      cwd: options.cwd ?? process.cwd(),
      signal,
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    if (!out.ok) return err(out.error);
    const line = out.value.stdout.split('\n').find((l) => l.endsWith(`\trefs/heads/${task.branch}`));
    return ok(line?.split('\t')[0]);
  };
}

/**
 * Reads the head from the forge: the task's pull request head (`headSha`).
 *
 * @example
 * ```ts
 * const readHead = forgeBranchHead(forge, 'main');
 * ```
 */
export function forgeBranchHead(forge: Pick<Forge, 'findPullRequest'>, baseBranch = 'main'): BranchHeadReader {
  return async (task) => {
    const pr = await forge.findPullRequest(task.repo, baseBranch, task.branch);
    if (!pr.ok) return err(pr.error);
    return ok(pr.value?.headSha === '' ? undefined : pr.value?.headSha);
  };
}
