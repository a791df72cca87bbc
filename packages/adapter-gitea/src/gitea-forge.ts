import {
  type CombinedStatus,
  type CommitState,
  type CommitStatus,
  type Comparison,
  ConveyorError,
  createHttpClient,
  err,
  type Forge,
  type HttpResponse,
  type MergeOutcome,
  type MergeRequest,
  type NewPullRequest,
  ok,
  type PullRequest,
  type Result,
} from '@conveyor/core';
import type * as z from 'zod';
import {
  branchListSchema,
  combinedStatusSchema,
  commitStatusSchema,
  compareSchema,
  describeIssues,
  pullRequestSchema,
} from './gitea-schemas.js';
import { buildMergeBody, type MergeFieldStyle } from './merge-options.js';
import { branchPath, checkBranch, checkSha, PKG, parseRepo, type RepoRef, repoPath } from './repo-ref.js';

/** Options of {@link createGiteaForge}. Frozen on creation. */
export interface GiteaForgeOptions {
  /** the Gitea root, e.g. `https://gitea.example.com` (`/api/v1` is added unless present) */
  readonly baseUrl: string;
  /** an access token, sent as `Authorization: token …` */
  readonly token: string;
  /** per attempt; default 10 000 ms */
  readonly timeoutMs?: number;
  /** retries for 429, 5xx and network errors; default 3 */
  readonly retries?: number;
  /** the fetch implementation; default `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch;
  /** how merge options are spelled; default `v1.22` (what Gitea 1.22 expects) */
  readonly mergeFieldStyle?: MergeFieldStyle;
  /** first retry backoff; default 200 ms */
  readonly minBackoffMs?: number;
  /** backoff ceiling; default 5 000 ms */
  readonly maxBackoffMs?: number;
  /** how to wait between attempts (tests pass `async () => {}`); default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** branches per page when resolving a sha (Gitea caps it at its `MAX_RESPONSE_ITEMS`, 50 by default); default 50 */
  readonly pageSize?: number;
}

/** A core `Forge` backed by Gitea's REST API, with its frozen options. */
export interface GiteaForge extends Forge {
  /** the options it was created with, the token left out */
  readonly options: Readonly<Omit<GiteaForgeOptions, 'token' | 'fetch' | 'sleep'>>;
}

const MAX_PAGES = 200;

/**
 * Creates a core `Forge` over Gitea's REST API (1.22 and newer, and Forgejo).
 * Every method resolves to a `Result`: the API refusing (`unauthorized`,
 * `not_found`, `conflict`, `invalid_input`, `api_refused`) is kept apart from
 * the network failing (`network`, `timeout`). A merge whose head moved fails
 * with `head_out_of_date`, one Gitea refuses with `not_mergeable`, and a PR
 * merged before the call is `ok({ alreadyMerged: true })`.
 *
 * @example
 * ```ts
 * const forge = createGiteaForge({ baseUrl: 'https://gitea.example.com', token: process.env.GITEA_TOKEN ?? '' });
 * const pr = await forge.findPullRequest('acme/web', 'main', 'task/PLN-1');
 * if (pr.ok && pr.value) {
 *   const merged = await forge.mergePullRequest('acme/web', pr.value.number, { headSha: pr.value.headSha });
 *   if (!merged.ok && merged.error.code === 'head_out_of_date') {
 *     // rebase, retest, try again
 *   }
 * }
 * ```
 */
