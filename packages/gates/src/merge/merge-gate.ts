import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ConveyorError,
  DecisionPin,
  Finding,
  Forge,
  Gate,
  GateContext,
  GateOutcome,
  PullRequest,
  Result,
} from '@conveyor/core';
import { err, ok } from '@conveyor/core';
import { branchMovedSummary } from '../git/moved.js';
import { pushTaskBranch } from '../git/push.js';
import { rebaseOntoMain } from '../git/rebase.js';
import { ensureLocalClone, fetch, isAncestor, isBehindMain, lsRemote, revParse } from '../git/refs.js';
import { retest } from '../git/retest.js';
import { type GitCommonOptions, git } from '../git/run.js';
import { createWorktree, removeWorktree } from '../git/worktree.js';
import { acquireMergeLease, defaultHostId, type MergeLeaseHandle, type MergeLeaseStore } from './lease.js';
import { type MergeSettings, type MergeSettingsInput, parseMergeSettings } from './settings.js';
import { hasGreenRetest, rebasesOf, recordGreenRetest, recordRebase } from './tested-marker.js';

/** Options of {@link createMergeGate}. */
export interface MergeGateOptions {
  /** where the per-repository merge lease lives (only the lease methods are used) */
  readonly store: MergeLeaseStore;
  /** finds/creates the pull request and merges it, pinned to the retested head */
  readonly forge: Forge;
  /** validated on every run; invalid settings make the gate answer `error` */
  readonly settings: MergeSettingsInput;
  /** the URL (or local path) git fetches `repo` (`owner/name`) from and pushes to */
  readonly remoteUrl: (repo: string) => string;
  /** this host's id in lease holders (default `hostname:pid`) */
  readonly hostId?: string;
  /** added to the environment of every git command (e.g. credentials helpers, `GIT_CONFIG_GLOBAL`) */
  readonly gitEnv?: Readonly<Record<string, string>>;
  /** added to the environment of the retest command */
  readonly retestEnv?: Readonly<Record<string, string>>;
}

/** How long a `defer` for a moved branch asks to wait: a new decision should start soon. */
const MOVED_DEFER_MS = 1_000;

/**
 * The merge gate (id `merge`): under the repository's merge lease it rebases
 * the decided head onto the CURRENT base branch, retests that tree, pushes it
 * to the task branch with an expected-sha lease and merges it through the
 * forge pinned to that head — so main only ever receives a tree that passed
 * the retest (invariant 3).
 *
 * The gate judges exactly `ctx.decision.headSha` (without a decision it pins
 * the branch's head when it starts):
 * - the task branch moved away from the decided head (a push during the
 *   decision) → `defer`: a new decision judges the new head; nothing is pushed
 *   over it and nothing unjudged is merged;
 * - main moved after the retest (a hotfix) → rebase and retest again on the
 *   new main, at most `mergeBaseRetries` times, then `defer`; with the default
 *   `fast-forward-only` the forge itself refuses a main that moved;
 * - already merged → `pass` only when main contains exactly the decided head
 *   (or the rebase of it this gate recorded): an older merge of the same
 *   branch does not count;
 * - rebase conflict → `fail` with the conflicting files; red retest → `fail`
 *   with the output's tail (the only two `fail`s);
 * - forge, network and git errors → `error` (the decision is retried, the
 *   developer agent is not re-run); the merge lease busy → `defer`, always
 *   (the stage machine owns the deferral cap);
 * - a tree already retested green (a re-run) is not retested again.
 *
 * The lease is renewed while the gate works, its fencing token is checked
 * right before the push and the merge, and it is released by holder and
 * token before the gate answers. In read-only mode (the reconciler) the gate
 * only asks the forge whether the decided head is merged.
 *
 * @example
 * ```ts
 * const gate = createMergeGate({
 *   store, forge,
 *   settings: { mergeRetestCommand: 'npm test', mergeWorktreeRoot: '/srv/conveyor/worktrees' },
 *   remoteUrl: (repo) => `https://git.example.com/${repo}.git`,
 * });
 * registry.register('deploy-staging->deploy', gate);
 * ```
 */
