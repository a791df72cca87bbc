import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  type CombinedStatus,
  type CommitState,
  type CommitStatus,
  type Comparison,
  ConveyorError,
  err,
  type Forge,
  type MergeOutcome,
  type MergeRequest,
  type NewPullRequest,
  ok,
  type PullRequest,
  type Result,
} from '@conveyor/core';

const TESTKIT_PKG = '@conveyor/testkit';

/** Who authors the local forge's merge commits. */
export interface LocalGitIdentity {
  readonly name: string;
  readonly email: string;
}

const DEFAULT_IDENTITY: LocalGitIdentity = Object.freeze({ name: 'Conveyor', email: 'conveyor@localhost' });

interface GitRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs git without a shell; an exit code outside `accept` is a `git_failed` error. */
function git(
  args: readonly string[],
  options: {
    readonly cwd: string;
    readonly env: Readonly<Record<string, string>>;
    readonly acceptExitCodes: readonly number[];
  },
): Promise<Result<GitRun, ConveyorError>> {
  return new Promise((resolve) => {
    execFile(
      'git',
      [...args],
      {
        cwd: options.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (options.acceptExitCodes.includes(code)) {
          resolve(ok({ stdout: stdout.replace(/\n$/, ''), stderr, exitCode: code }));
          return;
        }
        resolve(
          err(
            new ConveyorError(
              TESTKIT_PKG,
              'git_failed',
              `git ${args.slice(0, 2).join(' ')} exited ${code} in ${options.cwd}`,
              {
                cause: error,
                details: { args: [...args], cwd: options.cwd, exitCode: code, stderr },
              },
            ),
          ),
        );
      },
    );
  });
}

/** Options of {@link createLocalGitForge}. */
export interface LocalGitForgeOptions {
  /** the bare repository that plays the forge's role (or one per `owner/name`) */
  readonly bareRepo: string | ((repo: string) => string);
  /**
   * where pull requests and statuses are kept as JSON; in memory when omitted.
   * One process writes it at a time (a demo, not a server).
   */
  readonly stateFile?: string;
  /** who authors merge commits (default `Conveyor <conveyor@localhost>`) */
  readonly identity?: LocalGitIdentity;
  /** added to git's environment */
  readonly env?: Readonly<Record<string, string>>;
  /** epoch ms for merge commits' dates; default `Date.now` */
  readonly now?: () => number;
}

/** A pull request as the local forge stores it. */
export interface LocalPullRequest {
  readonly repo: string;
  readonly number: number;
  readonly base: string;
  readonly head: string;
  readonly title: string;
  readonly body: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** the head at merge time (the branch may be gone after) */
  headSha?: string;
  mergeSha?: string;
}

interface LocalForgeState {
  nextNumber: number;
  pulls: LocalPullRequest[];
  statuses: Record<string, CommitStatus[]>;
}

/** The local forge: a `Forge` plus a listing for demos and tests. */
export interface LocalGitForge extends Forge {
  /** every pull request, oldest first */
  listPullRequests(repo?: string): Promise<readonly LocalPullRequest[]>;
}

/**
 * A `Forge` over a local bare repository: pull requests live in memory
 * (or in `stateFile`), a merge updates the base branch of the bare repository
 * after checking that the head is still `headSha` (`head_out_of_date`
 * otherwise) and with a compare-and-swap on the base ref, so a concurrent
 * update is never lost. Methods: `merge` (a merge commit, like Gitea's
 * default), `fast-forward-only`, `squash`, and `rebase` when it is a fast-forward.
 *
 * @example
 * ```ts
 * const forge = createLocalGitForge({ bareRepo: '/tmp/demo/origin.git' });
 * const pr = await forge.createPullRequest('demo/app', { base: 'main', head: 'task/1', title: 'Task 1' });
 * if (pr.ok) await forge.mergePullRequest('demo/app', pr.value.number, { headSha: pr.value.headSha });
 * ```
 */
