import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FakeReply } from '../http/fake-server.js';
import * as shapes from './gitea-json.js';

/** Options of {@link startGitBackedGitea}. */
export interface GitBackedGiteaOptions {
  /** the only token accepted by the API, and as the password of a git push */
  readonly token: string;
  /** where the bare repositories live (`<root>/<owner>/<name>.git`); a new temp dir by default */
  readonly root?: string;
  /** repositories to create, `owner/name`, each with a real `main` holding one commit; default `['acme/web']` */
  readonly repos?: readonly string[];
  /** files of the first commit of each repository; default a README */
  readonly initialFiles?: Readonly<Record<string, string>>;
  /** `token` (default): a push needs HTTP basic auth with the token as password; `none`: anyone may push */
  readonly pushAuth?: 'token' | 'none';
  /** called after every push the git transport accepted, with the refs it moved */
  readonly onPush?: (push: GitPush) => void;
}

/** What one push changed. */
export interface GitPush {
  readonly repo: string;
  readonly refs: readonly { readonly ref: string; readonly before: string; readonly after: string }[];
}

/** A pull request as the git-backed fake holds it. */
export interface GitGiteaPull {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly base: string;
  readonly head: string;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly mergeSha?: string;
  readonly headSha?: string;
  readonly mergeCount: number;
}

/** A running git-backed fake Gitea. */
export interface GitBackedGitea {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `<url>/api/v1` */
  readonly apiUrl: string;
  /** `<url>/<owner>/<name>.git`, for `git clone` */
  cloneUrl(repo: string): string;
  /** the bare repository on disk */
  barePath(repo: string): string;
  /**
   * Adds `commits` real commits (default 1, each adding a file) on top of
   * `from` (a branch or sha; default `main`) as branch `name`, straight in the
   * bare repository; resolves to the new head.
   */
  createBranch(
    repo: string,
    name: string,
    options?: { readonly from?: string; readonly commits?: number },
  ): Promise<string>;
  /** adds one real commit onto `branch` (as a push would); resolves to the new head */
  commit(repo: string, branch: string, message?: string): Promise<string>;
  /** the head of `branch`, read from the bare repository; `undefined` when there is none */
  branchHead(repo: string, branch: string): Promise<string | undefined>;
  pullRequests(repo: string): readonly GitGiteaPull[];
  /** every API request, in order (`METHOD path`) */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Gitea',
  GIT_AUTHOR_EMAIL: 'gitea@localhost',
  GIT_COMMITTER_NAME: 'Gitea',
  GIT_COMMITTER_EMAIL: 'gitea@localhost',
};

