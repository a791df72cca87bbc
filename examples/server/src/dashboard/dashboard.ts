import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConveyorError,
  type ConveyorEventBus,
  conveyorError,
  err,
  type Logger,
  ok,
  type Result,
  type TaskStatus,
} from '@conveyor/core';
import { redactText } from '@conveyor/gates';
import {
  type DashboardSources,
  type DashboardStore,
  listTaskPage,
  queueView,
  type TaskListQuery,
  taskDetail,
} from './api.js';
import { createDashboardAuth, isLoopbackHost } from './auth.js';
import { createLiveHub, type LiveHub } from './live.js';
import { APP_CSS, APP_JS, loginPage, queuePage, taskListPage, taskPage } from './pages.js';

const PKG = '@conveyor/example-server';

/** Options of {@link createDashboard}. */
export interface DashboardOptions extends Partial<DashboardSources> {
  readonly store: DashboardStore;
  readonly events: ConveyorEventBus;
  readonly logger: Logger;
  /** `ORCH_DASHBOARD_TOKEN`; required unless the host listens on loopback only */
  readonly token?: string;
  /** the address the host listens on, to decide whether a missing token is allowed */
  readonly listenHost: string;
  /** default 50; at most 500 */
  readonly pageSize?: number;
}

/** The dashboard: HTML pages, the JSON API and live updates. */
export interface Dashboard {
  /**
   * Answers the request when it is the dashboard's (`/dashboard…`, `/api/…`)
   * and resolves true; false leaves it to the rest of the host.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  readonly live: LiveHub;
  /** ends the live streams */
  close(): void;
}

const STATUSES: readonly TaskStatus[] = ['active', 'awaiting_approval', 'gating', 'failed', 'rejected', 'done'];
const MAX_LOGIN_BODY = 4096;

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, HTML_HEADERS).end(html);
}