export function createGiteaForge(options: GiteaForgeOptions): GiteaForge {
  const { token, fetch, sleep, ...rest } = options;
  const publicOptions = Object.freeze({ ...rest });
  const style: MergeFieldStyle = options.mergeFieldStyle ?? 'v1.22';
  const pageSize = Math.max(1, Math.min(options.pageSize ?? 50, 100));
  const root = options.baseUrl.replace(/\/+$/, '');
  const baseUrl = /\/api\/v1$/.test(root) ? `${root}/` : `${root}/api/v1/`;
  const http = createHttpClient({
    pkg: PKG,
    baseUrl,
    headers: { authorization: `token ${token}` },
    redact: [token],
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.minBackoffMs === undefined ? {} : { minBackoffMs: options.minBackoffMs }),
    ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
    ...(fetch === undefined ? {} : { fetch }),
    ...(sleep === undefined ? {} : { sleep }),
  });

  const getPull = async (ref: RepoRef, number: number): Promise<Result<PullRequest, ConveyorError>> => {
    const res = await http.request({ method: 'GET', path: `${repoPath(ref)}/pulls/${number}` });
    if (!res.ok) return err(res.error);
    return parsed(pullRequestSchema, res.value, `GET pulls/${number}`).map(toPullRequest);
  };

  const isMerged = async (ref: RepoRef, number: number): Promise<Result<boolean, ConveyorError>> => {
    const res = await http.request({
      method: 'GET',
      path: `${repoPath(ref)}/pulls/${number}/merge`,
      acceptStatuses: [404],
    });
    if (!res.ok) return err(res.error);
    return ok(res.value.status === 204 || res.value.status === 200);
  };

  const forge: GiteaForge = {
    options: publicOptions,

    async setCommitStatus(repo: string, sha: string, status: CommitStatus) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      const commit = checkSha(sha, 'sha');
      if (!commit.ok) return err(commit.error);
      if (typeof status.context !== 'string' || status.context.length === 0) {
        return err(invalid('status.context must be a non-empty string', 'status.context'));
      }
      const res = await http.request({
        method: 'POST',
        path: `${repoPath(ref.value)}/statuses/${commit.value}`,
        // a status set twice reads the same: a lost answer may be retried
        retry: true,
        body: {
          state: status.state,
          context: status.context,
          ...(status.description === undefined ? {} : { description: status.description }),
          ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
        },
      });
      if (!res.ok) return err(res.error);
      const body = parsed(commitStatusSchema, res.value, 'POST statuses');
      if (!body.ok) return err(body.error);
      return ok();
    },

    async getCombinedStatus(repo: string, sha: string) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      const commit = checkSha(sha, 'sha');
      if (!commit.ok) return err(commit.error);
      const statuses: CommitStatus[] = [];
      let serverState: CommitState | '' = '';
      for (let page = 1; page <= MAX_PAGES; page += 1) {
        const res = await http.request({
          method: 'GET',
          path: `${repoPath(ref.value)}/commits/${commit.value}/status`,
          query: { page, limit: pageSize },
        });
        if (!res.ok) return err(res.error);
        const body = parsed(combinedStatusSchema, res.value, 'GET commits/{ref}/status');
        if (!body.ok) return err(body.error);
        if (page === 1) serverState = body.value.state ?? '';
        const items = body.value.statuses ?? [];
        for (const s of items) statuses.push(toCommitStatus(s));
        const total = body.value.total_count ?? undefined;
        if (items.length < pageSize || (total !== undefined && statuses.length >= total)) break;
      }
      const combined: CombinedStatus = {
        sha: commit.value,
        state: serverState === '' ? worstState(statuses) : serverState,
        statuses,
      };
      return ok(combined);
    },

    async findPullRequest(repo: string, base: string, head: string) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      const b = checkBranch(base, 'base');
      if (!b.ok) return err(b.error);
      if (b.value.includes('/')) {
        // Gitea routes `{base}` as one path segment: a base with a slash cannot be looked up this way.
        return findByListing(ref.value, base, head);
      }
      const h = checkBranch(head, 'head');
      if (!h.ok) return err(h.error);
      const res = await http.request({
        method: 'GET',
        path: `${repoPath(ref.value)}/pulls/${encodeURIComponent(base)}/${branchPath(head)}`,
        acceptStatuses: [404],
      });
      if (!res.ok) return err(res.error);
      if (res.value.status === 404) return ok(undefined);
      return parsed(pullRequestSchema, res.value, 'GET pulls/{base}/{head}').map(toPullRequest);
    },

    async createPullRequest(repo: string, input: NewPullRequest) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      const b = checkBranch(input.base, 'input.base');
      if (!b.ok) return err(b.error);
      const h = checkBranch(input.head, 'input.head');
      if (!h.ok) return err(h.error);
      if (typeof input.title !== 'string' || input.title.trim().length === 0) {
        return err(invalid('input.title must be a non-empty string', 'input.title'));
      }
      const res = await http.request({
        method: 'POST',
        path: `${repoPath(ref.value)}/pulls`,
        body: {
          base: input.base,
          head: input.head,
          title: input.title,
          ...(input.body === undefined ? {} : { body: input.body }),
        },
      });
      if (!res.ok) return err(res.error);
      return parsed(pullRequestSchema, res.value, 'POST pulls').map(toPullRequest);
    },

    async mergePullRequest(repo: string, number: number, input: MergeRequest) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      if (!Number.isInteger(number) || number <= 0)
        return err(invalid(`number must be a positive integer, got ${number}`, 'number'));
      // Gitea compares head_commit_id as a string: an abbreviated sha would always be "head out of date".
      const head = checkSha(input.headSha, 'input.headSha', true);
      if (!head.ok) return err(head.error);
      const res = await http.request({
        method: 'POST',
        path: `${repoPath(ref.value)}/pulls/${number}/merge`,
        // pinned to headSha: a repeat of a merge that went through answers 405 "already merged", handled below
        retry: true,
        body: buildMergeBody({ ...input, headSha: head.value }, style),
        acceptStatuses: [405, 409],
      });
      if (!res.ok) return err(res.error);
      const where = `POST pulls/${number}/merge`;
      const message = serverMessage(res.value);
      if (res.value.status === 409) {
        const details = { status: 409, serverMessage: message, number, headSha: head.value };
        if (/head out of date/i.test(message)) {
          return err(
            new ConveyorError(
              PKG,
              'head_out_of_date',
              `${where} → 409: the head of PR #${number} is no longer ${head.value} (${message})`,
              { details },
            ),
          );
        }
        if (/push out of date/i.test(message)) {
          return err(
            new ConveyorError(
              PKG,
              'conflict',
              `${where} → 409: the base branch moved during the merge (${message}); try again`,
              { details },
            ),
          );
        }
        return err(
          new ConveyorError(PKG, 'not_mergeable', `${where} → 409: Gitea cannot merge PR #${number}: ${message}`, {
            details,
          }),
        );
      }
      if (res.value.status === 405) {
        // Gitea answers 405 both for "not mergeable" and for "already merged" (often with an empty message).
        const merged = await isMerged(ref.value, number);
        if (!merged.ok) return err(merged.error);
        if (merged.value) {
          const pr = await getPull(ref.value, number);
          const outcome: MergeOutcome = {
            alreadyMerged: true,
            ...(pr.ok && pr.value.mergeSha !== undefined ? { mergeSha: pr.value.mergeSha } : {}),
          };
          return ok(outcome);
        }
        return err(
          new ConveyorError(PKG, 'not_mergeable', `${where} → 405: Gitea refuses to merge PR #${number}: ${message}`, {
            details: { status: 405, serverMessage: message, number },
          }),
        );
      }
      // The merge happened; the sha is read back best effort (the merge answer carries no body).
      const pr = await getPull(ref.value, number);
      const outcome: MergeOutcome = {
        alreadyMerged: false,
        ...(pr.ok && pr.value.mergeSha !== undefined ? { mergeSha: pr.value.mergeSha } : {}),
      };
      return ok(outcome);
    },

    async isMerged(repo: string, number: number) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      if (!Number.isInteger(number) || number <= 0)
        return err(invalid(`number must be a positive integer, got ${number}`, 'number'));
      return isMerged(ref.value, number);
    },

    async compare(repo: string, base: string, head: string) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      const b = checkBranch(base, 'base');
      if (!b.ok) return err(b.error);
      const h = checkBranch(head, 'head');
      if (!h.ok) return err(h.error);
      // Gitea's compare lists only the commits of head not in base, so "behind" is the reverse comparison.
      const [ahead, behind] = await Promise.all([
        compareOnce(ref.value, base, head),
        compareOnce(ref.value, head, base),
      ]);
      if (!ahead.ok) return err(ahead.error);
      if (!behind.ok) return err(behind.error);
      const comparison: Comparison = {
        aheadBy: ahead.value.count,
        behindBy: behind.value.count,
        // Gitea lists the newest first.
        commits: [...ahead.value.shas].reverse(),
      };
      return ok(comparison);
    },

    async resolveShaToBranch(repo: string, sha: string) {
      const ref = parseRepo(repo);
      if (!ref.ok) return err(ref.error);
      const commit = checkSha(sha, 'sha');
      if (!commit.ok) return err(commit.error);
      const wanted = commit.value;
      let seen = 0;
      for (let page = 1; page <= MAX_PAGES; page += 1) {
        const res = await http.request({
          method: 'GET',
          path: `${repoPath(ref.value)}/branches`,
          query: { page, limit: pageSize },
        });
        if (!res.ok) return err(res.error);
        const body = parsed(branchListSchema, res.value, 'GET branches');
        if (!body.ok) return err(body.error);
        const match = body.value.find((b) => {
          const id = b.commit?.id?.toLowerCase();
          return id !== undefined && (id === wanted || (wanted.length < 40 && id.startsWith(wanted)));
        });
        if (match) return ok<string | undefined, ConveyorError>(match.name);
        seen += body.value.length;
        const total = Number(res.value.headers.get('x-total-count') ?? Number.NaN);
        if (body.value.length < pageSize || (Number.isFinite(total) && seen >= total)) break;
      }
      return ok<string | undefined, ConveyorError>(undefined);
    },
  };

  async function compareOnce(
    ref: RepoRef,
    base: string,
    head: string,
  ): Promise<Result<{ count: number; shas: string[] }, ConveyorError>> {
    const res = await http.request({
      method: 'GET',
      path: `${repoPath(ref)}/compare/${branchPath(base)}...${branchPath(head)}`,
    });
    if (!res.ok) return err(res.error);
    const body = parsed(compareSchema, res.value, 'GET compare');
    if (!body.ok) return err(body.error);
    const shas = (body.value.commits ?? []).map((c) => c.sha);
    return ok({ count: body.value.total_commits ?? shas.length, shas });
  }

  async function findByListing(
    ref: RepoRef,
    base: string,
    head: string,
  ): Promise<Result<PullRequest | undefined, ConveyorError>> {
    let fallback: PullRequest | undefined;
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const res = await http.request({
        method: 'GET',
        path: `${repoPath(ref)}/pulls`,
        query: { state: 'all', page, limit: pageSize },
      });
      if (!res.ok) return err(res.error);
      if (!Array.isArray(res.value.body))
        return err(
          new ConveyorError(PKG, 'api_refused', 'GET pulls: the answer is not a list', {
            details: { status: res.value.status },
          }),
        );
      for (const item of res.value.body) {
        const pr = pullRequestSchema.safeParse(item);
        if (!pr.success) continue;
        const value = toPullRequest(pr.data);
        if (value.base !== base || value.head !== head) continue;
        if (value.state === 'open') return ok(value);
        fallback ??= value;
      }
      if (res.value.body.length < pageSize) break;
    }
    return ok(fallback);
  }

  return Object.freeze(forge);
}

