import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ConveyorEventBus,
  createEventBus,
  DEFAULT_STAGES,
  initialSnapshot,
  type StageSnapshot,
  silentLogger,
  type Task,
} from '@conveyor/core';
import { createSqliteStore, type SqliteStore } from '@conveyor/store-sqlite';
import { createDashboard, type Dashboard, type DashboardOptions } from '../src/dashboard/dashboard.js';

/** A leaked token as a gate's finding text shows it: redacted. */
export const REDACTED_FINDING =
  'github-pat src/config.ts:3 secret ghp_… (fingerprint abc123:src/config.ts:github-pat:3)';
export const START = Date.UTC(2026, 11, 2, 9, 0, 0);

export interface DashboardWorld {
  readonly url: string;
  readonly store: SqliteStore;
  readonly events: ConveyorEventBus;
  readonly dashboard: Dashboard;
  /** a task that went through a security rollback */
  readonly rolledBack: Task;
  /** moves a task to a new stage/status as the pipeline would, and emits the event */
  move(task: Task, to: Partial<StageSnapshot>, cause: string, verdictSummary?: string): Promise<Task>;
  close(): Promise<void>;
}

/**
 * A real SQLite store with `count` tasks (one of them rolled back by the
 * security gate), the dashboard on a real HTTP server on 127.0.0.1.
 */
export async function startDashboardWorld(
  dbPath: string,
  count: number,
  extra: Partial<DashboardOptions> = {},
): Promise<DashboardWorld> {
  const opened = createSqliteStore({ path: dbPath });
  if (!opened.ok) throw opened.error;
  const store = opened.value;
  const events = createEventBus();
  const snapshot = initialSnapshot(DEFAULT_STAGES);
  const chosen = Math.min(7, count - 1);
  for (let i = 0; i < count; i += 1) {
    const created = await store.createTaskIfAbsent({
      project: i % 3 === 0 ? 'shop' : 'web',
      issueId: `PLN-${i + 1}`,
      repo: i % 3 === 0 ? 'acme/shop' : 'acme/web',
      branch: `task/PLN-${i + 1}`,
      title: i === chosen ? 'Add the login page' : `Task number ${i + 1}`,
      description: 'Make it so.',
      snapshot,
      now: START + i,
    });
    if (!created.ok) throw created.error;
  }
  const move = async (task: Task, to: Partial<StageSnapshot>, cause: string, verdictSummary?: string) => {
    const fresh = await store.getTask(task.id);
    if (!fresh.ok || fresh.value === undefined) throw new Error(`no task ${task.id}`);
    const from = fresh.value.snapshot;
    const next = { ...from, ...to, step: from.step + 1 };
    const saved = await store.saveTransition({
      taskId: task.id,
      expectedVersion: fresh.value.version,
      snapshot: next,
      cause,
      ...(verdictSummary === undefined ? {} : { verdictSummary }),
      now: START + 60_000 + next.step,
    });
    if (!saved.ok) throw saved.error;
    events.emit('transition', {
      taskId: task.id,
      from: { stage: from.stage, status: from.status },
      to: { stage: next.stage, status: next.status },
      cause,
    });
    return saved.value;
  };
  const found = await store.findTaskByIssue(chosen % 3 === 0 ? 'shop' : 'web', `PLN-${chosen + 1}`);
  if (!found.ok || found.value === undefined) throw new Error('seed task missing');
  let task = found.value;
  task = await move(task, { stage: 'development', status: 'active' }, 'approved');
  task = await move(task, { stage: 'deploy-staging', status: 'active' }, 'job.finished');
  task = await move(task, { stage: 'deploy-staging', status: 'gating' }, 'job.finished');
  task = await move(
    task,
    {
      stage: 'development',
      status: 'active',
      developerRetries: 1,
      findings: REDACTED_FINDING,
      lastVerdict: { edge: 'deploy-staging->deploy', status: 'fail', summary: 'security: 1 secret found' },
    },
    'gates.decided',
    'security: 1 secret found',
  );

  const dashboard = createDashboard({
    store,
    events,
    logger: silentLogger,
    listenHost: '127.0.0.1',
    decisionsFor: async (t) =>
      t.id === task.id
        ? [
            {
              edge: 'deploy-staging->deploy',
              status: 'fail',
              summary: 'security: 1 secret found',
              at: START + 60_004,
              headSha: 'a'.repeat(40),
              baseSha: 'b'.repeat(40),
              verdicts: [
                {
                  gateId: 'security',
                  status: 'fail',
                  summary: '1 secret found',
                  durationMs: 412,
                  findings: [{ rule: 'github-pat', file: 'src/config.ts', line: 3, message: REDACTED_FINDING }],
                },
              ],
            },
          ]
        : [],
    ...extra,
  });
  if (!dashboard.ok) throw dashboard.error;
  const server: Server = createServer((req, res) => {
    void dashboard.value.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    events,
    dashboard: dashboard.value,
    rolledBack: task,
    move,
    async close() {
      dashboard.value.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
