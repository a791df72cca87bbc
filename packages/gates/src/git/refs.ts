import { existsSync, mkdirSync } from 'node:fs';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { GATES_PKG, type GitCommonOptions, git, pickGitOptions } from './run.js';

/** Options of {@link fetch}. */
export interface FetchOptions extends GitCommonOptions {
  readonly cwd: string;
  /** default `origin` */
  readonly remote?: string;
  /** branches to fetch into `refs/remotes/<remote>/<branch>` */
  readonly branches: readonly string[];
}

/** What {@link fetch} brought in. */
export interface FetchOutcome {
  /** the fetched branches that the remote does not have */
  readonly missing: readonly string[];
}

/**
 * Fetches `branches` from `remote` into its remote-tracking refs (forced, so a
 * rewritten branch is seen as it is). A branch the remote lacks is reported in
 * `missing`, not as an error; any other failure is `git_failed`.
 *
 * @example
 * ```ts
 * const fetched = await fetch({ cwd: repoDir, branches: ['main', 'task/PLN-1'] });
 * if (fetched.ok && fetched.value.missing.length > 0) console.log('gone:', fetched.value.missing);
 * ```
 */
export async function fetch(options: FetchOptions): Promise<Result<FetchOutcome, ConveyorError>> {
  const remote = options.remote ?? 'origin';
  const refspecs = (branches: readonly string[]) => branches.map((b) => `+refs/heads/${b}:refs/remotes/${remote}/${b}`);
  const all = await git(['fetch', '--no-tags', remote, ...refspecs(options.branches)], {
    cwd: options.cwd,
    ...pickGitOptions(options),
  });
  if (all.ok) return ok({ missing: [] });
  if (!/couldn't find remote ref/i.test(String(all.error.details.stderr ?? ''))) return err(all.error);
  // One branch is missing: fetch one by one to tell which.
  const missing: string[] = [];
  for (const branch of options.branches) {
    const one = await git(['fetch', '--no-tags', remote, ...refspecs([branch])], {
      cwd: options.cwd,
      ...pickGitOptions(options),
    });
    if (one.ok) continue;
    if (!/couldn't find remote ref/i.test(String(one.error.details.stderr ?? ''))) return err(one.error);
    missing.push(branch);
    await git(['update-ref', '-d', `refs/remotes/${remote}/${branch}`], {
      cwd: options.cwd,
      ...pickGitOptions(options),
    });
  }
  return ok({ missing });
}

/**
 * Resolves a revision to a full commit sha (`<rev>^{commit}`).
 *
 * @example
 * ```ts
 * const sha = await revParse({ cwd: repoDir, rev: 'origin/main' });
 * ```
 */
export async function revParse(
  options: GitCommonOptions & { readonly cwd: string; readonly rev: string },
): Promise<Result<string, ConveyorError>> {
  const out = await git(['rev-parse', '--verify', '--quiet', `${options.rev}^{commit}`], {
    cwd: options.cwd,
    ...pickGitOptions(options),
  });
  if (!out.ok) {
    return err(
      new ConveyorError(GATES_PKG, 'git_failed', `cannot resolve ${options.rev} in ${options.cwd}`, {
        cause: out.error,
        details: { ...out.error.details, rev: options.rev },
      }),
    );
  }
  return ok(out.value.stdout.trim());
}

/**
 * True when `ancestor` is reachable from `descendant` (git's `merge-base --is-ancestor`).
 *
 * @example
 * ```ts
 * const merged = await isAncestor({ cwd: repoDir, ancestor: 'origin/task/PLN-1', descendant: 'origin/main' });
 * ```
 */
export async function isAncestor(
  options: GitCommonOptions & { readonly cwd: string; readonly ancestor: string; readonly descendant: string },
): Promise<Result<boolean, ConveyorError>> {
  const out = await git(['merge-base', '--is-ancestor', options.ancestor, options.descendant], {
    cwd: options.cwd,
    acceptExitCodes: [0, 1],
    ...pickGitOptions(options),
  });
  return out.ok ? ok(out.value.exitCode === 0) : err(out.error);
}

/** How far a head is from the base. */
export interface Divergence {
  /** commits on the base that the head lacks */
  readonly behind: number;
  /** commits on the head that the base lacks */
  readonly ahead: number;
}

/** Options of {@link isBehindMain}. */
export interface BehindOptions extends GitCommonOptions {
  readonly cwd: string;
  /** default `HEAD` */
  readonly head?: string;
  /** default `origin/main` */
  readonly base?: string;
}

/**
 * Counts how far `head` is behind and ahead of `base` (`rev-list --left-right --count`).
 * The head needs a rebase when `behind > 0`.
 *
 * @example
 * ```ts
 * const d = await isBehindMain({ cwd: worktree, base: 'origin/main' });
 * if (d.ok && d.value.behind > 0) await rebaseOntoMain({ cwd: worktree, onto: 'origin/main' });
 * ```
 */
export async function isBehindMain(options: BehindOptions): Promise<Result<Divergence, ConveyorError>> {
  const base = options.base ?? 'origin/main';
  const head = options.head ?? 'HEAD';
  const out = await git(['rev-list', '--left-right', '--count', `${base}...${head}`], {
    cwd: options.cwd,
    ...pickGitOptions(options),
  });
  if (!out.ok) return err(out.error);
  const [behind, ahead] = out.value.stdout.trim().split(/\s+/).map(Number);
  if (behind === undefined || ahead === undefined || Number.isNaN(behind) || Number.isNaN(ahead)) {
    return err(
      new ConveyorError(GATES_PKG, 'git_failed', `unexpected rev-list output: ${out.value.stdout.trim()}`, {
        details: { cwd: options.cwd, base, head },
      }),
    );
  }
  return ok({ behind, ahead });
}

/** Options of {@link ensureLocalClone}. */
export interface LocalCloneOptions extends GitCommonOptions {
  /** the bare repository to create or reuse */
  readonly dir: string;
  /** the remote's URL (or a local path) */
  readonly remoteUrl: string;
  /** default `origin` */
  readonly remote?: string;
}

/**
 * Creates (or reuses) a bare local repository with `remote` pointing at
 * `remoteUrl`: the object store the per-task worktrees share.
 *
 * @example
 * ```ts
 * const clone = await ensureLocalClone({ dir: '/srv/conveyor/acme-web.git', remoteUrl: 'https://git.example/acme/web.git' });
 * ```
 */
export async function ensureLocalClone(options: LocalCloneOptions): Promise<Result<string, ConveyorError>> {
  const remote = options.remote ?? 'origin';
  const common = pickGitOptions(options);
  if (!existsSync(options.dir)) {
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (thrown) {
      return err(
        new ConveyorError(GATES_PKG, 'git_failed', `cannot create ${options.dir}`, {
          cause: thrown,
          details: { dir: options.dir },
        }),
      );
    }
  }
  const inside = await git(['rev-parse', '--is-bare-repository'], {
    cwd: options.dir,
    acceptExitCodes: [0, 128],
    ...common,
  });
  if (!inside.ok) return err(inside.error);
  if (inside.value.exitCode !== 0 || inside.value.stdout.trim() !== 'true') {
    const init = await git(['init', '--bare', '--quiet', options.dir], { cwd: options.dir, ...common });
    if (!init.ok) return err(init.error);
  }
  const current = await git(['remote', 'get-url', remote], { cwd: options.dir, acceptExitCodes: [0, 2], ...common });
  if (!current.ok) return err(current.error);
  if (current.value.exitCode !== 0) {
    const add = await git(['remote', 'add', remote, options.remoteUrl], { cwd: options.dir, ...common });
    if (!add.ok) return err(add.error);
  } else if (current.value.stdout.trim() !== options.remoteUrl) {
    const set = await git(['remote', 'set-url', remote, options.remoteUrl], { cwd: options.dir, ...common });
    if (!set.ok) return err(set.error);
  }
  return ok(options.dir);
}

/** Options of {@link lsRemote}. */
export interface LsRemoteOptions extends GitCommonOptions {
  /** where git runs (any directory; a clone when `remote` is a remote's name) */
  readonly cwd: string;
  /** a remote's name or a URL (or local path) */
  readonly remote: string;
  /** the branches to look up */
  readonly branches: readonly string[];
}

/**
 * The current head of each of `branches` on `remote` (`git ls-remote`),
 * without fetching anything. A branch the remote lacks is absent from the map.
 *
 * @example
 * ```ts
 * const heads = await lsRemote({ cwd: repoDir, remote: 'origin', branches: ['main'] });
 * if (heads.ok) console.log(heads.value.get('main'));
 * ```
 */
export async function lsRemote(options: LsRemoteOptions): Promise<Result<ReadonlyMap<string, string>, ConveyorError>> {
  const refs = options.branches.map((b) => `refs/heads/${b.replace(/^refs\/heads\//, '')}`);
  const out = await git(['ls-remote', '--', options.remote, ...refs], {
    cwd: options.cwd,
    ...pickGitOptions(options),
  });
  if (!out.ok) return err(out.error);
  const heads = new Map<string, string>();
  for (const line of out.value.stdout.split('\n')) {
    const [sha, ref] = line.trim().split(/\s+/);
    if (sha === undefined || ref === undefined || !refs.includes(ref)) continue;
    heads.set(ref.slice('refs/heads/'.length), sha);
  }
  return ok(heads);
}

/**
 * The branch the remote's `HEAD` points at (its default branch), or
 * `undefined` when the remote does not say.
 *
 * @example
 * ```ts
 * const base = await remoteDefaultBranch({ cwd: tmpdir(), remote: 'https://git.example/acme/web.git' });
 * ```
 */
export async function remoteDefaultBranch(
  options: GitCommonOptions & { readonly cwd: string; readonly remote: string },
): Promise<Result<string | undefined, ConveyorError>> {
  const out = await git(['ls-remote', '--symref', '--', options.remote, 'HEAD'], {
    cwd: options.cwd,
    ...pickGitOptions(options),
  });
  if (!out.ok) return err(out.error);
  const match = /^ref:\s+refs\/heads\/(\S+)\s+HEAD$/m.exec(out.value.stdout);
  return ok(match?.[1]);
}
