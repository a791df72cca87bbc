import { createHash } from 'node:crypto';
import { type FakeHttpServer, type FakeReply, type RecordedRequest, startFakeHttpServer } from '../http/fake-server.js';
import * as shapes from './gitea-json.js';
import {
  BUILTIN_GITEA_SPEC,
  commitStateEnum,
  type GiteaSpecSource,
  loadGiteaSpec,
  type SwaggerSpec,
  validateRequestBody,
} from './swagger-validator.js';

/** Options of {@link startFakeGitea}. */
export interface FakeGiteaOptions {
  /** the only token accepted (`Authorization: token …` or `Bearer …`) */
  readonly token: string;
  /** repositories to create, as `owner/name`, each with a `main` branch holding one commit; default `['acme/web']` */
  readonly repos?: readonly string[];
  /**
   * The swagger spec request bodies are checked against: `'auto'` (default)
   * loads the real one from the shared fixtures and falls back to the fake's
   * own minimal schemas; `'builtin'` forces the fallback; or pass a spec.
   */
  readonly spec?: 'auto' | 'builtin' | SwaggerSpec;
}

/** A pull request as the fake holds it. */
export interface FakeGiteaPull {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly base: string;
  readonly head: string;
  readonly headSha: string;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly mergeable: boolean;
  readonly mergeSha?: string;
  /** how many times it was merged (more than 1 would be a double merge) */
  readonly mergeCount: number;
}

/** A commit status as the fake holds it. */
export interface FakeGiteaStatus {
  readonly id: number;
  readonly state: string;
  readonly context: string;
  readonly description: string;
  readonly targetUrl: string;
}

/** A running fake Gitea: the HTTP server plus helpers that shape its in-memory state. */
export interface FakeGitea extends FakeHttpServer {
  /** `<url>/api/v1` */
  readonly apiUrl: string;
  /** where the request schemas came from */
  readonly specSource: GiteaSpecSource;
  /** adds a repository with a `main` branch holding one commit; returns that commit */
  createRepo(repo: string): string;
  /** adds `commits` new commits (default 1) on top of `from` (a branch or sha; default `main`) as branch `name`; returns its head */
  createBranch(repo: string, name: string, options?: { readonly from?: string; readonly commits?: number }): string;
  /** pushes one new commit onto `branch` (the head moves, as on a push); returns the new head */
  commit(repo: string, branch: string, message?: string): string;
  /** points `branch` at `sha` (a force push) */
  moveBranch(repo: string, branch: string, sha: string): void;
  /** the head sha of `branch`, or `undefined` */
  branchHead(repo: string, branch: string): string | undefined;
  /** opens a pull request directly in the state; returns its number */
  openPullRequest(
    repo: string,
    input: { readonly base: string; readonly head: string; readonly title?: string },
  ): number;
  /** the pull request `number`, or `undefined` */
  pullRequest(repo: string, number: number): FakeGiteaPull | undefined;
  /** marks a pull request (un)mergeable, as a conflict would */
  setMergeable(repo: string, number: number, mergeable: boolean): void;
  /** every status ever posted on `sha`, oldest first */
  statuses(repo: string, sha: string): readonly FakeGiteaStatus[];
}

interface Commit {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly seq: number;
}

interface Pull extends shapes.FakePullRecord {
  /** the head the pull request shows once its branch is gone */
  frozenHeadSha: string;
  mergeable: boolean;
}

interface Repo {
  readonly owner: string;
  readonly name: string;
  readonly id: number;
  readonly commits: Map<string, Commit>;
  readonly branches: Map<string, string>;
  readonly pulls: Pull[];
  readonly statuses: Map<string, FakeGiteaStatus[]>;
}

/**
 * Starts a fake Gitea on 127.0.0.1 (port 0) serving the endpoints the Gitea
 * forge adapter uses — commit statuses and combined status, pull requests
 * (get, get by base/head, list, create, merge, is-merged), compare, branches —
 * over in-memory repositories. Request bodies are checked against the real
 * swagger spec (Gitea 1.22, from the shared fixtures) or, when it is absent, a
 * minimal built-in copy; errors have Gitea's shape `{ message, url }` and
 * codes (401 without a token, 404, 405, 409, 422). A merge accepts both the
 * 1.22 option names (`Do`, `MergeTitleField`, …) and the newer ones (`do`,
 * `merge_title_field`, …). Faults are injected through the shared base.
 *
 * @example
 * ```ts
 * const gitea = await startFakeGitea({ token: 'test-token' });
 * const head = gitea.createBranch('acme/web', 'task/PLN-1', { commits: 2 });
 * gitea.inject({ kind: 'status', status: 503, times: 1 });
 * // createGiteaForge({ baseUrl: gitea.url, token: 'test-token' }) …
 * await gitea.close();
 * ```
 */
