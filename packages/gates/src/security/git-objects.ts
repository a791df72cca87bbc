import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';

const PKG = '@conveyor/gates';
/** The most git output one scan command may hold in memory. */
const MAX_OUTPUT_BYTES = 1024 * 1024 * 1024;
/** Objects asked of one `git cat-file --batch` run (bounds the memory one batch takes). */
const OBJECTS_PER_BATCH = 4000;

/**
 * Options every git command of a scan accepts. `onChild` hears the pid of each
 * child started, so a host that kills the scan (a worker thread terminated on
 * its deadline) can end the git processes that worker started too.
 */
export interface ScanGitOptions {
  readonly signal?: AbortSignal;
  readonly onChild?: (pid: number) => void;
}

/**
 * The environment of every scan git command: no system config or attributes,
 * no replace refs, no grafts, no prompts, the C locale, and none of the host's
 * own `GIT_*` variables (a host running inside a git hook must not point the
 * scan at another repository).
 */
function scanGitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_GRAFT_FILE: '/nonexistent/conveyor-no-grafts',
    GIT_OPTIONAL_LOCKS: '0',
  };
}

/**
 * Settings forced on every scan git command: the checkout's own `.git/config`
 * is written by the same agent whose branch is judged, so nothing in it may
 * change what the scan reads (attributes, textconv, fsmonitor hooks, quoting).
 */
const HARDENING = [
  '--no-replace-objects',
  '-c',
  'core.attributesFile=/dev/null',
  '-c',
  'core.quotePath=false',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'log.showSignature=false',
  '-c',
  'log.mailmap=false',
];

/**
 * Runs one hardened git command and returns its stdout as bytes. Never
 * rejects: a non-zero exit, an abort, or more than 1 GiB of output is an
 * error whose message names the command, never its output.
 */
