import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/** A commit status state (Gitea's `CommitStatusState`). */
export type CommitState = 'pending' | 'success' | 'error' | 'failure' | 'warning';

/** One commit status. */
export interface CommitStatus {
  readonly state: CommitState;
  /** the check's name, e.g. `ci/test` */
  readonly context: string;
  readonly description?: string;
  readonly targetUrl?: string;
}

/** All statuses of a commit and their combination. */
export interface CombinedStatus {
  readonly sha: string;
  readonly state: CommitState;
  readonly statuses: readonly CommitStatus[];
}

/** A pull request, normalised. */
export interface PullRequest {
  readonly number: number;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly base: string;
  readonly head: string;
  readonly headSha: string;
  readonly title: string;
  readonly url?: string;
  /** `undefined` when the forge has not computed it yet */
  readonly mergeable?: boolean;
  readonly mergeSha?: string;
}

/** Input of `Forge.createPullRequest`. */
export interface NewPullRequest {
  readonly base: string;
  readonly head: string;
  readonly title: string;
  readonly body?: string;
}

/** Input of `Forge.mergePullRequest`. */
export interface MergeRequest {
  /** the forge refuses to merge anything but this head (`head_out_of_date`) */
  readonly headSha: string;
  readonly method?: 'merge' | 'rebase' | 'rebase-merge' | 'squash' | 'fast-forward-only';
  readonly title?: string;
  readonly message?: string;
  readonly deleteBranchAfterMerge?: boolean;
}

/** A successful merge. */
export interface MergeOutcome {
  /** true when the PR was merged before this call (nothing was done) */
  readonly alreadyMerged: boolean;
  readonly mergeSha?: string;
}

/** The result of comparing two refs. */
export interface Comparison {
  /** commits in head not in base */
  readonly aheadBy: number;
  /** commits in base not in head */
  readonly behindBy: number;
  /** the shas of the commits in head not in base, oldest first */
  readonly commits: readonly string[];
}

/**
 * A forge (Gitea, …): branches, pull requests, statuses.
 *
 * `mergePullRequest` fails with code `head_out_of_date` when the head moved,
 * and `not_mergeable` when the forge refuses; the merge gate acts on both.
 *
 * @example
 * ```ts
 * const pr = await forge.findPullRequest('acme/web', 'main', 'task/PLN-1');
 * if (pr.ok && pr.value) await forge.mergePullRequest('acme/web', pr.value.number, { headSha: pr.value.headSha });
 * ```
 */
export interface Forge {
  setCommitStatus(repo: string, sha: string, status: CommitStatus): AsyncResult<void, ConveyorError>;
  getCombinedStatus(repo: string, sha: string): AsyncResult<CombinedStatus, ConveyorError>;
  /** The open or closed PR from `head` into `base`; `undefined` when none. */
  findPullRequest(repo: string, base: string, head: string): AsyncResult<PullRequest | undefined, ConveyorError>;
  createPullRequest(repo: string, input: NewPullRequest): AsyncResult<PullRequest, ConveyorError>;
  mergePullRequest(repo: string, number: number, input: MergeRequest): AsyncResult<MergeOutcome, ConveyorError>;
  isMerged(repo: string, number: number): AsyncResult<boolean, ConveyorError>;
  compare(repo: string, base: string, head: string): AsyncResult<Comparison, ConveyorError>;
  /** The branch whose head is `sha`; `undefined` when none (or the forge cannot tell). */
  resolveShaToBranch(repo: string, sha: string): AsyncResult<string | undefined, ConveyorError>;
}

/** Branches no task ever pushes to or merges from, whatever the base branch is. */
export const ALWAYS_PROTECTED_BRANCHES: readonly string[] = Object.freeze(['main', 'master']);

/**
 * Whether a branch is protected: the base branch, `main`/`master`
 * ({@link ALWAYS_PROTECTED_BRANCHES}) or one of `extra`; a `refs/heads/`
 * prefix is ignored on every side.
 *
 * @example
 * ```ts
 * if (isProtectedBranch(task.branch, 'develop')) return fail('a task branch may not be a protected branch');
 * ```
 */
export function isProtectedBranch(branch: string, base: string, extra: readonly string[] = []): boolean {
  const name = (b: string) => b.replace(/^refs\/heads\//, '');
  const wanted = name(branch);
  return [base, ...ALWAYS_PROTECTED_BRANCHES, ...extra].some((b) => name(b) === wanted);
}