export async function startFakeGitea(options: FakeGiteaOptions): Promise<FakeGitea> {
  const loaded =
    options.spec === 'builtin' ? undefined : typeof options.spec === 'object' ? options.spec : loadGiteaSpec();
  const spec = loaded ?? BUILTIN_GITEA_SPEC;
  const specSource: GiteaSpecSource = loaded ? 'swagger-v1.22.json' : 'builtin';
  const states = commitStateEnum(spec);
  const repos = new Map<string, Repo>();
  let seq = 0;
  let ids = 0;
  let url = '';

  const apiError = (status: number, message: string): FakeReply => shapes.giteaError(url, status, message);
  const notFound = (): FakeReply => shapes.giteaNotFound(url);
  const field = shapes.bodyField;

  const mkCommit = (repo: Repo, parents: string[], message: string): string => {
    seq += 1;
    const sha = createHash('sha1')
      .update(`${repo.owner}/${repo.name}\n${seq}\n${parents.join(',')}\n${message}`)
      .digest('hex');
    repo.commits.set(sha, { sha, parents, message, seq });
    return sha;
  };

  const getRepo = (full: string): Repo => {
    const repo = repos.get(full.toLowerCase());
    if (!repo) throw new Error(`fake Gitea: no repository ${full}`);
    return repo;
  };

  const resolveRef = (repo: Repo, ref: string): string | undefined => {
    const branch = repo.branches.get(ref);
    if (branch) return branch;
    const lower = ref.toLowerCase();
    if (repo.commits.has(lower)) return lower;
    if (/^[0-9a-f]{7,39}$/.test(lower)) {
      const matches = [...repo.commits.keys()].filter((s) => s.startsWith(lower));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  };

  const ancestors = (repo: Repo, sha: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const current = stack.pop();
      if (current === undefined || seen.has(current)) continue;
      seen.add(current);
      for (const p of repo.commits.get(current)?.parents ?? []) stack.push(p);
    }
    return seen;
  };

  const headShaOf = (repo: Repo, pull: Pull): string =>
    pull.state === 'open' ? (repo.branches.get(pull.head) ?? pull.frozenHeadSha) : pull.frozenHeadSha;

  const createRepo = (full: string): string => {
    const [owner, name, ...extra] = full.split('/');
    if (!owner || !name || extra.length > 0) throw new Error(`fake Gitea: repo must be owner/name, got ${full}`);
    ids += 1;
    const repo: Repo = {
      owner,
      name,
      id: ids,
      commits: new Map(),
      branches: new Map(),
      pulls: [],
      statuses: new Map(),
    };
    const initial = mkCommit(repo, [], 'initial commit');
    repo.branches.set('main', initial);
    repos.set(full.toLowerCase(), repo);
    return initial;
  };

  const pullJson = (repo: Repo, pull: Pull) =>
    shapes.giteaPullJson(url, repo, pull, {
      baseSha: repo.branches.get(pull.base) ?? '',
      headSha: headShaOf(repo, pull),
      mergeable: pull.mergeable,
    });
  const statusJson = (repo: Repo, sha: string, s: FakeGiteaStatus) => shapes.giteaStatusJson(url, repo, sha, s);

  /** The merge options under their 1.22 names, whichever spelling was sent. */
  const normaliseMergeBody = (body: unknown): unknown => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
    const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    const renames: Record<string, string> = {
      merge_title_field: 'MergeTitleField',
      merge_message_field: 'MergeMessageField',
      merge_commit_id: 'MergeCommitID',
    };
    for (const [modern, old] of Object.entries(renames)) {
      if (modern in out && !(old in out)) out[old] = out[modern];
      delete out[modern];
    }
    return out;
  };
  type Route = {
    method: string;
    pattern: RegExp;
    template: string;
    handle: (req: RecordedRequest, repo: Repo, m: string[]) => FakeReply;
  };
  const routes: Route[] = [];
  const route = (method: string, template: string, pattern: RegExp, handle: Route['handle']) =>
    routes.push({ method, template, pattern, handle });

  route('POST', '/repos/{owner}/{repo}/statuses/{sha}', /^\/statuses\/([^/]+)$/, (req, repo, [sha = '']) => {
    const body = req.json as Record<string, unknown>;
    const state = field(body, 'state');
    if (typeof state !== 'string' || !states.includes(state)) {
      return apiError(422, `[State]: must be one of ${states.join(', ')}, got ${JSON.stringify(state ?? '')}`);
    }
    const resolved = resolveRef(repo, sha);
    if (!resolved || resolved !== sha.toLowerCase()) return apiError(404, `commit ${sha} does not exist`);
    ids += 1;
    const status: FakeGiteaStatus = {
      id: ids,
      state,
      context: String(field(body, 'context') ?? 'default'),
      description: String(field(body, 'description') ?? ''),
      targetUrl: String(field(body, 'target_url') ?? ''),
    };
    repo.statuses.set(resolved, [...(repo.statuses.get(resolved) ?? []), status]);
    return { status: 201, body: statusJson(repo, resolved, status) };
  });

  route('GET', '/repos/{owner}/{repo}/statuses/{sha}', /^\/statuses\/([^/]+)$/, (req, repo, [sha = '']) => {
    const resolved = resolveRef(repo, sha);
    const all = resolved ? [...(repo.statuses.get(resolved) ?? [])].reverse() : [];
    const { page, headers } = shapes.paginate(req.query, all);
    return { status: 200, body: page.map((s) => statusJson(repo, resolved ?? sha, s)), headers };
  });

  route('GET', '/repos/{owner}/{repo}/commits/{ref}/status', /^\/commits\/(.+)\/status$/, (req, repo, [ref = '']) => {
    const sha = resolveRef(repo, ref);
    if (!sha) return notFound();
    const latest = shapes.latestPerContext(repo.statuses.get(sha) ?? []);
    if (latest.length === 0)
      return {
        status: 200,
        body: { state: '', sha: '', total_count: 0, statuses: null, url: '', commit_url: '', repository: null },
      };
    const { page, headers } = shapes.paginate(req.query, latest);
    return { status: 200, headers, body: shapes.giteaCombinedStatusJson(url, repo, sha, latest, page) };
  });

  route('GET', '/repos/{owner}/{repo}/pulls', /^\/pulls$/, (req, repo) => {
    const state = req.query.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) return apiError(422, `[state]: must be one of closed, open, all`);
    const list = repo.pulls.filter((p) => state === 'all' || p.state === state).sort((a, b) => b.number - a.number);
    const { page, headers } = shapes.paginate(req.query, list);
    return { status: 200, body: page.map((p) => pullJson(repo, p)), headers };
  });

  route('POST', '/repos/{owner}/{repo}/pulls', /^\/pulls$/, (req, repo) => {
    const body = req.json as Record<string, unknown>;
    const base = field(body, 'base');
    const head = field(body, 'head');
    const title = field(body, 'title');
    const missing = [
      ...(typeof head === 'string' && head ? [] : ['Head']),
      ...(typeof base === 'string' && base ? [] : ['Base']),
      ...(typeof title === 'string' && title ? [] : ['Title']),
    ];
    if (missing.length > 0) return apiError(422, missing.map((f) => `[${f}]: Required`).join(', '));
    const baseName = String(base);
    const headName = String(head).replace(/^[^:]+:/, '');
    if (!repo.branches.has(baseName) || !repo.branches.has(headName)) return notFound();
    if (baseName === headName)
      return apiError(422, 'Invalid PullRequest: There are no changes between the head and the base');
    const existing = repo.pulls.find((p) => p.state === 'open' && p.base === baseName && p.head === headName);
    if (existing) {
      return apiError(
        409,
        `pull request already exists for these targets [id: ${existing.number}, issue_id: ${existing.number}, head_repo_id: ${repo.id}, base_repo_id: ${repo.id}, head_branch: ${headName}, base_branch: ${baseName}]`,
      );
    }
    const pull = addPull(repo, baseName, headName, String(title), String(field(body, 'body') ?? ''));
    return { status: 201, body: pullJson(repo, pull) };
  });

  route('GET', '/repos/{owner}/{repo}/pulls/{index}/merge', /^\/pulls\/(\d+)\/merge$/, (_req, repo, [index = '']) => {
    const pull = repo.pulls.find((p) => p.number === Number(index));
    return pull?.merged ? { status: 204 } : { status: 404 };
  });

  route('POST', '/repos/{owner}/{repo}/pulls/{index}/merge', /^\/pulls\/(\d+)\/merge$/, (req, repo, [index = '']) => {
    const pull = repo.pulls.find((p) => p.number === Number(index));
    if (!pull) return notFound();
    const body = req.json as Record<string, unknown>;
    // Gitea 1.22's order: already merged, closed, mergeable, then the expected head.
    if (pull.merged) return apiError(405, '');
    if (pull.state === 'closed') return notFound();
    if (!pull.mergeable) return apiError(405, 'Please try again later');
    const headSha = headShaOf(repo, pull);
    const expected = field(body, 'head_commit_id');
    if (typeof expected === 'string' && expected !== '' && expected.toLowerCase() !== headSha)
      return apiError(409, 'head out of date');
    const style = String(field(body, 'Do'));
    const baseSha = repo.branches.get(pull.base);
    if (!baseSha) return notFound();
    const title = field(body, 'MergeTitleField');
    const message = typeof title === 'string' && title ? title : `Merge pull request '${pull.title}' (#${pull.number})`;
    let mergeSha: string;
    if (style === 'manually-merged') {
      const given = field(body, 'MergeCommitID');
      if (typeof given !== 'string' || !repo.commits.has(given.toLowerCase()))
        return apiError(422, '[MergeCommitID]: Required');
      mergeSha = given.toLowerCase();
    } else if (style === 'fast-forward-only') {
      if (!ancestors(repo, headSha).has(baseSha))
        return apiError(405, 'fast-forward only merge is not possible: the branches diverge');
      mergeSha = headSha;
      repo.branches.set(pull.base, headSha);
    } else if (style === 'merge') {
      mergeSha = mkCommit(repo, [baseSha, headSha], message);
      repo.branches.set(pull.base, mergeSha);
    } else {
      // squash, rebase, rebase-merge: the base gets new commits; the head's own commits stay off it.
      mergeSha = mkCommit(repo, [baseSha], message);
      repo.branches.set(pull.base, mergeSha);
    }
    pull.frozenHeadSha = headSha;
    pull.state = 'closed';
    pull.merged = true;
    pull.mergeSha = mergeSha;
    pull.mergeCount += 1;
    pull.mergedAt = new Date().toISOString();
    if (field(body, 'delete_branch_after_merge') === true) repo.branches.delete(pull.head);
    return { status: 200 };
  });

  route('GET', '/repos/{owner}/{repo}/pulls/{index}', /^\/pulls\/(\d+)$/, (_req, repo, [index = '']) => {
    const pull = repo.pulls.find((p) => p.number === Number(index));
    return pull ? { status: 200, body: pullJson(repo, pull) } : notFound();
  });

  route(
    'GET',
    '/repos/{owner}/{repo}/pulls/{base}/{head}',
    /^\/pulls\/([^/]+)\/(.+)$/,
    (_req, repo, [base = '', head = '']) => {
      const matching = repo.pulls.filter((p) => p.base === base && p.head === head);
      const pull = matching.find((p) => p.state === 'open') ?? matching.at(-1);
      return pull ? { status: 200, body: pullJson(repo, pull) } : notFound();
    },
  );

  route('GET', '/repos/{owner}/{repo}/compare/{basehead}', /^\/compare\/(.+)$/, (_req, repo, [basehead = '']) => {
    const sep = basehead.includes('...') ? '...' : '..';
    const at = basehead.indexOf(sep);
    if (at <= 0) return notFound();
    const base = resolveRef(repo, basehead.slice(0, at));
    const head = resolveRef(repo, basehead.slice(at + sep.length));
    if (!base || !head) return notFound();
    const inBase = ancestors(repo, base);
    const commits = [...ancestors(repo, head)]
      .filter((sha) => !inBase.has(sha))
      .map((sha) => repo.commits.get(sha))
      .filter((c): c is Commit => c !== undefined)
      .sort((a, b) => b.seq - a.seq);
    return {
      status: 200,
      body: {
        total_commits: commits.length,
        commits: commits.map((c) => shapes.giteaCommitJson(url, repo, { ...c, treeSha: c.sha })),
      },
    };
  });

  route('GET', '/repos/{owner}/{repo}/branches', /^\/branches$/, (req, repo) => {
    const names = [...repo.branches.keys()].sort(shapes.mainFirst);
    const { page, headers } = shapes.paginate(req.query, names);
    return {
      status: 200,
      headers,
      body: page.map((name) => {
        const sha = repo.branches.get(name) ?? '';
        return shapes.giteaBranchJson(url, repo, {
          name,
          sha,
          message: repo.commits.get(sha)?.message ?? '',
          protected: false,
        });
      }),
    };
  });

  function addPull(repo: Repo, base: string, head: string, title: string, body: string): Pull {
    const pull: Pull = {
      number: repo.pulls.length + 1,
      title,
      body,
      base,
      head,
      frozenHeadSha: repo.branches.get(head) ?? '',
      state: 'open',
      merged: false,
      mergeable: true,
      mergeCount: 0,
      createdAt: new Date().toISOString(),
    };
    repo.pulls.push(pull);
    return pull;
  }

  const decode = (segment: string): string => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  };

  const handler = (req: RecordedRequest): FakeReply => {
    if (!req.path.startsWith('/api/v1/')) return notFound();
    const auth = req.headers.authorization ?? '';
    const given =
      /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1] ??
      req.query.get('token') ??
      req.query.get('access_token') ??
      undefined;
    if (given === undefined) return apiError(401, 'token is required');
    if (given !== options.token) return apiError(401, 'user does not exist [uid: 0, name: ]');
    const repoMatch = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(req.path);
    if (!repoMatch) return notFound();
    const [, owner = '', name = '', rest = ''] = repoMatch;
    const candidates = routes.filter((r) => r.pattern.test(rest));
    const chosen = candidates.find((r) => r.method === req.method);
    if (!chosen) return candidates.length > 0 ? apiError(405, `method ${req.method} not allowed`) : notFound();
    if (req.method === 'POST') {
      if (req.body.length > 0 && req.json === undefined) return apiError(422, `[body]: the body is not valid JSON`);
      const body = chosen.template.endsWith('/merge') ? normaliseMergeBody(req.json) : req.json;
      const problems = validateRequestBody(spec, 'post', chosen.template, body ?? {});
      if (problems.length > 0) return apiError(422, problems.join(', '));
    }
    const repo = repos.get(`${decode(owner)}/${decode(name)}`.toLowerCase());
    if (!repo) return notFound();
    const groups = (chosen.pattern.exec(rest) ?? []).slice(1).map((g) => decode(g ?? ''));
    return chosen.handle({ ...req, json: req.json ?? {} }, repo, groups);
  };

  const server = await startFakeHttpServer(handler);
  url = server.url;
  for (const repo of options.repos ?? ['acme/web']) createRepo(repo);

  const pullOf = (repo: string, number: number): Pull => {
    const pull = getRepo(repo).pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`fake Gitea: no pull request #${number} in ${repo}`);
    return pull;
  };

  return {
    get url() {
      return server.url;
    },
    apiUrl: `${server.url}/api/v1`,
    requests: server.requests,
    specSource,
    inject: (fault) => server.inject(fault),
    reset: () => server.reset(),
    close: () => server.close(),
    createRepo,
    createBranch(repoName, branch, opts = {}) {
      const repo = getRepo(repoName);
      const from = resolveRef(repo, opts.from ?? 'main');
      if (!from) throw new Error(`fake Gitea: no ref ${opts.from ?? 'main'} in ${repoName}`);
      let head = from;
      for (let i = 0; i < (opts.commits ?? 1); i += 1) head = mkCommit(repo, [head], `${branch}: change ${i + 1}`);
      repo.branches.set(branch, head);
      return head;
    },
    commit(repoName, branch, message) {
      const repo = getRepo(repoName);
      const head = repo.branches.get(branch);
      if (!head) throw new Error(`fake Gitea: no branch ${branch} in ${repoName}`);
      const sha = mkCommit(repo, [head], message ?? `${branch}: another change`);
      repo.branches.set(branch, sha);
      return sha;
    },
    moveBranch(repoName, branch, sha) {
      const repo = getRepo(repoName);
      if (!repo.commits.has(sha)) throw new Error(`fake Gitea: no commit ${sha} in ${repoName}`);
      repo.branches.set(branch, sha);
    },
    branchHead: (repoName, branch) => getRepo(repoName).branches.get(branch),
    openPullRequest(repoName, input) {
      const repo = getRepo(repoName);
      if (!repo.branches.has(input.base) || !repo.branches.has(input.head))
        throw new Error('fake Gitea: both branches must exist');
      return addPull(repo, input.base, input.head, input.title ?? `${input.head} into ${input.base}`, '').number;
    },
    pullRequest(repoName, number) {
      const repo = getRepo(repoName);
      const pull = repo.pulls.find((p) => p.number === number);
      if (!pull) return undefined;
      return {
        number: pull.number,
        title: pull.title,
        body: pull.body,
        base: pull.base,
        head: pull.head,
        headSha: headShaOf(repo, pull),
        state: pull.state,
        merged: pull.merged,
        mergeable: pull.mergeable,
        mergeCount: pull.mergeCount,
        ...(pull.mergeSha === undefined ? {} : { mergeSha: pull.mergeSha }),
      };
    },
    setMergeable(repoName, number, mergeable) {
      pullOf(repoName, number).mergeable = mergeable;
    },
    statuses: (repoName, sha) => [...(getRepo(repoName).statuses.get(sha) ?? [])],
  };
}