export function runScanGit(
  cwd: string,
  args: readonly string[],
  options: ScanGitOptions & {
    input?: Buffer;
    acceptExitCodes?: readonly number[];
    /** hears stdout as it comes (then `stdout` is empty); returning `false` stops git */
    onData?: (chunk: Buffer) => boolean;
  } = {},
): Promise<Result<{ stdout: Buffer; exitCode: number }, ConveyorError>> {
  const what = `git ${args[0] ?? ''}`;
  return new Promise((resolve) => {
    if (options.signal?.aborted) {
      resolve(err(new ConveyorError(PKG, 'timeout', `${what} was not started: the scan was stopped`)));
      return;
    }
    const child = spawn('git', [...HARDENING, ...args], {
      cwd,
      env: scanGitEnv(),
      stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) options.onChild?.(child.pid);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    let stopped = false;
    let stderr = '';
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_OUTPUT_BYTES) {
        tooBig = true;
        child.kill('SIGKILL');
        return;
      }
      if (!options.onData) chunks.push(c);
      else if (!options.onData(c)) {
        stopped = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8');
    });
    child.on('error', (e) => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve(err(new ConveyorError(PKG, 'git_failed', `${what} could not start in ${cwd}`, { cause: e })));
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) {
        resolve(err(new ConveyorError(PKG, 'timeout', `${what} was stopped (deadline or abort)`)));
        return;
      }
      if (tooBig) {
        resolve(err(new ConveyorError(PKG, 'too_large', `${what} printed more than ${MAX_OUTPUT_BYTES} bytes`)));
        return;
      }
      if (stopped) {
        resolve(err(new ConveyorError(PKG, 'corrupt', `${what} was stopped: its output could not be read`)));
        return;
      }
      const exitCode = code ?? -1;
      if (!(options.acceptExitCodes ?? [0]).includes(exitCode)) {
        // git's own last stderr line names a ref or a path, never file content
        const last = stderr.trim().split('\n').slice(-1)[0] ?? '';
        resolve(
          err(
            new ConveyorError(PKG, 'git_failed', `${what} exited ${exitCode} in ${cwd}${last ? `: ${last}` : ''}`, {
              details: { args: [...args], exitCode },
            }),
          ),
        );
        return;
      }
      resolve(ok({ stdout: Buffer.concat(chunks), exitCode }));
    });
    if (options.input && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** The all-zero object id git prints for "no object" (a file absent on one side). */
export function isNullSha(sha: string): boolean {
  return /^0+$/.test(sha);
}

/** One path a commit changed, with the blob on each side (raw diff of the commit). */
export interface RangeChange {
  /** the path in the commit */
  readonly path: string;
  /** the path before (a rename or copy source), when it differs */
  readonly fromPath?: string;
  /** git's status letter(s), e.g. `M`, `A`, `D`, `R100`, or `MM` for a merge */
  readonly status: string;
  readonly newMode: string;
  /** the blob in the commit (all zeros when deleted) */
  readonly newSha: string;
  /** the blob in each parent at `fromPath ?? path` (all zeros when absent) */
  readonly parentShas: readonly string[];
}

/** One commit of the range with the paths it changed. */
export interface RangeCommit {
  readonly sha: string;
  readonly changes: readonly RangeChange[];
}

/** The commits of a range as git prints them: usable before git is done. */
export interface RangeCommitStream {
  /** resolves once at least `count` commits are complete, or the log ended (then with all it holds) */
  atLeast(count: number): Promise<readonly RangeCommit[]>;
  /** every commit, checked against `git rev-list --count`: an error, never a partial list, when anything failed */
  readonly done: Promise<Result<RangeCommit[], ConveyorError>>;
}

/**
 * {@link readRangeCommits}, read while git prints it: a scan starts on the
 * first commits while git is still writing the diffs of the rest (with
 * merges' combined diffs, most of the command's time).
 *
 * @internal the history scan's
 */
export function streamRangeCommits(
  cwd: string,
  baseSha: string,
  headSha: string,
  options: ScanGitOptions = {},
): RangeCommitStream {
  const nonce = `conveyor-${randomBytes(16).toString('hex')}`;
  const spec = `${baseSha}..${headSha}`;
  const commits: { sha: string; changes: RangeChange[] }[] = [];
  const corrupt = (why: string) =>
    new ConveyorError(PKG, 'corrupt', `git log of ${spec} could not be read: ${why}`, { details: { spec } });
  let failure: ConveyorError | undefined;
  let ended = false;
  // an entry whose paths are still to come: the fields, then how many path tokens follow
  let entry: { newMode: string; shas: string[]; status: string; paths: string[]; wanted: number } | undefined;
  let rest = Buffer.alloc(0);
  const waiters: { count: number; resolve: (c: readonly RangeCommit[]) => void }[] = [];
  /** commits before the last one are complete (the last may still get changes) */
  const complete = () => (ended ? commits.length : Math.max(0, commits.length - 1));
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i -= 1) {
      const w = waiters[i] as (typeof waiters)[number];
      if (ended || complete() >= w.count) {
        waiters.splice(i, 1);
        w.resolve(commits.slice(0, complete()));
      }
    }
  };
  const token = (raw: string): ConveyorError | undefined => {
    if (entry) {
      entry.paths.push(raw);
      if (entry.paths.length < entry.wanted) return undefined;
      const current = commits[commits.length - 1] as (typeof commits)[number];
      const [first, second] = entry.paths as [string, string | undefined];
      current.changes.push({
        path: entry.wanted === 2 ? (second as string) : first,
        ...(entry.wanted === 2 ? { fromPath: first } : {}),
        status: entry.status,
        newMode: entry.newMode,
        newSha: entry.shas[entry.shas.length - 1] as string,
        parentShas: entry.shas.slice(0, -1),
      });
      entry = undefined;
      return undefined;
    }
    const t = raw.replace(/^\n+/, '');
    if (t === '') return undefined;
    if (t.startsWith(`${nonce} `)) {
      const sha = t.slice(nonce.length + 1).trim();
      if (!/^[0-9a-f]{40,64}$/.test(sha)) return corrupt('a commit header holds no object id');
      commits.push({ sha, changes: [] });
      return undefined;
    }
    if (!t.startsWith(':') || commits.length === 0) return corrupt('unexpected output outside a raw diff entry');
    const colons = /^:+/.exec(t)?.[0].length ?? 1;
    const fields = t.slice(colons).split(' ');
    if (fields.length !== 2 * (colons + 1) + 1) return corrupt('a raw diff entry has the wrong number of fields');
    const status = fields[2 * colons + 2] as string;
    entry = {
      newMode: fields[colons] as string,
      shas: fields.slice(colons + 1, 2 * colons + 2),
      status,
      paths: [],
      wanted: colons === 1 && /^[RC]/.test(status) ? 2 : 1,
    };
    return undefined;
  };
  const onData = (chunk: Buffer): boolean => {
    if (failure) return false;
    let buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    const before = commits.length;
    let at = buf.indexOf(0);
    let from = 0;
    while (at !== -1) {
      const bad = token(buf.toString('utf8', from, at));
      if (bad) {
        failure = bad;
        return false;
      }
      from = at + 1;
      at = buf.indexOf(0, from);
    }
    buf = buf.subarray(from);
    rest = Buffer.from(buf);
    if (commits.length !== before) wake();
    return true;
  };
  const done = (async (): Promise<Result<RangeCommit[], ConveyorError>> => {
    const [log, count] = await Promise.all([
      runScanGit(
        cwd,
        [
          'log',
          '--reverse',
          `--format=${nonce} %H`,
          '--raw',
          '-z',
          '-c',
          '-M',
          '--no-abbrev',
          '--root',
          '--no-color',
          spec,
          '--',
        ],
        { ...options, onData },
      ),
      runScanGit(cwd, ['rev-list', '--count', spec, '--'], options),
    ]);
    if (!failure && rest.length > 0) failure = token(rest.toString('utf8')) ?? undefined;
    if (!failure && entry) failure = corrupt('a raw diff entry has no path');
    ended = true;
    wake();
    if (failure) return err(failure);
    if (!log.ok) return err(log.error);
    if (!count.ok) return err(count.error);
    const expected = Number(count.value.stdout.toString('utf8').trim());
    if (commits.length !== expected) {
      return err(corrupt(`read ${commits.length} commits where git rev-list counts ${expected}`));
    }
    return ok(commits);
  })();
  return {
    atLeast: (count) =>
      ended || complete() >= count
        ? Promise.resolve(commits.slice(0, complete()))
        : new Promise((resolve) => waiters.push({ count, resolve })),
    done,
  };
}