function git(
  cwd: string,
  args: readonly string[],
  input?: string,
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      [...args],
      { cwd, env: { ...process.env, ...GIT_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: stdout.toString(), err: stderr.toString() });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

type Pull = shapes.FakePullRecord;

type Status = shapes.GiteaStatusFields;

interface Repo {
  readonly full: string;
  readonly owner: string;
  readonly name: string;
  readonly id: number;
  readonly path: string;
  readonly pulls: Pull[];
  readonly statuses: Map<string, Status[]>;
  /** serialises ref updates of this repository's API merges */
  lock: Promise<unknown>;
}

const STATES = ['pending', 'success', 'error', 'failure', 'warning'];
const SHA = /^[0-9a-f]{40}$/;

/**
 * A fake Gitea whose repositories are real bare git repositories served over
 * git's smart HTTP (`git http-backend`), so clones, fetches and pushes are
 * real and every commit id is git's own. Its REST API answers the endpoints
 * the Gitea forge adapter uses (statuses, pull requests with real merges —
 * `merge`, `fast-forward-only`, `squash`, `rebase` when it fast-forwards —,
 * compare, branches) from those repositories, with Gitea's error shapes:
 * 401 without the token, 404, 405 (not mergeable, already merged), 409 (the
 * head moved: `head_commit_id`).
 *
 * @example
 * ```ts
 * const gitea = await startGitBackedGitea({ token: 'test-token' });
 * // git clone ${gitea.cloneUrl('acme/web')} …; createGiteaForge({ baseUrl: gitea.url, token: 'test-token' })
 * await gitea.close();
 * ```
 */
export async function startGitBackedGitea(options: GitBackedGiteaOptions): Promise<GitBackedGitea> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'conveyor-git-gitea-'));
  const repos = new Map<string, Repo>();
  const requests: string[] = [];
  let ids = 0;
  let url = '';

  async function createRepo(full: string): Promise<void> {
    const [owner, name, ...extra] = full.split('/');
    if (!owner || !name || extra.length > 0) throw new Error(`git-backed Gitea: repo must be owner/name, got ${full}`);
    const path = join(root, owner, `${name}.git`);
    mkdirSync(path, { recursive: true });
    await git(path, ['init', '--bare', '--quiet', '--initial-branch=main']);
    await git(path, ['config', 'http.receivepack', 'true']);
    const seed = mkdtempSync(join(tmpdir(), 'conveyor-git-gitea-seed-'));
    await git(seed, ['init', '--quiet', '--initial-branch=main']);
    for (const [file, text] of Object.entries(options.initialFiles ?? { 'README.md': `# ${name}\n` })) {
      mkdirSync(join(seed, file, '..'), { recursive: true });
      writeFileSync(join(seed, file), text);
    }
    await git(seed, ['add', '-A']);
    await git(seed, ['commit', '--quiet', '-m', 'initial commit']);
    const pushed = await git(seed, ['push', '--quiet', path, 'main:main']);
    if (pushed.code !== 0) throw new Error(`git-backed Gitea: seeding ${full} failed: ${pushed.err}`);
    ids += 1;
    repos.set(full.toLowerCase(), {
      full,
      owner,
      name,
      id: ids,
      path,
      pulls: [],
      statuses: new Map(),
      lock: Promise.resolve(),
    });
  }

  const getRepo = (full: string): Repo => {
    const repo = repos.get(full.toLowerCase());
    if (!repo) throw new Error(`git-backed Gitea: no repository ${full}`);
    return repo;
  };

  const revParse = async (repo: Repo, ref: string): Promise<string | undefined> => {
    if (!/^[\w./-]+$/.test(ref) || ref.startsWith('-')) return undefined;
    const branch = await git(repo.path, ['rev-parse', '--verify', '--quiet', `refs/heads/${ref}^{commit}`]);
    if (branch.code === 0) return branch.out.trim();
    if (!/^[0-9a-f]{7,40}$/.test(ref)) return undefined;
    const commit = await git(repo.path, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return commit.code === 0 ? commit.out.trim() : undefined;
  };
  const isAncestor = async (repo: Repo, a: string, b: string) =>
    (await git(repo.path, ['merge-base', '--is-ancestor', a, b])).code === 0;
  const casUpdate = async (repo: Repo, ref: string, to: string, from: string) =>
    (await git(repo.path, ['update-ref', `refs/heads/${ref}`, to, from])).code === 0;

  const exclusive = <T>(repo: Repo, work: () => Promise<T>): Promise<T> => {
    const run = repo.lock.then(work, work);
    repo.lock = run.catch(() => undefined);
    return run;
  };

  const pullJson = async (repo: Repo, pull: Pull) => {
    const baseSha = (await revParse(repo, pull.base)) ?? '';
    const headSha = pull.state === 'open' ? ((await revParse(repo, pull.head)) ?? '') : (pull.frozenHeadSha ?? '');
    const mergeable =
      pull.state === 'open' && headSha !== '' && (await mergeTree(repo, baseSha, headSha)) !== undefined;
    return shapes.giteaPullJson(url, repo, pull, { baseSha, headSha, mergeable });
  };

  /** the tree of `base` merged with `head`, or `undefined` on a conflict */
  async function mergeTree(repo: Repo, base: string, head: string): Promise<string | undefined> {
    if (base === '' || head === '') return undefined;
    const merged = await git(repo.path, ['merge-tree', '--write-tree', base, head]);
    return merged.code === 0 ? merged.out.split('\n')[0]?.trim() : undefined;
  }

  type Reply = FakeReply;
  const apiError = (status: number, message: string): Reply => shapes.giteaError(url, status, message);
  const notFound = () => shapes.giteaNotFound(url);
  const field = shapes.bodyField;
  const statusJson = (repo: Repo, sha: string, s: Status) => shapes.giteaStatusJson(url, repo, sha, s);

  async function merge(repo: Repo, pull: Pull, body: Record<string, unknown>): Promise<Reply> {
    if (pull.merged) return apiError(405, '');
    if (pull.state === 'closed') return notFound();
    const headSha = await revParse(repo, pull.head);
    const baseSha = await revParse(repo, pull.base);
    if (!headSha || !baseSha) return notFound();
    const expected = field(body, 'head_commit_id');
    if (typeof expected === 'string' && expected !== '' && expected.toLowerCase() !== headSha)
      return apiError(409, 'head out of date');
    const style = String(field(body, 'Do') ?? 'merge');
    const title = field(body, 'MergeTitleField', 'merge_title_field');
    const message = typeof title === 'string' && title ? title : `Merge pull request '${pull.title}' (#${pull.number})`;
    let mergeSha: string;
    if (style === 'fast-forward-only' || (style === 'rebase' && (await isAncestor(repo, baseSha, headSha)))) {
      if (!(await isAncestor(repo, baseSha, headSha)))
        return apiError(405, 'fast-forward only merge is not possible: the branches diverge');
      mergeSha = headSha;
    } else if (style === 'merge' || style === 'squash') {
      const tree = await mergeTree(repo, baseSha, headSha);
      if (!tree) return apiError(405, 'Please try again later');
      const parents = style === 'merge' ? ['-p', baseSha, '-p', headSha] : ['-p', baseSha];
      const made = await git(repo.path, ['commit-tree', tree, ...parents, '-m', message]);
      if (made.code !== 0) return apiError(500, 'commit-tree failed');
      mergeSha = made.out.trim();
    } else {
      return apiError(405, `merge style ${style} is not supported by this fake unless it fast-forwards`);
    }
    if (!(await casUpdate(repo, pull.base, mergeSha, baseSha)))
      return apiError(409, 'the base branch moved; try again');
    pull.frozenHeadSha = headSha;
    pull.state = 'closed';
    pull.merged = true;
    pull.mergeSha = mergeSha;
    pull.mergeCount += 1;
    pull.mergedAt = new Date().toISOString();
    if (field(body, 'delete_branch_after_merge') === true)
      await git(repo.path, ['update-ref', '-d', `refs/heads/${pull.head}`]);
    return { status: 200 };
  }

  async function api(
    method: string,
    path: string,
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    raw: string,
  ): Promise<Reply> {
    const auth = headers.authorization ?? '';
    const given =
      /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1] ?? query.get('token') ?? query.get('access_token') ?? undefined;
    if (given === undefined) return apiError(401, 'token is required');
    if (given !== options.token) return apiError(401, 'user does not exist [uid: 0, name: ]');
    const m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return notFound();
    const repo = repos.get(`${decodeURIComponent(m[1] ?? '')}/${decodeURIComponent(m[2] ?? '')}`.toLowerCase());
    if (!repo) return notFound();
    const rest = (m[3] ?? '')
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
    let body: Record<string, unknown> = {};
    if (method === 'POST' && raw.length > 0) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return apiError(422, '[body]: the body is not valid JSON');
      }
    }
    let g: RegExpExecArray | null;
    g = /^\/statuses\/([^/]+)$/.exec(rest);
    if (g) {
      const sha = g[1] ?? '';
      if (method === 'POST') {
        const state = field(body, 'state');
        if (typeof state !== 'string' || !STATES.includes(state))
          return apiError(422, `[State]: must be one of ${STATES.join(', ')}, got ${JSON.stringify(state ?? '')}`);
        if (!SHA.test(sha) || (await revParse(repo, sha)) !== sha) return apiError(404, `commit ${sha} does not exist`);
        ids += 1;
        const status: Status = {
          id: ids,
          state,
          context: String(field(body, 'context') ?? 'default'),
          description: String(field(body, 'description') ?? ''),
          targetUrl: String(field(body, 'target_url') ?? ''),
        };
        repo.statuses.set(sha, [...(repo.statuses.get(sha) ?? []), status]);
        return { status: 201, body: statusJson(repo, sha, status) };
      }
      const all = [...(repo.statuses.get(sha) ?? [])].reverse();
      const { page, headers: h } = shapes.paginate(query, all);
      return { status: 200, body: page.map((s) => statusJson(repo, sha, s)), headers: h };
    }
    g = /^\/commits\/(.+)\/status$/.exec(rest);
    if (method === 'GET' && g) {
      const sha = await revParse(repo, g[1] ?? '');
      if (!sha) return notFound();
      return {
        status: 200,
        body: shapes.giteaCombinedStatusJson(url, repo, sha, shapes.latestPerContext(repo.statuses.get(sha) ?? [])),
      };
    }
    if (rest === '/pulls') {
      if (method === 'GET') {
        const state = query.get('state') ?? 'open';
        const list = repo.pulls.filter((p) => state === 'all' || p.state === state).sort((a, b) => b.number - a.number);
        const { page, headers: h } = shapes.paginate(query, list);
        return { status: 200, body: await Promise.all(page.map((p) => pullJson(repo, p))), headers: h };
      }
      const base = String(field(body, 'base') ?? '');
      const head = String(field(body, 'head') ?? '').replace(/^[^:]+:/, '');
      const title = String(field(body, 'title') ?? '');
      const missing = [...(head ? [] : ['Head']), ...(base ? [] : ['Base']), ...(title ? [] : ['Title'])];
      if (missing.length > 0) return apiError(422, missing.map((f) => `[${f}]: Required`).join(', '));
      if (!(await revParse(repo, base)) || !(await revParse(repo, head))) return notFound();
      if (base === head)
        return apiError(422, 'Invalid PullRequest: There are no changes between the head and the base');
      const existing = repo.pulls.find((p) => p.state === 'open' && p.base === base && p.head === head);
      if (existing)
        return apiError(
          409,
          `pull request already exists for these targets [id: ${existing.number}, head_branch: ${head}, base_branch: ${base}]`,
        );
      const pull: Pull = {
        number: repo.pulls.length + 1,
        title,
        body: String(field(body, 'body') ?? ''),
        base,
        head,
        state: 'open',
        merged: false,
        mergeCount: 0,
        createdAt: new Date().toISOString(),
      };
      repo.pulls.push(pull);
      return { status: 201, body: await pullJson(repo, pull) };
    }
    g = /^\/pulls\/(\d+)\/merge$/.exec(rest);
    if (g) {
      const pull = repo.pulls.find((p) => p.number === Number(g?.[1]));
      if (method === 'GET') return pull?.merged ? { status: 204 } : { status: 404 };
      if (!pull) return notFound();
      return exclusive(repo, () => merge(repo, pull, body));
    }
    g = /^\/pulls\/(\d+)$/.exec(rest);
    if (method === 'GET' && g) {
      const pull = repo.pulls.find((p) => p.number === Number(g?.[1]));
      return pull ? { status: 200, body: await pullJson(repo, pull) } : notFound();
    }
    g = /^\/pulls\/([^/]+)\/(.+)$/.exec(rest);
    if (method === 'GET' && g) {
      const matching = repo.pulls.filter((p) => p.base === g?.[1] && p.head === g?.[2]);
      const pull = matching.find((p) => p.state === 'open') ?? matching.at(-1);
      return pull ? { status: 200, body: await pullJson(repo, pull) } : notFound();
    }
    g = /^\/compare\/(.+)$/.exec(rest);
    if (method === 'GET' && g) {
      const spec = g[1] ?? '';
      const sep = spec.includes('...') ? '...' : '..';
      const at = spec.indexOf(sep);
      const base = at > 0 ? await revParse(repo, spec.slice(0, at)) : undefined;
      const head = at > 0 ? await revParse(repo, spec.slice(at + sep.length)) : undefined;
      if (!base || !head) return notFound();
      const log = await git(repo.path, ['log', '--format=%H%x00%P%x00%s', `${base}..${head}`]);
      const commits = log.out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [sha = '', parents = '', subject = ''] = line.split('\0');
          return shapes.giteaCommitJson(url, repo, {
            sha,
            parents: parents.split(' ').filter(Boolean),
            message: subject,
          });
        });
      return { status: 200, body: { total_commits: commits.length, commits } };
    }
    if (rest === '/branches' && method === 'GET') {
      const refs = await git(repo.path, [
        'for-each-ref',
        '--format=%(refname:short)%00%(objectname)%00%(subject)',
        'refs/heads',
      ]);
      const list = refs.out
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\0'))
        .sort(([a = ''], [b = '']) => shapes.mainFirst(a, b));
      const { page, headers: h } = shapes.paginate(query, list);
      return {
        status: 200,
        headers: h,
        body: page.map(([name = '', sha = '', subject = '']) =>
          shapes.giteaBranchJson(url, repo, { name, sha, message: subject, protected: name === 'main' }),
        ),
      };
    }
    g = /^\/branches\/(.+)$/.exec(rest);
    if (method === 'DELETE' && g) {
      const name = g[1] ?? '';
      if (name === 'main') return apiError(403, 'branch main is protected');
      if (!(await revParse(repo, name))) return notFound();
      await git(repo.path, ['update-ref', '-d', `refs/heads/${name}`]);
      return { status: 204 };
    }
    return notFound();
  }

  /** `git http-backend` as CGI, streaming both ways. */
  function gitTransport(
    req: IncomingMessage,
    res: ServerResponse,
    full: string,
    pathInfo: string,
    query: string,
  ): void {
    const repo = repos.get(full.toLowerCase());
    if (!repo) {
      res.writeHead(404).end('repository not found\n');
      return;
    }
    const pushing = query.includes('service=git-receive-pack') || pathInfo.endsWith('/git-receive-pack');
    if (pushing && options.pushAuth !== 'none') {
      const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const password = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
      if (password !== options.token) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Gitea"' }).end('authentication required\n');
        return;
      }
    }
    const before = pushing
      ? git(repo.path, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads'])
      : undefined;
    const child = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: `/${repo.owner}/${repo.name}.git${pathInfo}`,
        QUERY_STRING: query,
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        REMOTE_USER: 'conveyor',
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => {
      if (!headersDone) res.writeHead(500).end('git http-backend failed\n');
      else res.end();
      if (before && options.onPush) {
        void Promise.all([
          before,
          git(repo.path, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads']),
        ]).then(([was, now]) => {
          const parse = (listed: { readonly out: string }): Map<string, string> =>
            new Map(
              listed.out
                .split('\n')
                .filter(Boolean)
                .map((line): [string, string] => {
                  const [ref = '', sha = ''] = line.split(' ');
                  return [ref, sha];
                }),
            );
          const a = parse(was);
          const b = parse(now);
          const zero = '0'.repeat(40);
          const refs = [...new Set([...a.keys(), ...b.keys()])]
            .filter((ref) => a.get(ref) !== b.get(ref))
            .map((ref) => ({ ref, before: a.get(ref) ?? zero, after: b.get(ref) ?? zero }));
          if (refs.length > 0) options.onPush?.({ repo: repo.full, refs });
        });
      }
    });
  }

  let made = 0;
  /** one real commit adding a file on top of `parent`, made with plumbing in the bare repository */
  async function commitOnto(repo: Repo, parent: string, message: string): Promise<string> {
    made += 1;
    const index = join(mkdtempSync(join(tmpdir(), 'conveyor-git-gitea-index-')), 'index');
    const env = { GIT_INDEX_FILE: index };
    const step = async (args: string[], input?: string) => {
      const out = await git(repo.path, args, input, env);
      if (out.code !== 0) throw new Error(`git-backed Gitea: git ${args[0]} failed: ${out.err}`);
      return out.out.trim();
    };
    await step(['read-tree', parent]);
    const blob = await step(['hash-object', '-w', '--stdin'], `${message}\n`);
    await step(['update-index', '--add', '--cacheinfo', `100644,${blob},changes/change-${made}.txt`]);
    const tree = await step(['write-tree']);
    return step(['commit-tree', tree, '-p', parent, '-m', message]);
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
    const transport = /^\/([^/]+)\/([^/]+?)\.git(\/.*)?$/.exec(parsed.pathname);
    if (transport) {
      gitTransport(req, res, `${transport[1]}/${transport[2]}`, transport[3] ?? '', parsed.search.slice(1));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      requests.push(`${method} ${parsed.pathname}`);
      void api(method, parsed.pathname, parsed.searchParams, req.headers, Buffer.concat(chunks).toString('utf8'))
        .catch((thrown: unknown) => apiError(500, String(thrown)))
        .then((reply) => {
          const headers: Record<string, string> = { ...(reply.headers ?? {}) };
          if (reply.body !== undefined) headers['content-type'] = 'application/json';
          res.writeHead(reply.status, headers).end(reply.body === undefined ? '' : JSON.stringify(reply.body));
        });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const repo of options.repos ?? ['acme/web']) await createRepo(repo);

  return {
    url,
    apiUrl: `${url}/api/v1`,
    requests,
    cloneUrl: (repo) => `${url}/${getRepo(repo).full}.git`,
    barePath: (repo) => getRepo(repo).path,
    branchHead: (repo, branch) => revParse(getRepo(repo), branch),
    async createBranch(repoName, name, opts = {}) {
      const repo = getRepo(repoName);
      const from = await revParse(repo, opts.from ?? 'main');
      if (!from) throw new Error(`git-backed Gitea: no ref ${opts.from ?? 'main'} in ${repoName}`);
      let head = from;
      for (let i = 0; i < (opts.commits ?? 1); i += 1) head = await commitOnto(repo, head, `${name}: change ${i + 1}`);
      await git(repo.path, ['update-ref', `refs/heads/${name}`, head]);
      return head;
    },
    async commit(repoName, branch, message) {
      const repo = getRepo(repoName);
      const head = await revParse(repo, branch);
      if (!head) throw new Error(`git-backed Gitea: no branch ${branch} in ${repoName}`);
      const sha = await commitOnto(repo, head, message ?? `${branch}: another change`);
      if (!(await casUpdate(repo, branch, sha, head))) throw new Error(`git-backed Gitea: ${branch} moved meanwhile`);
      return sha;
    },
    pullRequests: (repo) =>
      getRepo(repo).pulls.map((p) => ({
        number: p.number,
        title: p.title,
        body: p.body,
        base: p.base,
        head: p.head,
        state: p.state,
        merged: p.merged,
        mergeCount: p.mergeCount,
        ...(p.mergeSha === undefined ? {} : { mergeSha: p.mergeSha }),
        ...(p.frozenHeadSha === undefined ? {} : { headSha: p.frozenHeadSha }),
      })),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
