// Internal: the Gitea REST shapes both fake Giteas answer with (the in-process
// one and the git-backed one), their error shape, pagination and the combined
// commit status. Not exported from the package.
import type { FakeReply } from '../http/fake-server.js';

/** The user every fake Gitea answers as. */
export const GITEA_USER = Object.freeze({
  id: 1,
  login: 'conveyor',
  full_name: 'Conveyor Bot',
  email: 'bot@example.invalid',
  username: 'conveyor',
});

/** What the JSON of a repository needs. */
export interface GiteaRepoFields {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
}

/** A pull request as both fakes keep it (mutable: a merge closes it). */
export interface FakePullRecord {
  number: number;
  title: string;
  body: string;
  base: string;
  head: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeSha?: string;
  /** the head when it was merged (the branch may be gone) */
  frozenHeadSha?: string;
  mergeCount: number;
  createdAt: string;
  mergedAt?: string;
}

/** A commit status as the fakes keep it. */
export interface GiteaStatusFields {
  readonly id: number;
  readonly state: string;
  readonly context: string;
  readonly description: string;
  readonly targetUrl: string;
}

/** A commit as the compare endpoint lists it. */
export interface GiteaCommitFields {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly message: string;
  /** the commit's tree, when the fake knows one */
  readonly treeSha?: string;
}

const GITEA_MAX_PAGE = 50;
const GITEA_DEFAULT_PAGE = 30;
const STATE_RANK: Readonly<Record<string, number>> = { error: 0, failure: 1, warning: 2, pending: 3, success: 4 };

/** Gitea's error body `{ message, url }` with `status`. */
export function giteaError(baseUrl: string, status: number, message: string): FakeReply {
  return { status, body: { message, url: `${baseUrl}/api/swagger` } };
}

/** Gitea's 404. */
export function giteaNotFound(baseUrl: string): FakeReply {
  return giteaError(baseUrl, 404, "The target couldn't be found.");
}

/** A body field by name, matched case-insensitively as Gitea's decoder does (the last spelling wins); the first name found. */
export function bodyField(body: Record<string, unknown>, ...names: string[]): unknown {
  for (const name of names) {
    const key = Object.keys(body)
      .reverse()
      .find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined) return body[key];
  }
  return undefined;
}

/** Gitea's `page`/`limit` pagination (default 30, at most 50) with its `x-total-count` header. */
export function paginate<T>(
  query: URLSearchParams,
  items: readonly T[],
): { page: T[]; headers: Record<string, string> } {
  const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1);
  const asked = Number.parseInt(query.get('limit') ?? '', 10);
  const limit = Number.isFinite(asked) && asked > 0 ? Math.min(asked, GITEA_MAX_PAGE) : GITEA_DEFAULT_PAGE;
  return { page: items.slice((page - 1) * limit, page * limit), headers: { 'x-total-count': String(items.length) } };
}

/** The latest status of each context, oldest first. */
export function latestPerContext<S extends GiteaStatusFields>(statuses: readonly S[]): S[] {
  const byContext = new Map<string, S>();
  for (const s of statuses) byContext.set(s.context, s);
  return [...byContext.values()].sort((a, b) => a.id - b.id);
}

/** The combined state: the worst of the statuses (`''` when there are none). */
export function combinedState(statuses: readonly GiteaStatusFields[]): string {
  if (statuses.length === 0) return '';
  let state = 'success';
  for (const s of statuses) if ((STATE_RANK[s.state] ?? 0) <= (STATE_RANK[state] ?? 0)) state = s.state;
  return state;
}

/** A repository. */
export function giteaRepoJson(baseUrl: string, repo: GiteaRepoFields) {
  const full = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id,
    name: repo.name,
    full_name: full,
    owner: { ...GITEA_USER, login: repo.owner, username: repo.owner },
    default_branch: 'main',
    html_url: `${baseUrl}/${full}`,
    clone_url: `${baseUrl}/${full}.git`,
    private: true,
  };
}

