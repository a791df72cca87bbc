import { randomUUID } from 'node:crypto';
import type { FakeHttpServer, FakeReply, Fault, RecordedRequest } from '../http/fake-server.js';
import { startFakeHttpServer } from '../http/fake-server.js';
import type { PlaneWebhookPayload } from './plane-webhook-sender.js';

/** A state to seed; the id is generated when absent. */
export interface FakePlaneStateSeed {
  readonly id?: string;
  readonly name: string;
  /** `backlog`, `unstarted`, `started`, `completed` or `cancelled`; default `unstarted` */
  readonly group?: string;
  readonly color?: string;
}

/** A state held by the fake. */
export interface FakePlaneState {
  readonly id: string;
  readonly name: string;
  readonly group: string;
  readonly color: string;
  readonly sequence: number;
}

/** An issue to seed; `state` is a state's name or id. */
export interface FakePlaneIssueSeed {
  readonly id?: string;
  readonly name: string;
  readonly state: string;
  readonly description_html?: string;
  readonly priority?: 'urgent' | 'high' | 'medium' | 'low' | 'none';
}

/** An issue held by the fake, in Plane's field names (`state` is the state uuid). */
export interface FakePlaneIssue {
  readonly id: string;
  name: string;
  description_html: string;
  priority: string;
  state: string;
  readonly sequence_id: number;
  readonly project: string;
  readonly workspace: string;
  readonly created_at: string;
  updated_at: string;
}

/** A comment held by the fake. */
export interface FakePlaneComment {
  readonly id: string;
  readonly issue: string;
  readonly project: string;
  readonly workspace: string;
  readonly comment_html: string;
  readonly created_at: string;
}

/** Options of {@link startFakePlane}. */
export interface FakePlaneOptions {
  /** the only API key accepted in `X-API-Key` */
  readonly apiKey: string;
  readonly workspaceSlug: string;
  readonly projectId: string;
  /** the project's states; default Backlog, Todo, In Progress, Done, Cancelled */
  readonly states?: readonly FakePlaneStateSeed[];
  readonly issues?: readonly FakePlaneIssueSeed[];
  /** the workspace uuid put in issues and webhook payloads; default a random uuid */
  readonly workspaceId?: string;
}

/** A running fake Plane (see {@link startFakePlane}). */
export interface FakePlane {
  /** the server root, e.g. `http://127.0.0.1:41234` — what `createPlaneTracker` takes as `baseUrl` */
  readonly url: string;
  /** the project's API root: `<url>/api/v1/workspaces/<slug>/projects/<id>/` */
  readonly apiBase: string;
  /** the shared fake HTTP server underneath (requests, faults) */
  readonly server: FakeHttpServer;
  /** every request received, in order */
  readonly requests: readonly RecordedRequest[];
  /** queues a fault (429, 5xx burst, slow, drop, malformed JSON) */
  inject(fault: Fault): void;
  states(): readonly FakePlaneState[];
  addState(seed: FakePlaneStateSeed): FakePlaneState;
  addIssue(seed: FakePlaneIssueSeed): FakePlaneIssue;
  issue(id: string): FakePlaneIssue | undefined;
  /** all issues, newest first (Plane's default `-created_at` order) */
  issues(): readonly FakePlaneIssue[];
  /** comments, oldest first; of one issue when `issueId` is given */
  comments(issueId?: string): readonly FakePlaneComment[];
  /**
   * A v1 `issue` webhook payload for an issue, as Plane's `webhook_task.py`
   * builds it (`data` expanded, `activity` with one field's change).
   */
  issueWebhookPayload(
    issueId: string,
    action: 'created' | 'updated' | 'deleted',
    activity?: { readonly field?: string; readonly old_value?: unknown; readonly new_value?: unknown },
  ): PlaneWebhookPayload;
  /** A v1 `issue_comment` `created` payload for a comment. */
  commentWebhookPayload(commentId: string): PlaneWebhookPayload;
  close(): Promise<void>;
}