/**
 * Lists every commit of `base..head` with its raw changes (`git log --raw -z
 * -c -M --root`): NUL-separated fields, and a per-run random nonce as the only
 * commit header, so no commit message, path or content can pose as structure.
 * For a merge only paths that differ from every parent are listed (what the
 * merge itself brought). The number of commits is checked against `git
 * rev-list --count`; a mismatch is an error, never a partial scan.
 */
export async function readRangeCommits(
  cwd: string,
  baseSha: string,
  headSha: string,
  options: ScanGitOptions = {},
): Promise<Result<RangeCommit[], ConveyorError>> {
  return streamRangeCommits(cwd, baseSha, headSha, options).done;
}

/** A git object as stored. */
export interface GitObject {
  readonly type: string;
  readonly content: Buffer;
}

/**
 * Reads objects exactly as stored with `git cat-file --batch` (no filters, no
 * textconv, no attributes). Missing objects are absent from the map.
 */
export async function readObjects(
  cwd: string,
  shas: readonly string[],
  options: ScanGitOptions = {},
): Promise<Result<Map<string, GitObject>, ConveyorError>> {
  const out = new Map<string, GitObject>();
  const unique = [...new Set(shas)].filter((s) => !isNullSha(s));
  for (let from = 0; from < unique.length; from += OBJECTS_PER_BATCH) {
    const batch = unique.slice(from, from + OBJECTS_PER_BATCH);
    const run = await runScanGit(cwd, ['cat-file', '--batch'], {
      ...options,
      input: Buffer.from(`${batch.join('\n')}\n`, 'utf8'),
    });
    if (!run.ok) return err(run.error);
    const buf = run.value.stdout;
    let pos = 0;
    for (const sha of batch) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl === -1) return err(new ConveyorError(PKG, 'corrupt', 'git cat-file --batch output ended early'));
      const header = buf.subarray(pos, nl).toString('utf8');
      pos = nl + 1;
      if (header.endsWith(' missing')) continue;
      const [id, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (id !== sha || type === undefined || !Number.isInteger(size) || pos + size > buf.length) {
        return err(new ConveyorError(PKG, 'corrupt', 'git cat-file --batch printed an unexpected header'));
      }
      out.set(sha, { type, content: buf.subarray(pos, pos + size) });
      pos += size + 1;
    }
  }
  return ok(out);
}

/**
 * One `git cat-file --batch` kept running for a whole scan: each
 * {@link ObjectReader.read} writes its object ids to git and resolves once
 * git has printed them all, read while git prints them (no process per
 * batch, no copy of the whole output).
 */
