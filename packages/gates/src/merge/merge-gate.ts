import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ConveyorError,
  Finding,
  Forge,
  Gate,
  GateContext,
  GateOutcome,
  Lease,
  PullRequest,
  Result,
  Store,
} from '@conveyor/core';
import { err, mergeLeaseName, ok } from '@conveyor/core';
import { pushTaskBranch } from '../git/push.js';
import { rebaseOntoMain } from '../git/rebase.js';
import { ensureLocalClone, fetch, isAncestor, isBehindMain, revParse } from '../git/refs.js';
import { retest } from '../git/retest.js';
import type { GitCommonOptions } from '../git/run.js';
import { createWorktree, removeWorktree } from '../git/worktree.js';
import { defaultHostId, mergeLeaseHolder } from './lease.js';
import { type MergeSettings, type MergeSettingsInput, parseMergeSettings } from './settings.js';
import { hasGreenRetest, recordGreenRetest } from './tested-marker.js';

/** Options of {@link createMergeGate}. */
export interface MergeGateOptions {
  /** where the per-repository merge lease lives (only the lease methods are used) */
  readonly store: Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease'>;
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

/**
 * The merge gate (id `merge`): under the repository's merge lease it catches
 * the task branch up with the CURRENT base branch, retests the combined tree,
 * pushes it with `--force-with-lease` and merges it through the forge pinned
 * to that head — so main only ever receives a tree that passed the retest.
 *
 * - lease busy → `defer` (`mergeDeferMs`), until `mergeMaxDeferrals` → `fail`;
 * - already merged (PR merged, or the branch is contained in main) → `pass`, nothing done;
 * - rebase conflict → `fail` with the conflicting files; red retest → `fail` with the output's tail;
 * - the branch moved meanwhile (push lease or forge `head_out_of_date`) → `fail`, nothing overwritten;
 * - a head already retested green (a re-run) is not retested again.
 *
 * The lease is always released by its holder and token before the gate
 * answers; it is renewed while the gate works. In read-only mode (the
 * reconciler) the gate only asks the forge whether the branch is merged.
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
        return await runMerge(config, parsed.value, hostId, preparedClones, ctx);
      } catch (thrown) {
        return {
          status: 'error',
          summary: `merge gate crashed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        };
      }
    },
  } satisfies Gate);
}

async function runMerge(
  config: MergeGateOptions,
  settings: MergeSettings,
  hostId: string,
  preparedClones: Set<string>,
  ctx: GateContext,
): Promise<GateOutcome> {
  const { task } = ctx;
  const base = settings.mergeBaseBranch;
  if (task.branch.replace(/^refs\/heads\//, '') === base || ['main', 'master'].includes(task.branch)) {
    return {
      status: 'fail',
      summary: `task branch ${task.branch} is the base branch: there is nothing to merge into it`,
    };
  }
  const log = ctx.logger.child({ gate: 'merge', taskId: task.id, repo: task.repo, branch: task.branch });

  // Cheap, read-only: a PR already merged needs nothing (idempotent re-runs).
  const found = await config.forge.findPullRequest(task.repo, base, task.branch);
  if (!found.ok) return errorOutcome('cannot look up the pull request', found.error);
  if (found.value?.merged) {
    return { status: 'pass', summary: `${task.branch} already merged (PR #${found.value.number}); nothing to do` };
  }
  if (ctx.readOnly) return readOnlyCheck(config.forge, task.repo, base, task.branch);

  const name = mergeLeaseName(task.repo);
  const holder = mergeLeaseHolder(hostId, task.id);
  const acquired = await config.store.acquireLease({ name, holder, ttlMs: settings.mergeLeaseTtlMs, now: ctx.now() });
  if (!acquired.ok) return errorOutcome(`cannot acquire the merge lease ${name}`, acquired.error);
  if (!acquired.value.acquired) {
    const current = acquired.value.current;
    if (task.snapshot.deferrals >= settings.mergeMaxDeferrals) {
      return {
        status: 'fail',
        summary: `merge lease ${name} still held by ${current.holder} after ${task.snapshot.deferrals} deferrals`,
      };
    }
    return {
      status: 'defer',
      summary: `merge lease ${name} is held by ${current.holder} until ${new Date(current.expiresAt).toISOString()}`,
      deferMs: settings.mergeDeferMs,
    };
  }

  const keeper = keepLease(config.store, acquired.value.lease, settings.mergeLeaseTtlMs, ctx, log);
  const paths = workPaths(settings.mergeWorktreeRoot, task.repo, task.id);
  const gitOptions: GitCommonOptions = {
    timeoutMs: settings.mergeGitTimeoutMs,
    signal: ctx.signal,
    ...(config.gitEnv === undefined ? {} : { env: config.gitEnv }),
  };
  log.info('merge lease acquired', { token: acquired.value.lease.token });
  try {
    return await mergeUnderLease(config, settings, ctx, paths, gitOptions, keeper, found.value, preparedClones);
  } finally {
    keeper.stop();
    await removeWorktree({
      repoDir: paths.clone,
      path: paths.worktree,
      ...gitOptions,
      signal: AbortSignal.timeout(30_000),
    });
    const released = await config.store.releaseLease({ name, holder, token: acquired.value.lease.token });
    if (!released.ok) log.warn('cannot release the merge lease', { error: released.error.message });
    else log.info('merge lease released', { released: released.value.released, token: acquired.value.lease.token });
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

async function mergeUnderLease(
  config: MergeGateOptions,
  settings: MergeSettings,
  ctx: GateContext,
  paths: WorkPaths,
  gitOptions: GitCommonOptions,
  keeper: LeaseKeeper,
  knownPr: PullRequest | undefined,
  preparedClones: Set<string>,
): Promise<GateOutcome> {
  const { task } = ctx;
  const base = settings.mergeBaseBranch;
  const remote = settings.mergeRemote;
  const remoteBase = `${remote}/${base}`;
  const remoteBranch = `${remote}/${task.branch}`;

  const remoteUrl = config.remoteUrl(task.repo);
  const cloneKey = `${paths.clone}\0${remoteUrl}`;
  if (!preparedClones.has(cloneKey) || !existsSync(paths.clone)) {
    const clone = await ensureLocalClone({ dir: paths.clone, remoteUrl, remote, ...gitOptions });
    if (!clone.ok) return errorOutcome('cannot prepare the local clone', clone.error);
    preparedClones.add(cloneKey);
  }
  const fetched = await fetch({ cwd: paths.clone, remote, branches: [base, task.branch], ...gitOptions });
  if (!fetched.ok) return errorOutcome('cannot fetch', fetched.error);
  if (fetched.value.missing.includes(base))
    return { status: 'error', summary: `base branch ${base} not found on ${remote}` };
  if (fetched.value.missing.includes(task.branch)) {
    return { status: 'fail', summary: `task branch ${task.branch} not found on ${remote}` };
  }
  const remoteHead = await revParse({ cwd: paths.clone, rev: remoteBranch, ...gitOptions });
  if (!remoteHead.ok) return errorOutcome('cannot read the task branch', remoteHead.error);
  const contained = await isAncestor({
    cwd: paths.clone,
    ancestor: remoteBranch,
    descendant: remoteBase,
    ...gitOptions,
  });
  if (!contained.ok) return errorOutcome('cannot compare with the base branch', contained.error);
  if (contained.value) {
    return { status: 'pass', summary: `${task.branch} is already contained in ${base}; nothing to do` };
  }

  const worktree = await createWorktree({
    repoDir: paths.clone,
    path: paths.worktree,
    ref: remoteHead.value,
    ...gitOptions,
  });
  if (!worktree.ok) return errorOutcome('cannot create the worktree', worktree.error);
  const behind = await isBehindMain({ cwd: paths.worktree, base: remoteBase, ...gitOptions });
  if (!behind.ok) return errorOutcome('cannot compare with the base branch', behind.error);

  let head = remoteHead.value;
  if (behind.value.behind > 0) {
    const rebased = await rebaseOntoMain({
      cwd: paths.worktree,
      onto: remoteBase,
      identity: { name: settings.mergeCommitterName, email: settings.mergeCommitterEmail },
      ...gitOptions,
    });
    if (!rebased.ok) return errorOutcome('rebase failed', rebased.error);
    if (rebased.value.status === 'conflict') {
      return {
        status: 'fail',
        summary: `${task.branch} conflicts with ${base} in ${rebased.value.files.length} file(s); rebase it and resolve`,
        findings: rebased.value.files.map(
          (file): Finding => ({
            rule: 'merge/rebase-conflict',
            file,
            message: `${file} conflicts with the current ${base}`,
            severity: 'error',
          }),
        ),
      };
    }
    head = rebased.value.head;
    ctx.logger.info('rebased', { from: remoteHead.value, to: head, behind: behind.value.behind });
  }

  if (hasGreenRetest(paths.clone, head, settings.mergeRetestCommand)) {
    ctx.logger.info('retest skipped: this head already passed', { head });
  } else {
    const tested = await retest(settings.mergeRetestCommand, {
      cwd: paths.worktree,
      timeoutMs: settings.mergeRetestTimeoutMs,
      signal: ctx.signal,
      tailLines: settings.mergeTailLines,
      tailBytes: settings.mergeTailBytes,
      ...(config.retestEnv === undefined ? {} : { env: config.retestEnv }),
    });
    if (!tested.ok) return errorOutcome('cannot run the retest', tested.error);
    if (!tested.value.passed) {
      const how = tested.value.timedOut
        ? `timed out after ${settings.mergeRetestTimeoutMs} ms`
        : tested.value.aborted
          ? 'was aborted'
          : `exited ${tested.value.exitCode ?? tested.value.signal ?? '?'}`;
      return {
        status: 'fail',
        summary: `retest of ${task.branch} rebased on ${base} ${how}`,
        findings: [
          {
            rule: 'merge/retest-failed',
            commit: head,
            message: `\`${settings.mergeRetestCommand}\` ${how} on ${head.slice(0, 12)} (${task.branch} on the current ${base}):\n${tested.value.tail}`,
            severity: 'error',
          },
        ],
      };
    }
    recordGreenRetest(paths.clone, head, settings.mergeRetestCommand);
  }

  const stillHeld = await keeper.confirm();
  if (!stillHeld.ok) {
    return {
      status: 'defer',
      summary: `merge lease lost before the push: ${stillHeld.error.message}`,
      deferMs: settings.mergeDeferMs,
    };
  }
  if (head !== remoteHead.value) {
    const pushed = await pushTaskBranch({
      cwd: paths.worktree,
      remote,
      branch: task.branch,
      expectedSha: remoteHead.value,
      baseBranch: base,
      ...gitOptions,
    });
    if (!pushed.ok) return errorOutcome('push failed', pushed.error);
    if (pushed.value.status === 'rejected') {
      return {
        status: 'fail',
        summary: `${task.branch} changed on ${remote} while the gate ran; nothing was overwritten`,
        findings: [
          { rule: 'merge/branch-moved', commit: remoteHead.value, message: pushed.value.reason, severity: 'error' },
        ],
      };
    }
  }

  const pr = await findOrCreatePullRequest(config.forge, task.repo, base, task.branch, task.title, knownPr);
  if (!pr.ok) return errorOutcome('cannot open the pull request', pr.error);
  if (pr.value.merged)
    return { status: 'pass', summary: `${task.branch} already merged (PR #${pr.value.number}); nothing to do` };

  const confirmed = await keeper.confirm();
  if (!confirmed.ok) {
    return {
      status: 'defer',
      summary: `merge lease lost before the merge: ${confirmed.error.message}`,
      deferMs: settings.mergeDeferMs,
    };
  }
  for (let attempt = 0; ; attempt += 1) {
    const merged = await config.forge.mergePullRequest(task.repo, pr.value.number, {
      headSha: head,
      method: settings.mergeMethod,
      title: `${task.title} (#${pr.value.number})`,
    });
    if (merged.ok) {
      return {
        status: 'pass',
        summary: merged.value.alreadyMerged
          ? `${task.branch} already merged (PR #${pr.value.number})`
          : `merged ${task.branch} at ${head.slice(0, 12)} into ${base}${merged.value.mergeSha ? ` as ${merged.value.mergeSha.slice(0, 12)}` : ''} (PR #${pr.value.number})`,
      };
    }
    const code = merged.error.code;
    if (code === 'head_out_of_date' && head !== remoteHead.value && attempt < settings.mergeHeadRetries) {
      await delay(settings.mergeHeadRetryDelayMs, ctx.signal);
      continue;
    }
    if (code === 'head_out_of_date') {
      return {
        status: 'fail',
        summary: `${task.branch} moved after it was retested; the forge refused to merge anything else`,
        findings: [{ rule: 'merge/branch-moved', commit: head, message: merged.error.message, severity: 'error' }],
      };
    }
    if (code === 'not_mergeable') {
      return {
        status: 'fail',
        summary: `the forge refused to merge PR #${pr.value.number}`,
        findings: [{ rule: 'merge/not-mergeable', commit: head, message: merged.error.message, severity: 'error' }],
      };
    }
    return errorOutcome(`cannot merge PR #${pr.value.number}`, merged.error);
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
  if (again.value !== undefined && (again.value.state === 'open' || again.value.merged)) return ok(again.value);
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

async function readOnlyCheck(forge: Forge, repo: string, base: string, branch: string): Promise<GateOutcome> {
  const compared = await forge.compare(repo, base, branch);
  if (!compared.ok) return errorOutcome('cannot compare with the base branch', compared.error);
  if (compared.value.aheadBy === 0) return { status: 'pass', summary: `${branch} is contained in ${base}` };
  return {
    status: 'fail',
    summary: `${branch} is not merged yet (${compared.value.aheadBy} commit(s) ahead of ${base})`,
  };
}

function errorOutcome(what: string, error: ConveyorError): GateOutcome {
  return { status: 'error', summary: `${what}: ${error.message}` };
}

interface LeaseKeeper {
  /** renews now; an error means the lease is no longer ours */
  confirm(): Promise<Result<Lease, ConveyorError>>;
  stop(): void;
}

/** Renews the lease every third of its TTL while the gate works. */
function keepLease(
  store: Pick<Store, 'renewLease'>,
  lease: Lease,
  ttlMs: number,
  ctx: GateContext,
  log: GateContext['logger'],
): LeaseKeeper {
  let lost: ConveyorError | undefined;
  const renew = async (): Promise<Result<Lease, ConveyorError>> => {
    if (lost !== undefined) return err(lost);
    const renewed = await store.renewLease({
      name: lease.name,
      holder: lease.holder,
      token: lease.token,
      ttlMs,
      now: ctx.now(),
    });
    if (!renewed.ok && renewed.error.code === 'lease_lost') {
      lost = renewed.error;
      log.warn('merge lease lost', { error: renewed.error.message });
    }
    return renewed;
  };
  const timer = setInterval(
    () => {
      renew().catch((thrown: unknown) => log.warn('merge lease renewal threw', { error: String(thrown) }));
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return { confirm: renew, stop: () => clearInterval(timer) };
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
