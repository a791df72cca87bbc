import {
  type AsyncResult,
  ConveyorError,
  createHttpClient,
  err,
  type HttpClient,
  type HttpRequest,
  ok,
  type Page,
  type PageRequest,
  type Result,
  type Tracker,
  type TrackerIssue,
} from '@conveyor/core';
import type * as z from 'zod';
import {
  describeZodError,
  type PlaneIssueBody,
  pageSchema,
  planeIssueSchema,
  planeStateSchema,
  withIdSchema,
} from './plane-schemas.js';

/** The package name errors carry. */
export const PLANE_PKG = '@conveyor/adapter-plane';

/** Plane rejects a larger `per_page` with 400 (`paginator.py`), so the adapter never asks for more. */
export const PLANE_MAX_PER_PAGE = 1000;

/** Options of {@link createPlaneTracker}. Frozen on creation. */
export interface PlaneTrackerOptions {
  /** Plane's address, e.g. `https://plane.example.com` (a trailing `/api/v1` is accepted too) */
  readonly baseUrl: string;
  /** an API token, sent as `X-API-Key` */
  readonly apiKey: string;
  /** the workspace slug from Plane's URLs, e.g. `acme` */
  readonly workspaceSlug: string;
  /** the project uuid */
  readonly projectId: string;
  /** the project's identifier (e.g. `WEB`): when given, issues get a `key` such as `WEB-12` */
  readonly projectIdentifier?: string;
  /** per attempt; default 10 000 ms */
  readonly timeoutMs?: number;
  /** retries for 429, 5xx and network errors; default 3 */
  readonly retries?: number;
  /** the default page size of {@link PlaneTracker.listIssuesByState}; default 100, at most 1000 */
  readonly perPage?: number;
  /** `issues` (default, what every Plane version serves) or `work-items` (the newer name of the same endpoints) */
  readonly resource?: 'issues' | 'work-items';
  /** first retry backoff; default 200 ms */
  readonly minBackoffMs?: number;
  /** backoff ceiling; default 5 000 ms */
  readonly maxBackoffMs?: number;
  /** a longer server-requested wait fails `rate_limited` instead; default 60 000 ms */
  readonly maxRetryAfterMs?: number;
  /** the fetch implementation; default `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch;
  /** how to wait between attempts (tests pass `async () => {}`); default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One workflow state of the project. */
export interface PlaneState {
  readonly id: string;
  readonly name: string;
  /** `backlog`, `unstarted`, `started`, `completed` or `cancelled` */
  readonly group?: string;
}

/**
 * The Plane `Tracker`, plus the state look-ups a host needs for webhook
 * events that carry only a state id.
 *
 * @example
 * ```ts
 * if (event.kind === 'tracker.issue' && event.issue.stateId === event.issue.state) {
 *   const name = await tracker.stateName(event.issue.stateId);
 * }
 * ```
 */
export interface PlaneTracker extends Tracker {
  /**
   * The project's states, from the per-client cache (loaded on first use;
   * `refresh: true` reloads it).
   */
  listStates(options?: { readonly refresh?: boolean }): AsyncResult<readonly PlaneState[], ConveyorError>;
  /**
   * The name of a state uuid (a webhook may carry only the id), reloading the
   * cache once when the id is unknown; `not_found` when Plane has no such state.
   */
  stateName(stateId: string): AsyncResult<string, ConveyorError>;
}

interface StateCache {
  readonly states: readonly PlaneState[];
  readonly byId: ReadonlyMap<string, PlaneState>;
}

const CURSOR = /^(\d+(?:\.\d+)?):(-?\d+):([01])$/;

/**
 * Creates a `Tracker` over Plane's REST API (`/api/v1/workspaces/{slug}/projects/{project_id}/`),
 * authenticated with `X-API-Key`. State names are resolved to uuids through the
 * project's states list, cached per client and reloaded once on a miss.
 * Listing follows Plane's cursor pagination (`per_page`, `cursor`) and stops
 * when `next_page_results` is false (Plane always fills `next_cursor`).
 * Every method resolves to a `Result`; nothing throws.
 *
 * @example
 * ```ts
 * const tracker = createPlaneTracker({
 *   baseUrl: 'https://plane.example.com',
 *   apiKey: process.env.PLANE_API_KEY ?? '',
 *   workspaceSlug: 'acme',
 *   projectId: '4af7…',
 * });
 * const page = await tracker.listIssuesByState('Todo', { perPage: 50 });
 * if (page.ok) for (const issue of page.value.items) await tracker.setState(issue.id, 'In Progress');
 * ```
 */
export function createPlaneTracker(options: PlaneTrackerOptions): PlaneTracker {
  const opts = Object.freeze({ ...options });
  const configError = validateOptions(opts);
  const resource = opts.resource ?? 'issues';
  const root = opts.baseUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
  const http: HttpClient = createHttpClient({
    pkg: PLANE_PKG,
    baseUrl: `${root}/api/v1/workspaces/${encodeURIComponent(opts.workspaceSlug)}/projects/${encodeURIComponent(opts.projectId)}/`,
    headers: { 'X-API-Key': opts.apiKey },
    redact: [opts.apiKey],
    ...pick(opts, ['timeoutMs', 'retries', 'minBackoffMs', 'maxBackoffMs', 'maxRetryAfterMs', 'fetch', 'sleep']),
  });

  let cache: StateCache | undefined;
  let loading: Promise<Result<StateCache, ConveyorError>> | undefined;

  const request = async <S extends z.ZodType>(
    req: HttpRequest,
    schema: S,
    what: string,
  ): Promise<Result<z.infer<S>, ConveyorError>> => {
    if (configError) return err(configError);
    const res = await http.request(req);
    if (!res.ok) return err(res.error);
    const parsed = schema.safeParse(res.value.body);
    if (!parsed.success) {
      return err(
        new ConveyorError(
          PLANE_PKG,
          'api_refused',
          `Plane's answer to ${req.method} ${req.path} is not ${what}: ${describeZodError(parsed.error, 'body')}`,
          { details: { method: req.method, path: req.path, status: res.value.status } },
        ),
      );
    }
    return ok(parsed.data);
  };

  const loadStates = async (): Promise<Result<StateCache, ConveyorError>> => {
    const states: PlaneState[] = [];
    let cursor: string | undefined;
    // Plane serves at most 1000 states per page; a project never has many, but follow the cursor anyway.
    for (let pageNo = 0; pageNo < 100; pageNo += 1) {
      const page = await request(
        {
          method: 'GET',
          path: 'states/',
          query: { per_page: PLANE_MAX_PER_PAGE, ...(cursor === undefined ? {} : { cursor }) },
        },
        pageSchema(planeStateSchema),
        'a page of states',
      );
      if (!page.ok) return err(page.error);
      for (const s of page.value.results) {
        states.push(Object.freeze({ id: s.id, name: s.name, ...(s.group ? { group: s.group } : {}) }));
      }
      const next = page.value.next_cursor;
      // A cursor that does not move would loop forever (a proxy or a misbehaving server).
      if (!page.value.next_page_results || !next || next === cursor) break;
      cursor = next;
    }
    return ok({ states: Object.freeze(states), byId: new Map(states.map((s) => [s.id, s])) });
  };

  const getStates = async (refresh: boolean): Promise<Result<StateCache, ConveyorError>> => {
    if (!refresh && cache) return ok(cache);
    // Concurrent callers share one load.
    if (!loading) {
      loading = loadStates().then((result) => {
        loading = undefined;
        if (result.ok) cache = result.value;
        return result;
      });
    }
    return loading;
  };

  const stateIdByName = async (name: string): Promise<Result<string, ConveyorError>> => {
    if (name.trim() === '') {
      return err(new ConveyorError(PLANE_PKG, 'invalid_input', 'the state name is empty'));
    }
    const hadCache = cache !== undefined;
    let states = await getStates(false);
    if (!states.ok) return err(states.error);
    let found = findState(states.value.states, name);
    if (!found && hadCache) {
      // The cache may predate a state added in Plane: reload once.
      states = await getStates(true);
      if (!states.ok) return err(states.error);
      found = findState(states.value.states, name);
    }
    if (!found) {
      const known = states.value.states.map((s) => `"${s.name}"`).join(', ');
      return err(
        new ConveyorError(
          PLANE_PKG,
          'invalid_input',
          `Plane project ${opts.projectId} has no state named "${name}"; known states: ${known || '(none)'}`,
          { details: { state: name, known: states.value.states.map((s) => s.name) } },
        ),
      );
    }
    return ok(found.id);
  };

  const stateName = async (stateId: string): Promise<Result<string, ConveyorError>> => {
    let states = await getStates(false);
    if (!states.ok) return err(states.error);
    let found = states.value.byId.get(stateId);
    if (!found) {
      states = await getStates(true);
      if (!states.ok) return err(states.error);
      found = states.value.byId.get(stateId);
    }
    if (!found) {
      return err(
        new ConveyorError(PLANE_PKG, 'not_found', `Plane project ${opts.projectId} has no state with id ${stateId}`, {
          details: { stateId },
        }),
      );
    }
    return ok(found.name);
  };

  const toIssue = async (body: PlaneIssueBody): Promise<Result<TrackerIssue, ConveyorError>> => {
    const { stateId } = stateOf(body);
    let { name } = stateOf(body);
    if (name === undefined && stateId !== undefined) {
      const resolved = await stateName(stateId);
      // An unknown id (a state deleted meanwhile) still names the issue's state by its id.
      name = resolved.ok ? resolved.value : stateId;
    }
    return ok(
      normaliseIssue(body, {
        project: opts.projectId,
        state: name ?? '',
        ...(stateId === undefined ? {} : { stateId }),
        ...(opts.projectIdentifier === undefined ? {} : { projectIdentifier: opts.projectIdentifier }),
      }),
    );
  };

  const issuePath = (issueId: string, suffix = ''): Result<string, ConveyorError> => {
    if (typeof issueId !== 'string' || issueId.trim() === '') {
      return err(new ConveyorError(PLANE_PKG, 'invalid_input', 'the issue id is empty'));
    }
    return ok(`${resource}/${encodeURIComponent(issueId)}/${suffix}`);
  };

  return Object.freeze({
    async getIssue(issueId: string): AsyncResult<TrackerIssue, ConveyorError> {
      const path = issuePath(issueId);
      if (!path.ok) return err(path.error);
      const body = await request(
        { method: 'GET', path: path.value, query: { expand: 'state' } },
        planeIssueSchema,
        'an issue',
      );
      if (!body.ok) return err(body.error);
      return toIssue(body.value);
    },

    async listIssuesByState(state: string, page: PageRequest = {}): AsyncResult<Page<TrackerIssue>, ConveyorError> {
      if (configError) return err(configError);
      const stateId = await stateIdByName(state);
      if (!stateId.ok) return err(stateId.error);
      let perPage = page.perPage ?? opts.perPage ?? 100;
      if (page.cursor !== undefined) {
        const match = CURSOR.exec(page.cursor);
        if (!match) {
          return err(
            new ConveyorError(
              PLANE_PKG,
              'invalid_input',
              `the cursor "${page.cursor}" is not a Plane cursor (<per_page>:<page>:<is_prev>)`,
            ),
          );
        }
        // Plane pages by the `per_page` of each request: keep the size the cursor was made with so no item is skipped.
        perPage = Math.floor(Number(match[1]));
      }
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > PLANE_MAX_PER_PAGE) {
        return err(
          new ConveyorError(
            PLANE_PKG,
            'invalid_input',
            `perPage must be an integer from 1 to ${PLANE_MAX_PER_PAGE}, got ${perPage}`,
          ),
        );
      }
      const body = await request(
        {
          method: 'GET',
          path: `${resource}/`,
          query: {
            state: stateId.value,
            per_page: perPage,
            expand: 'state',
            ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
          },
        },
        pageSchema(planeIssueSchema),
        'a page of issues',
      );
      if (!body.ok) return err(body.error);
      const items: TrackerIssue[] = [];
      for (const raw of body.value.results) {
        const issue = await toIssue(raw);
        if (!issue.ok) return err(issue.error);
        // A server that ignores the `state` filter still yields only the asked state.
        if (issue.value.stateId === undefined || issue.value.stateId === stateId.value) items.push(issue.value);
      }
      const next = body.value.next_page_results ? body.value.next_cursor : undefined;
      return ok(next ? { items, nextCursor: next } : { items });
    },

    async setState(issueId: string, state: string): AsyncResult<void, ConveyorError> {
      if (configError) return err(configError);
      const path = issuePath(issueId);
      if (!path.ok) return err(path.error);
      const stateId = await stateIdByName(state);
      if (!stateId.ok) return err(stateId.error);
      const res = await request(
        // setting the same state twice is harmless: a lost answer may be retried
        { method: 'PATCH', path: path.value, body: { state: stateId.value }, retry: true },
        withIdSchema,
        'the updated issue',
      );
      if (!res.ok) {
        // Plane refused the uuid: the cached states are stale, so the next call reloads them.
        if (res.error.code === 'invalid_input') cache = undefined;
        return err(res.error);
      }
      return ok();
    },

    async comment(issueId: string, html: string): AsyncResult<void, ConveyorError> {
      const path = issuePath(issueId, 'comments/');
      if (!path.ok) return err(path.error);
      if (typeof html !== 'string' || html.trim() === '') {
        return err(new ConveyorError(PLANE_PKG, 'invalid_input', 'the comment is empty'));
      }
      const res = await request(
        { method: 'POST', path: path.value, body: { comment_html: html } },
        withIdSchema,
        'the created comment',
      );
      return res.ok ? ok() : err(res.error);
    },

    async listStates(options: { readonly refresh?: boolean } = {}) {
      if (configError) return err(configError);
      const states = await getStates(options.refresh === true);
      return states.ok ? ok(states.value.states) : err(states.error);
    },

    async stateName(stateId: string) {
      if (configError) return err(configError);
      return stateName(stateId);
    },
  } satisfies PlaneTracker);
}