/** A pull request, with its base and head commits and whether it merges cleanly. */
export function giteaPullJson(
  baseUrl: string,
  repo: GiteaRepoFields,
  pull: Readonly<FakePullRecord>,
  refs: { readonly baseSha: string; readonly headSha: string; readonly mergeable: boolean },
) {
  const html = `${baseUrl}/${repo.owner}/${repo.name}/pulls/${pull.number}`;
  return {
    id: repo.id * 100_000 + pull.number,
    number: pull.number,
    url: html,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    title: pull.title,
    body: pull.body,
    state: pull.state,
    user: GITEA_USER,
    mergeable: refs.mergeable,
    merged: pull.merged,
    merged_at: pull.mergedAt ?? null,
    merge_commit_sha: pull.mergeSha ?? null,
    merged_by: pull.merged ? GITEA_USER : null,
    created_at: pull.createdAt,
    updated_at: pull.mergedAt ?? pull.createdAt,
    closed_at: pull.state === 'closed' ? (pull.mergedAt ?? pull.createdAt) : null,
    base: { label: pull.base, ref: pull.base, sha: refs.baseSha, repo_id: repo.id, repo: giteaRepoJson(baseUrl, repo) },
    head: { label: pull.head, ref: pull.head, sha: refs.headSha, repo_id: repo.id, repo: giteaRepoJson(baseUrl, repo) },
    merge_base: refs.baseSha,
    draft: false,
    labels: [],
    assignees: [],
  };
}

/** A commit status of `sha`. */
export function giteaStatusJson(baseUrl: string, repo: GiteaRepoFields, sha: string, s: GiteaStatusFields) {
  return {
    id: s.id,
    status: s.state,
    context: s.context,
    description: s.description,
    target_url: s.targetUrl,
    url: `${baseUrl}/api/v1/repos/${repo.owner}/${repo.name}/statuses/${sha}`,
    creator: GITEA_USER,
    created_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
  };
}

/** The combined status of `sha` from the latest status of each context (`page` of them listed). */
export function giteaCombinedStatusJson(
  baseUrl: string,
  repo: GiteaRepoFields,
  sha: string,
  latest: readonly GiteaStatusFields[],
  page: readonly GiteaStatusFields[] = latest,
) {
  const commit = `${baseUrl}/api/v1/repos/${repo.owner}/${repo.name}/commits/${sha}`;
  return {
    state: combinedState(latest),
    sha,
    total_count: latest.length,
    statuses: page.map((s) => giteaStatusJson(baseUrl, repo, sha, s)),
    repository: giteaRepoJson(baseUrl, repo),
    commit_url: commit,
    url: `${commit}/status`,
  };
}

/** A commit as the compare endpoint lists it. */
export function giteaCommitJson(baseUrl: string, repo: GiteaRepoFields, c: GiteaCommitFields) {
  return {
    sha: c.sha,
    url: `${baseUrl}/api/v1/repos/${repo.owner}/${repo.name}/git/commits/${c.sha}`,
    html_url: `${baseUrl}/${repo.owner}/${repo.name}/commit/${c.sha}`,
    commit: { message: c.message, ...(c.treeSha === undefined ? {} : { tree: { sha: c.treeSha } }) },
    parents: c.parents.map((p) => ({ sha: p })),
  };
}

/** A branch and its head commit. */
export function giteaBranchJson(
  baseUrl: string,
  repo: GiteaRepoFields,
  branch: { readonly name: string; readonly sha: string; readonly message: string; readonly protected: boolean },
) {
  return {
    name: branch.name,
    commit: {
      id: branch.sha,
      message: branch.message,
      url: `${baseUrl}/${repo.owner}/${repo.name}/commit/${branch.sha}`,
    },
    protected: branch.protected,
    user_can_push: true,
    user_can_merge: true,
  };
}

/** Branch names with `main` first, then by name. */
export function mainFirst(a: string, b: string): number {
  return a === 'main' ? -1 : b === 'main' ? 1 : a.localeCompare(b);
}