const DEFAULT_STATES: readonly FakePlaneStateSeed[] = [
  { name: 'Backlog', group: 'backlog', color: '#a3a3a3' },
  { name: 'Todo', group: 'unstarted', color: '#3a3a3a' },
  { name: 'In Progress', group: 'started', color: '#f59e0b' },
  { name: 'Done', group: 'completed', color: '#16a34a' },
  { name: 'Cancelled', group: 'cancelled', color: '#ef4444' },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PRIORITIES = new Set(['urgent', 'high', 'medium', 'low', 'none']);
/** `paginator.py`: default and maximum page size of the public API. */
const MAX_PER_PAGE = 1000;

/** Plane's error bodies (DRF and Plane's own base view). */
const NOT_FOUND = { error: 'The requested resource does not exist.' };
const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
const BAD_TOKEN = { detail: 'Given API token is not valid' };

/**
 * Starts an in-process fake of Plane's public REST API on 127.0.0.1 (port 0),
 * for one workspace and project, with in-memory states, issues and comments:
 * `GET states/`, `GET issues/` (filter `state`, `expand=state`), `GET|PATCH issues/{id}/`,
 * `GET|POST issues/{id}/comments/` (also under `work-items/`).
 *
 * It checks requests as Plane does: missing or wrong `X-API-Key` → 401
 * `{detail}`; unknown workspace, project or issue → 404 `{error}`; a wrong
 * method → 405; a state uuid not in the project → 400 `{state: [...]}`; a bad
 * `per_page` or `cursor` → 400. Pagination is Plane's offset cursor
 * `<per_page>:<page>:<is_prev>` with the full envelope (`next_cursor` always
 * filled, `next_page_results`, `prev_cursor`, `count`, `total_pages`, …).
 * Stricter than Plane on one point: a comment needs a string `comment_html`.
 * Faults come from {@link startFakeHttpServer}.
 *
 * @example
 * ```ts
 * const plane = await startFakePlane({ apiKey: 'k', workspaceSlug: 'acme', projectId: randomUUID() });
 * plane.addIssue({ name: 'Fix login', state: 'Todo' });
 * plane.inject({ kind: 'status', status: 503, times: 2 });
 * const tracker = createPlaneTracker({ baseUrl: plane.url, apiKey: 'k', workspaceSlug: 'acme', projectId: ... });
 * await plane.close();
 * ```
 */
export async function startFakePlane(options: FakePlaneOptions): Promise<FakePlane> {
  const workspaceId = options.workspaceId ?? randomUUID();
  const webhookId = randomUUID();
  const actor = { id: randomUUID(), display_name: 'Fake Plane user', first_name: 'Fake', last_name: 'User' };
  const states: FakePlaneState[] = [];
  const issues: FakePlaneIssue[] = [];
  const comments: FakePlaneComment[] = [];
  let sequence = 0;
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };

  const addState = (seed: FakePlaneStateSeed): FakePlaneState => {
    const state: FakePlaneState = Object.freeze({
      id: seed.id ?? randomUUID(),
      name: seed.name,
      group: seed.group ?? 'unstarted',
      color: seed.color ?? '#60646c',
      sequence: (states.length + 1) * 15_000,
    });
    states.push(state);
    return state;
  };

  const findState = (nameOrId: string) => states.find((s) => s.id === nameOrId || s.name === nameOrId);

  const addIssue = (seed: FakePlaneIssueSeed): FakePlaneIssue => {
    const state = findState(seed.state);
    if (!state) throw new Error(`fake Plane: no state "${seed.state}" to seed issue "${seed.name}"`);
    sequence += 1;
    const at = now();
    const issue: FakePlaneIssue = {
      id: seed.id ?? randomUUID(),
      name: seed.name,
      description_html: seed.description_html ?? '<p></p>',
      priority: seed.priority ?? 'none',
      state: state.id,
      sequence_id: sequence,
      project: options.projectId,
      workspace: workspaceId,
      created_at: at,
      updated_at: at,
    };
    issues.push(issue);
    return issue;
  };

  for (const seed of options.states ?? DEFAULT_STATES) addState(seed);
  for (const seed of options.issues ?? []) addIssue(seed);

  const stateLite = (id: string) => {
    const state = states.find((s) => s.id === id);
    return state ? { id: state.id, name: state.name, color: state.color, group: state.group } : id;
  };

  const issueJson = (issue: FakePlaneIssue, expandState: boolean) => ({
    id: issue.id,
    name: issue.name,
    description_html: issue.description_html,
    description_stripped: issue.description_html.replace(/<[^>]*>/g, ''),
    priority: issue.priority,
    sequence_id: issue.sequence_id,
    state: expandState ? stateLite(issue.state) : issue.state,
    project: issue.project,
    workspace: issue.workspace,
    assignees: [],
    labels: [],
    parent: null,
    estimate_point: null,
    start_date: null,
    target_date: null,
    completed_at: null,
    archived_at: null,
    is_draft: false,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    created_by: actor.id,
    updated_by: actor.id,
  });

  const commentJson = (c: FakePlaneComment) => ({
    id: c.id,
    comment_html: c.comment_html,
    comment_stripped: c.comment_html.replace(/<[^>]*>/g, ''),
    issue: c.issue,
    project: c.project,
    workspace: c.workspace,
    actor: actor.id,
    access: 'INTERNAL',
    created_at: c.created_at,
    updated_at: c.created_at,
  });

  const orderedIssues = () => [...issues].reverse();

  const handler = (req: RecordedRequest): FakeReply | undefined => {
    const match = /^\/api\/v1\/workspaces\/([^/]+)\/projects\/([^/]+)\/(.*)$/.exec(req.path);
    if (!match) return { status: 404, body: { detail: 'Not found.' } };
    const [, slug = '', project = '', rest = ''] = match;
    const route = parseRoute(rest);
    if (!route) return { status: 404, body: { detail: 'Not found.' } };

    const key = headerOf(req, 'x-api-key');
    if (!key) return { status: 401, body: NO_CREDENTIALS };
    if (key !== options.apiKey) return { status: 401, body: BAD_TOKEN };
    if (decodeURIComponent(slug) !== options.workspaceSlug || decodeURIComponent(project) !== options.projectId) {
      return { status: 404, body: NOT_FOUND };
    }
    const allowed = ALLOWED[route.kind];
    if (!allowed.includes(req.method)) {
      return { status: 405, body: { detail: `Method "${req.method}" not allowed.` } };
    }
    const expandState = (req.query.get('expand') ?? '').split(',').includes('state');

    if (route.kind === 'states') return paginate(req, states, (s) => ({ ...s, project: options.projectId }));

    if (route.kind === 'issues') {
      const filter = req.query.get('state');
      const wanted = filter ? new Set(filter.split(',').filter((s) => s.length > 0)) : undefined;
      const list = orderedIssues().filter((i) => !wanted || wanted.has(i.state));
      return paginate(req, list, (i) => issueJson(i, expandState));
    }

    const issue = issues.find((i) => i.id === route.issueId);
    if (!issue) return { status: 404, body: NOT_FOUND };

    if (route.kind === 'issue') {
      if (req.method === 'GET') return { status: 200, body: issueJson(issue, expandState) };
      const body = jsonBody(req);
      if ('reply' in body) return body.reply;
      const errors = applyPatch(issue, body.value);
      if (errors) return { status: 400, body: errors };
      issue.updated_at = now();
      return { status: 200, body: issueJson(issue, expandState) };
    }

    // comments
    if (req.method === 'GET') {
      return paginate(
        req,
        comments.filter((c) => c.issue === issue.id),
        commentJson,
      );
    }
    const body = jsonBody(req);
    if ('reply' in body) return body.reply;
    const html = body.value.comment_html;
    if (typeof html !== 'string') {
      return {
        status: 400,
        body: { comment_html: [html === undefined ? 'This field is required.' : 'Not a valid string.'] },
      };
    }
    const comment: FakePlaneComment = Object.freeze({
      id: randomUUID(),
      issue: issue.id,
      project: options.projectId,
      workspace: workspaceId,
      comment_html: html,
      created_at: now(),
    });
    comments.push(comment);
    return { status: 201, body: commentJson(comment) };
  };

  const applyPatch = (issue: FakePlaneIssue, patch: Record<string, unknown>): Record<string, string[]> | undefined => {
    const errors: Record<string, string[]> = {};
    const next: Partial<Pick<FakePlaneIssue, 'name' | 'state' | 'priority' | 'description_html'>> = {};
    if ('state' in patch) {
      const value = patch.state;
      if (typeof value !== 'string' || !UUID.test(value)) {
        errors.state = [`“${String(value)}” is not a valid UUID.`];
      } else if (!states.some((s) => s.id === value)) {
        errors.state = [`Invalid pk "${value}" - object does not exist.`];
      } else next.state = value;
    }
    if ('name' in patch) {
      const value = patch.name;
      if (typeof value !== 'string') errors.name = ['Not a valid string.'];
      else if (value.trim() === '') errors.name = ['This field may not be blank.'];
      else if (value.length > 255) errors.name = ['Ensure this field has no more than 255 characters.'];
      else next.name = value;
    }
    if ('priority' in patch) {
      const value = patch.priority;
      if (typeof value !== 'string' || !PRIORITIES.has(value)) {
        errors.priority = [`"${String(value)}" is not a valid choice.`];
      } else next.priority = value;
    }
    if ('description_html' in patch) {
      const value = patch.description_html;
      if (typeof value !== 'string') errors.description_html = ['Not a valid string.'];
      else next.description_html = value;
    }
    if (Object.keys(errors).length > 0) return errors;
    Object.assign(issue, next);
    return undefined;
  };

  const server = await startFakeHttpServer(handler);
  const apiBase = `${server.url}/api/v1/workspaces/${encodeURIComponent(options.workspaceSlug)}/projects/${encodeURIComponent(options.projectId)}/`;

  return {
    url: server.url,
    apiBase,
    server,
    requests: server.requests,
    inject: (fault) => server.inject(fault),
    states: () => [...states],
    addState,
    addIssue,
    issue: (id) => issues.find((i) => i.id === id),
    issues: orderedIssues,
    comments: (issueId) => comments.filter((c) => issueId === undefined || c.issue === issueId),
    issueWebhookPayload(issueId, action, activity = {}) {
      const issue = issues.find((i) => i.id === issueId);
      const data =
        action === 'deleted' || !issue
          ? { id: issueId }
          : { ...issueJson(issue, true), assignees: [], labels: [], project: options.projectId };
      return {
        event: 'issue',
        action,
        webhook_id: webhookId,
        workspace_id: workspaceId,
        data,
        activity: {
          field: activity.field ?? null,
          new_value: activity.new_value ?? null,
          old_value: activity.old_value ?? null,
          actor,
          old_identifier: null,
          new_identifier: null,
        },
      };
    },
    commentWebhookPayload(commentId) {
      const comment = comments.find((c) => c.id === commentId);
      return {
        event: 'issue_comment',
        action: 'created',
        webhook_id: webhookId,
        workspace_id: workspaceId,
        data: comment ? commentJson(comment) : { id: commentId },
        activity: { field: null, new_value: null, old_value: null, actor, old_identifier: null, new_identifier: null },
      };
    },
    close: () => server.close(),
  };
}