/** What {@link normaliseIssue} needs beside the issue body. */
export interface NormaliseIssueContext {
  /** used when the body names no project */
  readonly project: string;
  /** the state's name (or its id when the name is unknown) */
  readonly state: string;
  readonly stateId?: string;
  readonly projectIdentifier?: string;
}

/**
 * Maps a Plane issue body (REST or webhook) to a core `TrackerIssue`: the
 * description is `description_html` (else `description`, else the stripped
 * text), the project is the body's (else `context.project`), and `key` is
 * `<projectIdentifier>-<sequence_id>` when both are known.
 *
 * @example
 * ```ts
 * const issue = normaliseIssue({ id: 'i1', name: 'Fix login', sequence_id: 7 }, { project: 'p1', state: 'Todo', projectIdentifier: 'WEB' });
 * // { id: 'i1', project: 'p1', key: 'WEB-7', title: 'Fix login', description: '', state: 'Todo' }
 * ```
 */
export function normaliseIssue(
  body: {
    readonly id: string;
    readonly name: string;
    readonly project?: string | { readonly id: string } | null | undefined;
    readonly project_id?: string | null | undefined;
    readonly sequence_id?: number | null | undefined;
    readonly description_html?: string | null | undefined;
    readonly description_stripped?: string | null | undefined;
    readonly description?: unknown;
    readonly updated_at?: string | null | undefined;
  },
  context: NormaliseIssueContext,
): TrackerIssue {
  const project = projectOf(body) ?? context.project;
  const description =
    body.description_html ??
    (typeof body.description === 'string' ? body.description : undefined) ??
    body.description_stripped ??
    '';
  const key =
    context.projectIdentifier && typeof body.sequence_id === 'number'
      ? `${context.projectIdentifier}-${body.sequence_id}`
      : undefined;
  return Object.freeze({
    id: body.id,
    project,
    title: body.name,
    description,
    state: context.state,
    ...(context.stateId === undefined ? {} : { stateId: context.stateId }),
    ...(key === undefined ? {} : { key }),
    ...(body.updated_at ? { updatedAt: body.updated_at } : {}),
  });
}