export function createLocalGitForge(options: LocalGitForgeOptions): LocalGitForge {
  const config = Object.freeze({ ...options });
  const identity = config.identity ?? DEFAULT_IDENTITY;
  const repoDir = (repo: string) => (typeof config.bareRepo === 'string' ? config.bareRepo : config.bareRepo(repo));
  let memory: LocalForgeState = { nextNumber: 1, pulls: [], statuses: {} };
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` alone (merges and creations never interleave in this process). */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  function load(): Result<LocalForgeState, ConveyorError> {
    if (config.stateFile === undefined || !existsSync(config.stateFile)) return ok(memory);
    try {
      const parsed = JSON.parse(readFileSync(config.stateFile, 'utf8')) as LocalForgeState;
      if (typeof parsed.nextNumber !== 'number' || !Array.isArray(parsed.pulls)) throw new Error('missing fields');
      memory = { nextNumber: parsed.nextNumber, pulls: parsed.pulls, statuses: parsed.statuses ?? {} };
      return ok(memory);
    } catch (thrown) {
      return err(
        new ConveyorError(TESTKIT_PKG, 'corrupt', `local forge state ${config.stateFile} is unreadable`, {
          cause: thrown,
          details: { path: config.stateFile },
        }),
      );
    }
  }

  function save(state: LocalForgeState): Result<void, ConveyorError> {
    memory = state;
    if (config.stateFile === undefined) return ok();
    try {
      const tmp = `${config.stateFile}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
      renameSync(tmp, config.stateFile);
      return ok();
    } catch (thrown) {
      return err(
        new ConveyorError(TESTKIT_PKG, 'internal', `cannot write local forge state ${config.stateFile}`, {
          cause: thrown,
          details: { path: config.stateFile },
        }),
      );
    }
  }

  async function run(repo: string, args: string[], accept: number[] = [0]) {
    const date = config.now === undefined ? undefined : `@${Math.floor(config.now() / 1000)} +0000`;
    return git(args, {
      cwd: repoDir(repo),
      acceptExitCodes: accept,
      env: {
        GIT_AUTHOR_NAME: identity.name,
        GIT_AUTHOR_EMAIL: identity.email,
        GIT_COMMITTER_NAME: identity.name,
        GIT_COMMITTER_EMAIL: identity.email,
        ...(date === undefined ? {} : { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
        ...(config.env ?? {}),
      },
    });
  }

  async function branchSha(repo: string, branch: string): Promise<Result<string | undefined, ConveyorError>> {
    const out = await run(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], [0, 1]);
    if (!out.ok) return err(out.error);
    return ok(out.value.exitCode === 0 ? out.value.stdout.trim() : undefined);
  }

  async function resolveRev(repo: string, rev: string): Promise<Result<string, ConveyorError>> {
    const asBranch = await branchSha(repo, rev);
    if (!asBranch.ok) return err(asBranch.error);
    if (asBranch.value !== undefined) return ok(asBranch.value);
    const out = await run(repo, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], [0, 1]);
    if (!out.ok) return err(out.error);
    if (out.value.exitCode !== 0) {
      return err(
        new ConveyorError(TESTKIT_PKG, 'not_found', `no branch or commit ${rev} in ${repoDir(repo)}`, {
          details: { repo, rev },
        }),
      );
    }
    return ok(out.value.stdout.trim());
  }

  async function ancestor(repo: string, a: string, b: string): Promise<Result<boolean, ConveyorError>> {
    const out = await run(repo, ['merge-base', '--is-ancestor', a, b], [0, 1]);
    return out.ok ? ok(out.value.exitCode === 0) : err(out.error);
  }

  async function view(pr: LocalPullRequest): Promise<Result<PullRequest, ConveyorError>> {
    let headSha = pr.headSha ?? '';
    if (pr.state === 'open') {
      const current = await branchSha(pr.repo, pr.head);
      if (!current.ok) return err(current.error);
      headSha = current.value ?? headSha;
    }
    return ok({
      number: pr.number,
      state: pr.state,
      merged: pr.merged,
      base: pr.base,
      head: pr.head,
      headSha,
      title: pr.title,
      ...(pr.mergeSha === undefined ? {} : { mergeSha: pr.mergeSha }),
    });
  }

  function notFound(repo: string, number: number) {
    return new ConveyorError(TESTKIT_PKG, 'not_found', `no pull request #${number} in ${repo}`, {
      details: { repo, number },
    });
  }

  async function mergeLocked(
    repo: string,
    number: number,
    input: MergeRequest,
  ): Promise<Result<MergeOutcome, ConveyorError>> {
    const loaded = load();
    if (!loaded.ok) return err(loaded.error);
    const state = loaded.value;
    const pr = state.pulls.find((p) => p.repo === repo && p.number === number);
    if (pr === undefined) return err(notFound(repo, number));
    if (pr.merged) return ok({ alreadyMerged: true, ...(pr.mergeSha === undefined ? {} : { mergeSha: pr.mergeSha }) });
    if (pr.state === 'closed') {
      return err(
        new ConveyorError(TESTKIT_PKG, 'not_mergeable', `pull request #${number} is closed`, {
          details: { repo, number },
        }),
      );
    }
    const head = await branchSha(repo, pr.head);
    if (!head.ok) return err(head.error);
    if (head.value === undefined) {
      return err(
        new ConveyorError(TESTKIT_PKG, 'not_mergeable', `branch ${pr.head} of #${number} no longer exists`, {
          details: { repo, number },
        }),
      );
    }
    if (head.value !== input.headSha) {
      return err(
        new ConveyorError(
          TESTKIT_PKG,
          'head_out_of_date',
          `head of #${number} is ${head.value}, not ${input.headSha}`,
          {
            details: { repo, number, expected: input.headSha, actual: head.value },
          },
        ),
      );
    }
    const base = await branchSha(repo, pr.base);
    if (!base.ok) return err(base.error);
    if (base.value === undefined) {
      return err(
        new ConveyorError(TESTKIT_PKG, 'not_mergeable', `base branch ${pr.base} does not exist`, {
          details: { repo, number },
        }),
      );
    }
    const contained = await ancestor(repo, head.value, base.value);
    if (!contained.ok) return err(contained.error);
    let mergeSha = base.value;
    if (!contained.value) {
      const next = await mergeCommit(repo, pr, head.value, base.value, input);
      if (!next.ok) return err(next.error);
      mergeSha = next.value;
      const moved = await run(repo, ['update-ref', `refs/heads/${pr.base}`, mergeSha, base.value], [0, 1, 128]);
      if (!moved.ok) return err(moved.error);
      if (moved.value.exitCode !== 0) {
        return err(
          new ConveyorError(TESTKIT_PKG, 'conflict', `${pr.base} moved while #${number} was being merged; try again`, {
            details: { repo, number, stderr: moved.value.stderr },
          }),
        );
      }
    }
    if (input.deleteBranchAfterMerge === true) {
      await run(repo, ['update-ref', '-d', `refs/heads/${pr.head}`, head.value], [0, 1, 128]);
    }
    pr.merged = true;
    pr.state = 'closed';
    pr.headSha = head.value;
    pr.mergeSha = mergeSha;
    const saved = save(state);
    if (!saved.ok) return err(saved.error);
    return ok({ alreadyMerged: false, mergeSha });
  }

  async function mergeCommit(
    repo: string,
    pr: LocalPullRequest,
    head: string,
    base: string,
    input: MergeRequest,
  ): Promise<Result<string, ConveyorError>> {
    const method = input.method ?? 'merge';
    const fastForward = await ancestor(repo, base, head);
    if (!fastForward.ok) return err(fastForward.error);
    const refuse = (why: string) =>
      err<string, ConveyorError>(
        new ConveyorError(TESTKIT_PKG, 'not_mergeable', `#${pr.number} cannot be merged (${method}): ${why}`, {
          details: { repo, number: pr.number, method },
        }),
      );
    if (method === 'fast-forward-only' || method === 'rebase') {
      return fastForward.value ? ok(head) : refuse(`${pr.head} is not based on the current ${pr.base}`);
    }
    if (method === 'rebase-merge') {
      if (!fastForward.value) return refuse('only a fast-forward can be rebased here');
    }
    const merged = await run(repo, ['merge-tree', '--write-tree', '--no-messages', base, head], [0, 1]);
    if (!merged.ok) return err(merged.error);
    if (merged.value.exitCode === 1) return refuse('it conflicts with the base branch');
    const tree = merged.value.stdout.split('\n')[0]?.trim() ?? '';
    const message = input.message ?? input.title ?? `Merge pull request #${pr.number} from ${pr.head}\n\n${pr.title}`;
    const parents = method === 'squash' ? ['-p', base] : ['-p', base, '-p', head];
    const commit = await run(repo, ['commit-tree', tree, ...parents, '-m', message]);
    return commit.ok ? ok(commit.value.stdout.trim()) : err(commit.error);
  }

  const forge: LocalGitForge = {
    async setCommitStatus(repo, sha, status) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      return exclusive(async () => {
        const loaded = load();
        if (!loaded.ok) return err(loaded.error);
        const list = (loaded.value.statuses[sha] ?? []).filter((s) => s.context !== status.context);
        loaded.value.statuses[sha] = [...list, status];
        return save(loaded.value);
      });
    },
    async getCombinedStatus(repo, sha) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      const loaded = load();
      if (!loaded.ok) return err(loaded.error);
      const statuses = loaded.value.statuses[sha] ?? [];
      return ok<CombinedStatus>({ sha, state: combine(statuses), statuses });
    },
    async findPullRequest(repo, base, head) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      const loaded = load();
      if (!loaded.ok) return err(loaded.error);
      const matching = loaded.value.pulls.filter((p) => p.repo === repo && p.base === base && p.head === head);
      const pick = matching.find((p) => p.state === 'open') ?? matching[matching.length - 1];
      if (pick === undefined) return ok(undefined);
      return view(pick);
    },
    async createPullRequest(repo, input: NewPullRequest) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      return exclusive(async () => {
        const loaded = load();
        if (!loaded.ok) return err(loaded.error);
        const state = loaded.value;
        if (
          state.pulls.some(
            (p) => p.repo === repo && p.base === input.base && p.head === input.head && p.state === 'open',
          )
        ) {
          return err(
            new ConveyorError(
              TESTKIT_PKG,
              'already_exists',
              `an open pull request from ${input.head} into ${input.base} exists`,
              {
                details: { repo, head: input.head, base: input.base },
              },
            ),
          );
        }
        const head = await branchSha(repo, input.head);
        if (!head.ok) return err(head.error);
        if (head.value === undefined) {
          return err(
            new ConveyorError(TESTKIT_PKG, 'not_found', `branch ${input.head} does not exist`, { details: { repo } }),
          );
        }
        const pr: LocalPullRequest = {
          repo,
          number: state.nextNumber,
          base: input.base,
          head: input.head,
          title: input.title,
          body: input.body ?? '',
          state: 'open',
          merged: false,
          headSha: head.value,
        };
        state.nextNumber += 1;
        state.pulls.push(pr);
        const saved = save(state);
        if (!saved.ok) return err(saved.error);
        return view(pr);
      });
    },
    async mergePullRequest(repo, number, input) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      return exclusive(() => mergeLocked(repo, number, input));
    },
    async isMerged(repo, number) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      const loaded = load();
      if (!loaded.ok) return err(loaded.error);
      const pr = loaded.value.pulls.find((p) => p.repo === repo && p.number === number);
      return pr === undefined ? err(notFound(repo, number)) : ok(pr.merged);
    },
    async compare(repo, base, head) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      const b = await resolveRev(repo, base);
      if (!b.ok) return err(b.error);
      const h = await resolveRev(repo, head);
      if (!h.ok) return err(h.error);
      const counts = await run(repo, ['rev-list', '--left-right', '--count', `${b.value}...${h.value}`]);
      if (!counts.ok) return err(counts.error);
      const [behindBy = 0, aheadBy = 0] = counts.value.stdout.trim().split(/\s+/).map(Number);
      const list = await run(repo, ['rev-list', '--reverse', `${b.value}..${h.value}`]);
      if (!list.ok) return err(list.error);
      return ok<Comparison>({ aheadBy, behindBy, commits: list.value.stdout.split('\n').filter((l) => l.length > 0) });
    },
    async resolveShaToBranch(repo, sha) {
      const badRepo = checkRepo(repo);
      if (badRepo) return err(badRepo);
      const out = await run(repo, [
        'for-each-ref',
        `--points-at=${sha}`,
        '--format=%(refname:lstrip=2)',
        'refs/heads/',
      ]);
      if (!out.ok) return err(out.error);
      const branches = out.value.stdout.split('\n').filter((l) => l.length > 0);
      return ok(branches.find((b) => b !== 'main' && b !== 'master') ?? branches[0]);
    },
    async listPullRequests(repo) {
      const loaded = load();
      const pulls = loaded.ok ? loaded.value.pulls : memory.pulls;
      return pulls.filter((p) => repo === undefined || p.repo === repo).map((p) => ({ ...p }));
    },
  };
  return Object.freeze(forge);
}

const REPO_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

function checkRepo(repo: string): ConveyorError | undefined {
  if (REPO_PATTERN.test(repo) && !repo.split('/').some((part) => part === '.' || part === '..')) return undefined;
  return new ConveyorError(TESTKIT_PKG, 'invalid_input', `repo must be "owner/name", got "${repo}"`, {
    details: { repo },
  });
}

function combine(statuses: readonly CommitStatus[]): CommitState {
  if (statuses.length === 0) return 'pending';
  const states = new Set(statuses.map((s) => s.state));
  if (states.has('error')) return 'error';
  if (states.has('failure')) return 'failure';
  if (states.has('pending')) return 'pending';
  if (states.has('warning')) return 'warning';
  return 'success';
}