export function createMergeGate(options: MergeGateOptions): Gate {
  const config = Object.freeze({ ...options });
  const hostId = config.hostId ?? defaultHostId();
  const preparedClones = new Set<string>();
  // The registry's timeout must outlast the retest's own, so a slow retest ends
  // as a red retest (with its tail), not as an aborted gate.
  const initial = parseMergeSettings(config.settings);
  const timeoutMs = initial.ok ? initial.value.mergeRetestTimeoutMs + 3 * initial.value.mergeGitTimeoutMs : undefined;
  return Object.freeze({
    id: 'merge',
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    run: async (ctx: GateContext): Promise<GateOutcome> => {
      const parsed = parseMergeSettings(config.settings);
      if (!parsed.ok) return { status: 'error', summary: parsed.error.message };
      try {
        return await runMerge({ config, settings: parsed.value, hostId, preparedClones, ctx });
      } catch (thrown) {
        return {
          status: 'error',
          summary: `merge gate crashed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        };
      }
    },
  } satisfies Gate);
}

interface Run {
  readonly config: MergeGateOptions;
  readonly settings: MergeSettings;
  readonly hostId: string;
  readonly preparedClones: Set<string>;
  readonly ctx: GateContext;
}

/** What a run is bound to: the decided head and the base it was decided against. */
type Pin = Pick<DecisionPin, 'headSha' | 'baseSha' | 'baseBranch'>;

async function runMerge(run: Run): Promise<GateOutcome> {
  const { config, settings, ctx } = run;
  const { task } = ctx;
  const base = settings.mergeBaseBranch;
  const branch = task.branch.replace(/^refs\/heads\//, '');
  if (branch === base || ['main', 'master'].includes(branch)) {
    return {
      status: 'error',
      summary: `task branch ${task.branch} is the base branch: there is nothing to merge into it`,
    };
  }
  if (ctx.decision !== undefined && ctx.decision.baseBranch !== base) {
    return {
      status: 'error',
      summary: `the decision is against ${ctx.decision.baseBranch} but the merge gate merges into ${base} (mergeBaseBranch)`,
    };
  }
  const paths = workPaths(settings.mergeWorktreeRoot, task.repo, task.id);
  const gitOptions: GitCommonOptions = {
    timeoutMs: settings.mergeGitTimeoutMs,
    signal: ctx.signal,
    ...(config.gitEnv === undefined ? {} : { env: config.gitEnv }),
  };

  const found = await config.forge.findPullRequest(task.repo, base, branch);
  if (!found.ok) return errorOutcome('cannot look up the pull request', found.error);
  if (ctx.readOnly) return readOnlyCheck(config.forge, task.repo, base, branch, ctx.decision, paths, found.value);

  // Without a decision the run pins the branch as it is now.
  let pin: Pin;
  if (ctx.decision !== undefined) pin = ctx.decision;
  else {
    const heads = await lsRemote({
      cwd: tmpdir(),
      remote: config.remoteUrl(task.repo),
      branches: [branch, base],
      ...gitOptions,
    });
    if (!heads.ok) return errorOutcome('cannot read the branches', heads.error);
    const headSha = heads.value.get(branch);
    const baseSha = heads.value.get(base);
    if (baseSha === undefined) return { status: 'error', summary: `base branch ${base} not found on ${task.repo}` };
    if (headSha === undefined) return { status: 'error', summary: `task branch ${branch} not found on ${task.repo}` };
    pin = { headSha, baseSha, baseBranch: base };
  }

  // Cheap, before the lease: a PR merged at exactly the decided head needs nothing.
  const decided = decidedHeads(paths.clone, pin.headSha);
  if (found.value?.merged && decided.has(found.value.headSha)) {
    return {
      status: 'pass',
      summary: `${branch} already merged at ${found.value.headSha.slice(0, 12)} (PR #${found.value.number}); nothing to do`,
    };
  }

  const log = ctx.logger.child({ gate: 'merge', taskId: task.id, repo: task.repo, branch });
  const got = await acquireMergeLease({
    store: config.store,
    repo: task.repo,
    hostId: run.hostId,
    taskId: task.id,
    ttlMs: settings.mergeLeaseTtlMs,
    now: ctx.now,
    logger: log,
  });
  if (!got.ok) return errorOutcome('cannot acquire the merge lease', got.error);
  if (!got.value.acquired) {
    const current = got.value.current;
    return {
      status: 'defer',
      summary: `merge lease ${current.name} is held by ${current.holder} until ${new Date(current.expiresAt).toISOString()}`,
      deferMs: settings.mergeDeferMs,
    };
  }
  const lease = got.value.handle;
  log.info('merge lease acquired', { token: lease.lease.token, headSha: pin.headSha });
  // Work under the lease stops as soon as the lease is known to be lost.
  const signal = AbortSignal.any([ctx.signal, lease.signal]);
  try {
    const outcome = await mergeUnderLease(
      { ...run, log, pin, paths, lease, signal, git: { ...gitOptions, signal } },
      found.value,
    );
    // Work stopped because another host took the lease over: wait, not an error.
    if (outcome.status === 'error' && lease.signal.aborted && !ctx.signal.aborted) {
      return {
        status: 'defer',
        summary: `merge lease lost while merging (${outcome.summary}); nothing was pushed or merged after that`,
        deferMs: settings.mergeDeferMs,
      };
    }
    return outcome;
  } finally {
    // Cleanup runs even after an abort, so it gets its own short deadline.
    await removeWorktree({
      repoDir: paths.clone,
      path: paths.worktree,
      ...gitOptions,
      signal: AbortSignal.timeout(30_000),
    });
    const released = await lease.release();
    if (!released.ok) log.warn('cannot release the merge lease', { error: released.error.message });
    else log.info('merge lease released', { released: released.value.released, token: lease.lease.token });
  }
}

interface WorkPaths {
  readonly clone: string;
  readonly worktree: string;
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}

function workPaths(root: string, repo: string, taskId: string): WorkPaths {
  const dir = join(root, slug(repo));
  return { clone: join(dir, 'repo.git'), worktree: join(dir, 'tasks', slug(taskId)) };
}

/** The decided head and every rebase of it this host's gate recorded. */
function decidedHeads(clone: string, headSha: string): Set<string> {
  return new Set([headSha, ...rebasesOf(clone, headSha).map((r) => r.rebased)]);
}

interface LeasedRun extends Run {
  readonly log: GateContext['logger'];
  readonly pin: Pin;
  readonly paths: WorkPaths;
  readonly lease: MergeLeaseHandle;
  /** the gate's signal, also aborted when the lease is lost */
  readonly signal: AbortSignal;
  readonly git: GitCommonOptions;
}

async function mergeUnderLease(run: LeasedRun, knownPr: PullRequest | undefined): Promise<GateOutcome> {
  const { config, settings, ctx, paths, pin, log } = run;
  const { task } = ctx;
  const base = settings.mergeBaseBranch;
  const branch = task.branch.replace(/^refs\/heads\//, '');
  const remote = settings.mergeRemote;
  const remoteBase = `${remote}/${base}`;
  const gitOptions = run.git;

  const remoteUrl = config.remoteUrl(task.repo);
  const cloneKey = `${paths.clone}\0${remoteUrl}`;
  if (!run.preparedClones.has(cloneKey) || !existsSync(paths.clone)) {
    const clone = await ensureLocalClone({ dir: paths.clone, remoteUrl, remote, ...gitOptions });
    if (!clone.ok) return errorOutcome('cannot prepare the local clone', clone.error);
    run.preparedClones.add(cloneKey);
  }
  const fetched = await fetch({ cwd: paths.clone, remote, branches: [base, branch], ...gitOptions });
  if (!fetched.ok) return errorOutcome('cannot fetch', fetched.error);
  if (fetched.value.missing.includes(base))
    return { status: 'error', summary: `base branch ${base} not found on ${remote}` };
  if (fetched.value.missing.includes(branch)) return moved(branch, pin.headSha, undefined);
  const remoteHead = await revParse({ cwd: paths.clone, rev: `${remote}/${branch}`, ...gitOptions });
  if (!remoteHead.ok) return errorOutcome('cannot read the task branch', remoteHead.error);
  const mainNow = await revParse({ cwd: paths.clone, rev: remoteBase, ...gitOptions });
  if (!mainNow.ok) return errorOutcome('cannot read the base branch', mainNow.error);

  // The branch must still be the decided head — or this gate's own rebase of it.
  const decided = decidedHeads(paths.clone, pin.headSha);
  if (!decided.has(remoteHead.value)) return moved(branch, pin.headSha, remoteHead.value);

  for (const sha of decided) {
    const contained = await isAncestor({ cwd: paths.clone, ancestor: sha, descendant: mainNow.value, ...gitOptions });
    // A recorded rebase may have been pruned from the clone: not contained.
    if (contained.ok && contained.value) {
      return {
        status: 'pass',
        summary: `${base} already contains the decided head of ${branch} (${sha.slice(0, 12)}); nothing to do`,
      };
    }
    if (!contained.ok && sha === pin.headSha)
      return errorOutcome('cannot compare with the base branch', contained.error);
  }

  // The pinned base must still be in main's history (main moves forward, it is never rewritten).
  const forward = await isAncestor({
    cwd: paths.clone,
    ancestor: pin.baseSha,
    descendant: mainNow.value,
    ...gitOptions,
  });
  if (!forward.ok || !forward.value) {
    return {
      status: 'defer',
      summary: `${base} no longer contains the decided base ${pin.baseSha.slice(0, 12)} (rewritten?); a new decision starts on the new ${base}`,
      deferMs: MOVED_DEFER_MS,
    };
  }
  if (mainNow.value !== pin.baseSha) {
    log.info('base moved since the decision started; rebasing onto the current base', {
      decidedBase: pin.baseSha,
      base: mainNow.value,
    });
  }

  const worktree = await createWorktree({
    repoDir: paths.clone,
    path: paths.worktree,
    ref: pin.headSha,
    ...gitOptions,
  });
  if (!worktree.ok) return errorOutcome('cannot create the worktree', worktree.error);

  let target = mainNow.value;
  let branchAt = remoteHead.value;
  let pr: PullRequest | undefined = knownPr;
  for (let round = 0; ; round += 1) {
    const candidate = await buildCandidate(run, target, round);
    if (candidate.kind === 'outcome') return candidate.outcome;
    const head = candidate.head;

    // A hotfix may have landed while the retest ran: never push or merge onto an untested base.
    const heads = await lsRemote({ cwd: paths.clone, remote, branches: [base, branch], ...gitOptions });
    if (!heads.ok) return errorOutcome('cannot read the branches', heads.error);
    const remoteBranch = heads.value.get(branch);
    if (remoteBranch !== branchAt) return moved(branch, pin.headSha, remoteBranch);
    const baseAfter = heads.value.get(base);
    if (baseAfter !== target) {
      const next = await nextTarget(run, target, baseAfter, round);
      if (next.kind === 'outcome') return next.outcome;
      target = next.target;
      continue;
    }

    const beforePush = await run.lease.confirm();
    if (!beforePush.ok) return leaseLost('push', beforePush.error, settings);
    if (head !== branchAt) {
      const pushed = await pushTaskBranch({
        cwd: paths.worktree,
        remote,
        branch,
        expectedSha: branchAt,
        baseBranch: base,
        ...gitOptions,
      });
      if (!pushed.ok) return errorOutcome('push failed', pushed.error);
      if (pushed.value.status === 'rejected') {
        return {
          status: 'defer',
          summary: `branch ${branch} moved from ${pin.headSha.slice(0, 12)} while the gate ran (the push was refused, nothing overwritten); a new decision starts on the new head`,
          deferMs: MOVED_DEFER_MS,
        };
      }
      log.info('pushed the retested head', { from: branchAt, to: head, base: target });
      branchAt = head;
    }

    const opened = await findOrCreatePullRequest(config.forge, task.repo, base, branch, task.title, pr);
    if (!opened.ok) return errorOutcome('cannot open the pull request', opened.error);
    pr = opened.value;
    if (pr.merged) {
      if (decided.has(pr.headSha) || pr.headSha === head) {
        return { status: 'pass', summary: `${branch} already merged (PR #${pr.number}); nothing to do` };
      }
      return {
        status: 'error',
        summary: `PR #${pr.number} of ${branch} is merged but at ${pr.headSha.slice(0, 12)}, not at the retested ${head.slice(0, 12)}`,
      };
    }

    const merged = await mergePinned(run, pr, head, target, branchAt === head && head !== remoteHead.value);
    if (merged.kind === 'outcome') return merged.outcome;
    // main moved between the check and the merge: retest on the new main
    const next = await nextTarget(run, target, merged.base, round);
    if (next.kind === 'outcome') return next.outcome;
    target = next.target;
  }
}

type Step<T> = { readonly kind: 'outcome'; readonly outcome: GateOutcome } | ({ readonly kind: 'go' } & T);

/**
 * The decided head rebased onto `target` and retested green (or already
 * known green): the only commit that may reach the base branch.
 */
async function buildCandidate(run: LeasedRun, target: string, round: number): Promise<Step<{ head: string }>> {
  const { settings, ctx, paths, pin, log } = run;
  const base = settings.mergeBaseBranch;
  const branch = ctx.task.branch.replace(/^refs\/heads\//, '');
  const gitOptions = run.git;
  let head = pin.headSha;
  // A rebase of this head onto this base made before (a re-run after a crash) is reused.
  let known = rebasesOf(paths.clone, pin.headSha)
    .filter((r) => r.base === target)
    .at(-1);
  if (known !== undefined) {
    const present = await git(['cat-file', '-e', `${known.rebased}^{commit}`], {
      cwd: paths.clone,
      acceptExitCodes: [0, 1, 128],
      ...gitOptions,
    });
    if (!present.ok || present.value.exitCode !== 0) known = undefined;
  }
  const checkoutAt = known?.rebased ?? pin.headSha;
  if (round > 0 || known !== undefined) {
    const reset = await git(['checkout', '--quiet', '--force', '--detach', checkoutAt], {
      cwd: paths.worktree,
      ...gitOptions,
    });
    if (!reset.ok) return { kind: 'outcome', outcome: errorOutcome('cannot reset the worktree', reset.error) };
  }
  if (known !== undefined) head = known.rebased;
  else {
    const behind = await isBehindMain({ cwd: paths.worktree, base: target, ...gitOptions });
    if (!behind.ok)
      return { kind: 'outcome', outcome: errorOutcome('cannot compare with the base branch', behind.error) };
    if (behind.value.behind > 0) {
      const rebased = await rebaseOntoMain({
        cwd: paths.worktree,
        onto: target,
        identity: { name: settings.mergeCommitterName, email: settings.mergeCommitterEmail },
        ...gitOptions,
      });
      if (!rebased.ok) return { kind: 'outcome', outcome: errorOutcome('rebase failed', rebased.error) };
      if (rebased.value.status === 'conflict') {
        return {
          kind: 'outcome',
          outcome: {
            status: 'fail',
            summary: `${branch} conflicts with ${base} in ${rebased.value.files.length} file(s); rebase it and resolve`,
            findings: rebased.value.files.map(
              (file): Finding => ({
                rule: 'merge/rebase-conflict',
                file,
                message: `${file} conflicts with the current ${base}`,
                severity: 'error',
              }),
            ),
          },
        };
      }
      head = rebased.value.head;
      recordRebase(paths.clone, { head: pin.headSha, base: target, rebased: head });
      log.info('rebased', { from: pin.headSha, to: head, onto: target, behind: behind.value.behind });
    }
  }

  if (hasGreenRetest(paths.clone, head, settings.mergeRetestCommand)) {
    log.info('retest skipped: this tree already passed', { head });
    return { kind: 'go', head };
  }
  const tested = await retest(settings.mergeRetestCommand, {
    cwd: paths.worktree,
    timeoutMs: settings.mergeRetestTimeoutMs,
    signal: run.signal,
    tailLines: settings.mergeTailLines,
    tailBytes: settings.mergeTailBytes,
    ...(run.config.retestEnv === undefined ? {} : { env: run.config.retestEnv }),
  });
  if (!tested.ok) return { kind: 'outcome', outcome: errorOutcome('cannot run the retest', tested.error) };
  if (!tested.value.passed) {
    if (tested.value.aborted) {
      const why = run.lease.signal.aborted ? 'the merge lease was lost' : 'the gate was aborted';
      return { kind: 'outcome', outcome: { status: 'error', summary: `the retest of ${branch} was stopped: ${why}` } };
    }
    const how = tested.value.timedOut
      ? `timed out after ${settings.mergeRetestTimeoutMs} ms`
      : `exited ${tested.value.exitCode ?? tested.value.signal ?? '?'}`;
    return {
      kind: 'outcome',
      outcome: {
        status: 'fail',
        summary: `retest of ${branch} rebased on ${base} ${how}`,
        findings: [
          {
            rule: 'merge/retest-failed',
            commit: head,
            message: `\`${settings.mergeRetestCommand}\` ${how} on ${head.slice(0, 12)} (${branch} on the current ${base}):\n${tested.value.tail}`,
            severity: 'error',
          },
        ],
      },
    };
  }
  recordGreenRetest(paths.clone, head, settings.mergeRetestCommand);
  return { kind: 'go', head };
}

/** main moved past `target`: the next base to retest on, or a `defer` when the rounds are used up. */
async function nextTarget(
  run: LeasedRun,
  target: string,
  moved: string | undefined,
  round: number,
): Promise<Step<{ target: string }>> {
  const { settings, paths, log } = run;
  const base = settings.mergeBaseBranch;
  if (moved === undefined)
    return { kind: 'outcome', outcome: { status: 'error', summary: `base branch ${base} disappeared` } };
  if (round >= settings.mergeBaseRetries) {
    return {
      kind: 'outcome',
      outcome: {
        status: 'defer',
        summary: `${base} moved ${round + 1} time(s) after the retest (now ${moved.slice(0, 12)}); nothing merged, the decision waits`,
        deferMs: settings.mergeDeferMs,
      },
    };
  }
  const fetched = await fetch({ cwd: paths.clone, remote: settings.mergeRemote, branches: [base], ...run.git });
  if (!fetched.ok) return { kind: 'outcome', outcome: errorOutcome('cannot fetch', fetched.error) };
  const now = await revParse({ cwd: paths.clone, rev: `${settings.mergeRemote}/${base}`, ...run.git });
  if (!now.ok) return { kind: 'outcome', outcome: errorOutcome('cannot read the base branch', now.error) };
  const forward = await isAncestor({ cwd: paths.clone, ancestor: target, descendant: now.value, ...run.git });
  if (!forward.ok || !forward.value) {
    return {
      kind: 'outcome',
      outcome: {
        status: 'defer',
        summary: `${base} was rewritten after the retest; nothing merged, a new decision starts on the new ${base}`,
        deferMs: MOVED_DEFER_MS,
      },
    };
  }
  log.info('base moved after the retest: rebasing and retesting on the new base', { from: target, to: now.value });
  return { kind: 'go', target: now.value };
}

/**
 * Merges PR `pr` at exactly `head` (retested on `target`). Resolves to an
 * outcome, or to `{ base }` when main moved before the merge (retest again).
 */
async function mergePinned(
  run: LeasedRun,
  pr: PullRequest,
  head: string,
  target: string,
  justPushed: boolean,
): Promise<Step<{ base: string | undefined }>> {
  const { config, settings, ctx, paths, pin } = run;
  const base = settings.mergeBaseBranch;
  const branch = ctx.task.branch.replace(/^refs\/heads\//, '');
  const baseNow = async (): Promise<Result<string | undefined, ConveyorError>> => {
    const heads = await lsRemote({ cwd: paths.clone, remote: settings.mergeRemote, branches: [base], ...run.git });
    return heads.ok ? ok(heads.value.get(base)) : err(heads.error);
  };
  for (let attempt = 0; ; attempt += 1) {
    const confirmed = await run.lease.confirm();
    if (!confirmed.ok) return { kind: 'outcome', outcome: leaseLost('merge', confirmed.error, settings) };
    if (settings.mergeMethod !== 'fast-forward-only') {
      // The forge builds a new commit from the base it sees: it must be the retested one.
      const now = await baseNow();
      if (!now.ok) return { kind: 'outcome', outcome: errorOutcome('cannot read the base branch', now.error) };
      if (now.value !== target) return { kind: 'go', base: now.value };
    }
    const merged = await config.forge.mergePullRequest(ctx.task.repo, pr.number, {
      headSha: head,
      method: settings.mergeMethod,
      title: `${ctx.task.title} (#${pr.number})`,
    });
    if (merged.ok) {
      return {
        kind: 'outcome',
        outcome: {
          status: 'pass',
          summary: merged.value.alreadyMerged
            ? `${branch} already merged (PR #${pr.number})`
            : `merged ${branch} at ${head.slice(0, 12)} into ${base}${merged.value.mergeSha ? ` as ${merged.value.mergeSha.slice(0, 12)}` : ''} (PR #${pr.number})`,
        },
      };
    }
    const code = merged.error.code;
    if (code === 'head_out_of_date') {
      // Forges update a PR's head asynchronously after a push: retry briefly.
      if (justPushed && attempt < settings.mergeHeadRetries) {
        await delay(settings.mergeHeadRetryDelayMs, run.signal);
        continue;
      }
      const heads = await lsRemote({ cwd: paths.clone, remote: settings.mergeRemote, branches: [branch], ...run.git });
      const now = heads.ok ? heads.value.get(branch) : undefined;
      if (now !== head) return { kind: 'outcome', outcome: moved(branch, pin.headSha, now) };
      return {
        kind: 'outcome',
        outcome: errorOutcome(`the forge still sees another head on PR #${pr.number}`, merged.error),
      };
    }
    if (code === 'not_mergeable' || code === 'conflict') {
      // A fast-forward refused (or a merge raced) because main moved: retest on it.
      const now = await baseNow();
      if (now.ok && now.value !== target) return { kind: 'go', base: now.value };
      return { kind: 'outcome', outcome: errorOutcome(`the forge refused to merge PR #${pr.number}`, merged.error) };
    }
    return { kind: 'outcome', outcome: errorOutcome(`cannot merge PR #${pr.number}`, merged.error) };
  }
}

async function findOrCreatePullRequest(
  forge: Forge,
  repo: string,
  base: string,
  branch: string,
  title: string,
  known: PullRequest | undefined,
): Promise<Result<PullRequest, ConveyorError>> {
  if (known !== undefined && known.state === 'open') return ok(known);
  const again = await forge.findPullRequest(repo, base, branch);
  if (!again.ok) return err(again.error);
  // An open PR is reused; a merged one only if it is this merge (a race); an
  // older merged or closed one is history: the fix gets a new pull request.
  if (again.value !== undefined && again.value.state === 'open') return ok(again.value);
  const created = await forge.createPullRequest(repo, {
    base,
    head: branch,
    title,
    body: 'Opened by the Conveyor merge gate.',
  });
  if (created.ok || created.error.code !== 'already_exists') return created;
  const raced = await forge.findPullRequest(repo, base, branch);
  if (!raced.ok) return err(raced.error);
  return raced.value === undefined ? err(created.error) : ok(raced.value);
}

async function readOnlyCheck(
  forge: Forge,
  repo: string,
  base: string,
  branch: string,
  decision: DecisionPin | undefined,
  paths: WorkPaths,
  found: PullRequest | undefined,
): Promise<GateOutcome> {
  if (decision === undefined) {
    if (found?.merged) return { status: 'pass', summary: `${branch} already merged (PR #${found.number})` };
    const compared = await forge.compare(repo, base, branch);
    if (!compared.ok) return errorOutcome('cannot compare with the base branch', compared.error);
    if (compared.value.aheadBy === 0) return { status: 'pass', summary: `${branch} is contained in ${base}` };
    return {
      status: 'fail',
      summary: `${branch} is not merged yet (${compared.value.aheadBy} commit(s) ahead of ${base})`,
    };
  }
  const decided = decidedHeads(paths.clone, decision.headSha);
  if (found?.merged && decided.has(found.headSha)) {
    return { status: 'pass', summary: `${branch} merged at the decided head (PR #${found.number})` };
  }
  for (const sha of decided) {
    const compared = await forge.compare(repo, base, sha);
    if (!compared.ok) {
      if (sha === decision.headSha) return errorOutcome('cannot compare with the base branch', compared.error);
      continue;
    }
    if (compared.value.aheadBy === 0) {
      return { status: 'pass', summary: `${base} contains the decided head ${sha.slice(0, 12)} of ${branch}` };
    }
  }
  return {
    status: 'fail',
    summary: `the decided head ${decision.headSha.slice(0, 12)} of ${branch} is not merged yet`,
  };
}

function moved(branch: string, from: string, to: string | undefined): GateOutcome {
  return { status: 'defer', summary: branchMovedSummary(branch, from, to), deferMs: MOVED_DEFER_MS };
}

function leaseLost(before: string, error: ConveyorError, settings: MergeSettings): GateOutcome {
  return {
    status: 'defer',
    summary: `merge lease lost before the ${before}: ${error.message}`,
    deferMs: settings.mergeDeferMs,
  };
}

function errorOutcome(what: string, error: ConveyorError): GateOutcome {
  return { status: 'error', summary: `${what}: ${error.message}` };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