/** The state an issue body names: its id, and its name when the state is expanded. */
export function stateOf(body: {
  readonly state?: string | { readonly id: string; readonly name?: string | undefined } | null | undefined;
  readonly state_id?: string | null | undefined;
}): { readonly stateId?: string; readonly name?: string } {
  const ref = body.state;
  const stateId = (typeof ref === 'string' ? ref : ref?.id) || body.state_id || undefined;
  const name = typeof ref === 'object' && ref !== null ? ref.name : undefined;
  return { ...(stateId === undefined ? {} : { stateId }), ...(name === undefined ? {} : { name }) };
}

/** The project an issue body names (`project` as an id or object, or `project_id`), if any. */
export function projectOf(body: {
  readonly project?: string | { readonly id: string } | null | undefined;
  readonly project_id?: string | null | undefined;
}): string | undefined {
  return (typeof body.project === 'string' ? body.project : body.project?.id) || body.project_id || undefined;
}

function findState(states: readonly PlaneState[], name: string): PlaneState | undefined {
  const exact = states.find((s) => s.name === name);
  if (exact) return exact;
  const folded = name.trim().toLowerCase();
  const loose = states.filter((s) => s.name.trim().toLowerCase() === folded);
  // Only a unique case-insensitive match counts: never guess between two states.
  return loose.length === 1 ? loose[0] : undefined;
}

function validateOptions(opts: PlaneTrackerOptions): ConveyorError | undefined {
  const problems: string[] = [];
  for (const key of ['baseUrl', 'apiKey', 'workspaceSlug', 'projectId'] as const) {
    if (typeof opts[key] !== 'string' || opts[key].trim() === '') problems.push(`${key} is empty`);
  }
  if (typeof opts.baseUrl === 'string' && opts.baseUrl.trim() !== '') {
    try {
      const url = new URL(opts.baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('baseUrl is not an http(s) URL');
    } catch {
      problems.push(`baseUrl "${opts.baseUrl}" is not a URL`);
    }
  }
  if (
    opts.perPage !== undefined &&
    (!Number.isInteger(opts.perPage) || opts.perPage < 1 || opts.perPage > PLANE_MAX_PER_PAGE)
  ) {
    problems.push(`perPage must be an integer from 1 to ${PLANE_MAX_PER_PAGE}`);
  }
  if (problems.length === 0) return undefined;
  return new ConveyorError(PLANE_PKG, 'invalid_config', `createPlaneTracker options: ${problems.join('; ')}`);
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