/** Reads the task-list filters from a query string; an unknown status is an error naming it. */
export function parseTaskListQuery(params: URLSearchParams, pageSize: number): Result<TaskListQuery, ConveyorError> {
  const status = params.get('status') || undefined;
  if (status !== undefined && !STATUSES.includes(status as TaskStatus) && status !== 'blocked') {
    return err(
      conveyorError(PKG, 'invalid_input', `status "${status}" is not one of ${[...STATUSES, 'blocked'].join(', ')}`),
    );
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? pageSize : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    return err(conveyorError(PKG, 'invalid_input', `limit "${limitText}" must be an integer from 1 to 500`));
  }
  const pick = (name: string) => params.get(name) || undefined;
  const project = pick('project');
  const stage = pick('stage');
  const q = pick('q');
  const cursor = pick('cursor');
  return ok({
    ...(project ? { project } : {}),
    ...(stage ? { stage } : {}),
    ...(status ? { status: status as TaskStatus } : {}),
    ...(q ? { q } : {}),
    ...(cursor ? { cursor } : {}),
    limit,
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_LOGIN_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Replaces the values of the host's secret-looking environment variables with their redacted preview. */
export function envRedactor(env: NodeJS.ProcessEnv = process.env): (text: string) => string {
  const secrets = Object.entries(env)
    .filter(([name, value]) => /TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL/i.test(name) && value && value.length >= 8)
    .map(([, value]) => value as string);
  return (text) => (secrets.some((secret) => text.includes(secret)) ? redactText(text, secrets) : text);
}

/**
 * Creates the operator's dashboard. With no token it refuses to start unless
 * the host listens on loopback only: a dashboard shows task titles, findings
 * and transcripts, which are not for the network.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ store, events, logger, token: process.env.ORCH_DASHBOARD_TOKEN, listenHost: '127.0.0.1' });
 * if (!dashboard.ok) throw dashboard.error;
 * createServer(async (req, res) => { if (!(await dashboard.value.handle(req, res))) res.writeHead(404).end(); });
 * ```
 */
export function createDashboard(options: DashboardOptions): Result<Dashboard, ConveyorError> {
  if ((options.token === undefined || options.token === '') && !isLoopbackHost(options.listenHost)) {
    return err(
      conveyorError(
        PKG,
        'invalid_config',
        `ORCH_DASHBOARD_TOKEN is required when the host listens on ${options.listenHost} (not loopback only)`,
      ),
    );
  }
  const auth = createDashboardAuth(options.token);
  const redactEnv = envRedactor();
  const redact = options.redact ? (text: string) => redactEnv(options.redact?.(text) ?? text) : redactEnv;
  const sources: DashboardSources = { ...options, redact };
  const pageSize = Math.min(options.pageSize ?? 50, 500);
  const live = createLiveHub({ events: options.events, redact });
  const log = options.logger.child({ component: 'dashboard' });

  const fail = (res: ServerResponse, error: ConveyorError) => {
    log.error('dashboard request failed', { code: error.code, error: error.message });
    sendJson(res, 500, { error: error.message });
  };

  const isError = (value: unknown): value is ConveyorError => value instanceof ConveyorError;

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    if (path === '/dashboard/assets/app.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }).end(APP_CSS);
      return;
    }
    if (path === '/dashboard/assets/app.js') {
      res
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' })
        .end(APP_JS);
      return;
    }
    if (path === '/dashboard/login') {
      if (req.method === 'GET') return sendHtml(res, 200, loginPage(false));
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'use GET or POST' });
      const form = await readForm(req);
      const token = form?.get('token') ?? '';
      const cookie = auth.sessionCookie();
      if (cookie === undefined) {
        res.writeHead(303, { location: '/dashboard' }).end();
        return;
      }
      if (!auth.checkToken(token)) {
        log.warn('dashboard login refused', {});
        return sendHtml(res, 401, loginPage(true));
      }
      res.writeHead(303, { location: '/dashboard', 'set-cookie': cookie }).end();
      return;
    }
    if (!auth.allows(req)) {
      if (path.startsWith('/api/'))
        return sendJson(res, 401, {
          error: 'a dashboard token is required (Authorization: Bearer <ORCH_DASHBOARD_TOKEN>)',
        });
      res.writeHead(303, { location: '/dashboard/login' }).end();
      return;
    }
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'the dashboard is read-only: use GET' });

    if (path === '/api/events') return live.attach(res);
    if (path === '/api/tasks' || path === '/dashboard' || path === '/dashboard/') {
      const query = parseTaskListQuery(url.searchParams, pageSize);
      if (!query.ok) return sendJson(res, 400, { error: query.error.message });
      const page = await listTaskPage(options.store, query.value, redact);
      if (isError(page)) return fail(res, page);
      return path === '/api/tasks' ? sendJson(res, 200, page) : sendHtml(res, 200, taskListPage(query.value, page));
    }
    const taskMatch = /^\/(api|dashboard)\/tasks\/([^/]+)$/.exec(path);
    if (taskMatch) {
      const [, kind, rawId] = taskMatch;
      const detail = await taskDetail(options.store, sources, decodeURIComponent(rawId ?? ''));
      if (isError(detail)) return fail(res, detail);
      if (detail === undefined) {
        return kind === 'api'
          ? sendJson(res, 404, { error: `no task ${decodeURIComponent(rawId ?? '')}` })
          : sendHtml(res, 404, '<!doctype html><title>Not found</title><p>No such task.</p>');
      }
      return kind === 'api' ? sendJson(res, 200, detail) : sendHtml(res, 200, taskPage(detail));
    }
    if (path === '/api/queue' || path === '/dashboard/queue') {
      const queue = await queueView(options.store, sources);
      if (isError(queue)) return fail(res, queue);
      return path === '/api/queue' ? sendJson(res, 200, queue) : sendHtml(res, 200, queuePage(queue));
    }
    sendJson(res, 404, { error: `no dashboard route ${path}` });
  }

  return ok({
    live,
    close: () => live.close(),
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
      if (
        !(url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/') || url.pathname.startsWith('/api/'))
      ) {
        return false;
      }
      try {
        await route(req, res, url);
      } catch (thrown) {
        log.error('dashboard request threw', { error: String(thrown) });
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      }
      return true;
    },
  });
}