type Route =
  | { readonly kind: 'states' }
  | { readonly kind: 'issues' }
  | { readonly kind: 'issue'; readonly issueId: string }
  | { readonly kind: 'comments'; readonly issueId: string };

const ALLOWED: Readonly<Record<Route['kind'], readonly string[]>> = {
  states: ['GET'],
  issues: ['GET'],
  issue: ['GET', 'PATCH'],
  comments: ['GET', 'POST'],
};

/** Plane's URL patterns end with `/`; anything else is Django's 404. */
function parseRoute(rest: string): Route | undefined {
  if (rest === 'states/') return { kind: 'states' };
  const m = /^(?:issues|work-items)\/(?:([^/]+)\/(?:(comments)\/)?)?$/.exec(rest);
  if (!m) return undefined;
  const [, id, comments] = m;
  if (id === undefined) return { kind: 'issues' };
  const issueId = decodeURIComponent(id);
  return comments ? { kind: 'comments', issueId } : { kind: 'issue', issueId };
}

function headerOf(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function jsonBody(req: RecordedRequest): { value: Record<string, unknown> } | { reply: FakeReply } {
  const type = headerOf(req, 'content-type') ?? '';
  if (req.body.length > 0 && !type.includes('application/json')) {
    return { reply: { status: 415, body: { detail: `Unsupported media type "${type}" in request.` } } };
  }
  if (req.body.length === 0) return { value: {} };
  if (req.json === undefined) {
    return { reply: { status: 400, body: { detail: 'JSON parse error - Expecting value: line 1 column 1 (char 0)' } } };
  }
  if (req.json === null || typeof req.json !== 'object' || Array.isArray(req.json)) {
    return {
      reply: {
        status: 400,
        body: { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] },
      },
    };
  }
  return { value: req.json as Record<string, unknown> };
}