export interface ObjectReader {
  /**
   * The objects of `shas` exactly as stored (missing ones absent from the
   * map). Never rejects: git failing, stopping or printing what was not asked
   * for is an error, for this read and every later one.
   */
  read(shas: readonly string[]): Promise<Result<Map<string, GitObject>, ConveyorError>>;
  /** Ends git (its input closed, then killed if it has not exited); resolves once it has exited. */
  close(): Promise<void>;
}

interface PendingRead {
  readonly shas: readonly string[];
  readonly out: Map<string, GitObject>;
  readonly resolve: (r: Result<Map<string, GitObject>, ConveyorError>) => void;
  /** the next of `shas` git prints */
  next: number;
  /** the bytes of this read so far (bounded as one run's output is) */
  bytes: number;
}

/**
 * Starts the scan's {@link ObjectReader} in `cwd` (hardened as every scan git
 * command; `onChild` hears its pid, `signal` kills it).
 *
 * @example
 * ```ts
 * const reader = openObjectReader('/repo');
 * const objects = await reader.read([commitSha, blobSha]);
 * await reader.close();
 * ```
 */
export function openObjectReader(cwd: string, options: ScanGitOptions = {}): ObjectReader {
  const queue: PendingRead[] = [];
  let failure: ConveyorError | undefined;
  let exited = false;
  let onExit: () => void = () => {};
  const exitedPromise = new Promise<void>((resolve) => {
    onExit = resolve;
  });
  const fail = (e: ConveyorError) => {
    failure ??= e;
    for (const r of queue.splice(0)) r.resolve(err(failure));
  };
  if (options.signal?.aborted) {
    fail(new ConveyorError(PKG, 'timeout', 'git cat-file was not started: the scan was stopped'));
    exited = true;
    onExit();
    return {
      read: async () => err(failure as ConveyorError),
      close: async () => {},
    };
  }
  const child = spawn('git', [...HARDENING, 'cat-file', '--batch'], {
    cwd,
    env: scanGitEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) options.onChild?.(child.pid);
  let stderr = '';
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  child.stdin?.on('error', () => {});
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });

  // the parser: a header line, then (unless missing) the content and a newline
  let header: Buffer[] = [];
  let body: { sha: string; type: string; data: Buffer; filled: number } | undefined;
  let needNewline = false;
  const corrupt = (why: string) => {
    fail(new ConveyorError(PKG, 'corrupt', `git cat-file --batch ${why}`));
    child.kill('SIGKILL');
  };
  /** The object just read belongs to the first pending read; resolves it when it was its last. */
  const deliver = (sha: string, object: GitObject | undefined): boolean => {
    const r = queue[0];
    if (!r || r.shas[r.next] !== sha) {
      corrupt('printed an unexpected header');
      return false;
    }
    if (object) {
      r.out.set(sha, object);
      r.bytes += object.content.length;
      if (r.bytes > MAX_OUTPUT_BYTES) {
        fail(
          new ConveyorError(PKG, 'too_large', `git cat-file printed more than ${MAX_OUTPUT_BYTES} bytes for one read`),
        );
        child.kill('SIGKILL');
        return false;
      }
    }
    r.next += 1;
    if (r.next === r.shas.length) {
      queue.shift();
      r.resolve(ok(r.out));
    }
    return true;
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    let pos = 0;
    while (pos < chunk.length && failure === undefined) {
      if (needNewline) {
        if (chunk[pos] !== 0x0a) return corrupt('printed no newline after an object');
        needNewline = false;
        pos += 1;
        continue;
      }
      if (body) {
        const take = Math.min(body.data.length - body.filled, chunk.length - pos);
        chunk.copy(body.data, body.filled, pos, pos + take);
        body.filled += take;
        pos += take;
        if (body.filled === body.data.length) {
          const done = body;
          body = undefined;
          needNewline = true;
          if (!deliver(done.sha, { type: done.type, content: done.data })) return;
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) {
        header.push(chunk.subarray(pos));
        if (header.reduce((n, b) => n + b.length, 0) > 512) return corrupt('printed a header too long');
        return;
      }
      header.push(chunk.subarray(pos, nl));
      const line = Buffer.concat(header).toString('utf8');
      header = [];
      pos = nl + 1;
      if (line.endsWith(' missing')) {
        if (!deliver(line.slice(0, -' missing'.length), undefined)) return;
        continue;
      }
      const [id, type, sizeText] = line.split(' ');
      const size = Number(sizeText);
      if (id === undefined || type === undefined || !Number.isSafeInteger(size) || size < 0) {
        return corrupt('printed an unexpected header');
      }
      if (size > MAX_OUTPUT_BYTES) return corrupt('announced an object over the size limit');
      if (chunk.length - pos >= size) {
        // the whole object in this chunk: a view of it, no copy
        const content = chunk.subarray(pos, pos + size);
        pos += size;
        needNewline = true;
        if (!deliver(id, { type, content })) return;
      } else body = { sha: id, type, data: Buffer.allocUnsafe(size), filled: 0 };
    }
  });
  child.on('error', (e) => {
    fail(new ConveyorError(PKG, 'git_failed', `git cat-file could not start in ${cwd}`, { cause: e }));
    if (child.pid === undefined) {
      exited = true;
      onExit();
    }
  });
  child.on('close', (code) => {
    exited = true;
    options.signal?.removeEventListener('abort', onAbort);
    // whatever the exit, no later read can be answered
    if (options.signal?.aborted)
      fail(new ConveyorError(PKG, 'timeout', 'git cat-file was stopped (deadline or abort)'));
    else {
      const last = stderr.trim().split('\n').slice(-1)[0] ?? '';
      fail(
        new ConveyorError(PKG, 'git_failed', `git cat-file exited ${code ?? -1} in ${cwd}${last ? `: ${last}` : ''}`, {
          details: { args: ['cat-file', '--batch'], exitCode: code ?? -1 },
        }),
      );
    }
    onExit();
  });

  return {
    read(shas) {
      const unique = [...new Set(shas)].filter((s) => !isNullSha(s));
      if (failure) return Promise.resolve(err(failure));
      if (unique.length === 0) return Promise.resolve(ok(new Map()));
      // an id is one line of hex: anything else would be read by git as another request
      if (unique.some((s) => !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(s))) {
        return Promise.resolve(err(new ConveyorError(PKG, 'invalid_input', 'an object id to read is not hex')));
      }
      return new Promise((resolve) => {
        queue.push({ shas: unique, out: new Map(), resolve, next: 0, bytes: 0 });
        child.stdin?.write(`${unique.join('\n')}\n`);
      });
    },
    async close() {
      if (!exited) {
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exitedPromise;
        clearTimeout(timer);
      }
      fail(new ConveyorError(PKG, 'git_failed', 'git cat-file was closed'));
    },
  };
}