function invalid(message: string, field: string): ConveyorError {
  return new ConveyorError(PKG, 'invalid_input', message, { details: { field } });
}

function parsed<S extends z.ZodType>(schema: S, res: HttpResponse, where: string): Result<z.infer<S>, ConveyorError> {
  const result = schema.safeParse(res.body);
  if (result.success) return ok(result.data);
  return err(
    new ConveyorError(
      PKG,
      'api_refused',
      `${where}: Gitea's answer is not what the API documents: ${describeIssues(result.error, 'body')}`,
      {
        details: { status: res.status, body: res.text.slice(0, 300) },
        cause: result.error,
      },
    ),
  );
}

function serverMessage(res: HttpResponse): string {
  const body = res.body;
  if (body !== null && typeof body === 'object') {
    const message = (body as { message?: unknown }).message;
    if (typeof message === 'string' && message.length > 0) return message;
  }
  const text = res.text.trim();
  return text.length > 0 ? text.slice(0, 300) : '(empty message)';
}

function toCommitStatus(s: z.infer<typeof commitStatusSchema>): CommitStatus {
  return {
    state: s.status,
    context: s.context,
    ...(s.description ? { description: s.description } : {}),
    ...(s.target_url ? { targetUrl: s.target_url } : {}),
  };
}

function toPullRequest(pr: z.infer<typeof pullRequestSchema>): PullRequest {
  return {
    number: pr.number,
    state: pr.state,
    merged: pr.merged === true,
    base: pr.base.ref,
    head: pr.head.ref,
    headSha: pr.head.sha,
    title: pr.title,
    ...(pr.html_url ? { url: pr.html_url } : {}),
    ...(typeof pr.mergeable === 'boolean' ? { mergeable: pr.mergeable } : {}),
    ...(pr.merge_commit_sha ? { mergeSha: pr.merge_commit_sha } : {}),
  };
}

// Gitea's order, worst first: error, failure, warning, pending, success. No status at all is pending.
const PRIORITY: Record<CommitState, number> = { error: 0, failure: 1, warning: 2, pending: 3, success: 4 };

/** Combines statuses the way Gitea does: the worst state wins; none at all is `pending`. */
export function worstState(statuses: readonly CommitStatus[]): CommitState {
  if (statuses.length === 0) return 'pending';
  let state: CommitState = 'success';
  for (const s of statuses) if (PRIORITY[s.state] <= PRIORITY[state]) state = s.state;
  return state;
}