/** Plane's `OffsetPaginator` with the public API's limits (`paginator.py`). */
function paginate<T>(req: RecordedRequest, all: readonly T[], toJson: (item: T) => unknown): FakeReply {
  const rawPerPage = req.query.get('per_page');
  let perPage = MAX_PER_PAGE;
  if (rawPerPage !== null) {
    if (!/^-?\d+$/.test(rawPerPage.trim())) return { status: 400, body: { detail: 'Invalid per_page parameter.' } };
    perPage = Number(rawPerPage);
    if (perPage > MAX_PER_PAGE) {
      return { status: 400, body: { detail: `Invalid per_page value. Cannot exceed ${MAX_PER_PAGE}.` } };
    }
    if (perPage < 1) return { status: 400, body: { detail: 'Invalid per_page parameter.' } };
  }
  const rawCursor = req.query.get('cursor') ?? `${perPage}:0:0`;
  const parts = rawCursor.split(':');
  const [, pagePart = '', prevPart = ''] = parts;
  if (
    parts.length !== 3 ||
    !/^-?\d+(\.\d+)?$/.test(parts[0] ?? '') ||
    !/^-?\d+$/.test(pagePart) ||
    !/^\d+$/.test(prevPart)
  ) {
    return { status: 400, body: { detail: 'Invalid cursor parameter.' } };
  }
  const page = Number(pagePart);
  if (page < 0) return { status: 400, body: { detail: 'Pagination offset cannot be negative' } };
  const offset = page * perPage;
  const slice = all.slice(offset, offset + perPage);
  const hasMore = all.length > offset + perPage;
  const total = all.length;
  return {
    status: 200,
    body: {
      grouped_by: null,
      sub_grouped_by: null,
      total_count: total,
      next_cursor: `${perPage}:${page + 1}:0`,
      prev_cursor: `${perPage}:${page - 1}:1`,
      next_page_results: hasMore,
      prev_page_results: page > 0,
      count: slice.length,
      total_pages: Math.ceil(total / perPage),
      total_results: total,
      extra_stats: null,
      results: slice.map(toJson),
    },
  };
}