/** One entry of a tree, as `git ls-tree` lists it. */
export interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly sha: string;
}

/**
 * The tree entry at `path` in commit `sha` (`git ls-tree -z --full-tree`), or
 * `undefined` when the path does not exist there. Git resolves the path
 * through trees only, so a symlinked directory on the way is "absent", and the
 * entry's own mode tells a symlink (`120000`) from a file.
 */
export async function treeEntryAt(
  cwd: string,
  sha: string,
  path: string,
  options: ScanGitOptions = {},
): Promise<Result<TreeEntry | undefined, ConveyorError>> {
  const entries = await treeEntriesAt(cwd, sha, [path], options);
  return entries.ok ? ok(entries.value.get(path)) : err(entries.error);
}

/**
 * {@link treeEntryAt} for several paths with one `git ls-tree`: the entries
 * found, by path (a path absent from the commit has none).
 */
export async function treeEntriesAt(
  cwd: string,
  sha: string,
  paths: readonly string[],
  options: ScanGitOptions = {},
): Promise<Result<Map<string, TreeEntry>, ConveyorError>> {
  const found = new Map<string, TreeEntry>();
  if (paths.length === 0) return ok(found);
  const run = await runScanGit(cwd, ['ls-tree', '-z', '--full-tree', sha, '--', ...paths], options);
  if (!run.ok) return err(run.error);
  const wanted = new Set(paths);
  for (const rec of run.value.stdout.toString('utf8').split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab === -1) continue;
    const [mode = '', type = '', id = ''] = rec.slice(0, tab).split(' ');
    const path = rec.slice(tab + 1);
    if (wanted.has(path)) found.set(path, { mode, type, sha: id });
  }
  return ok(found);
}
