import type {
  AsyncResult,
  ConveyorError,
  HistoryEntry,
  Job,
  JobQuery,
  Lease,
  Task,
  TaskQuery,
  TaskStatus,
} from '@conveyor/core';

/** The read-only view of the store the dashboard needs (any `Store` fits). */
export interface DashboardStore {
  listTasks(query: TaskQuery): AsyncResult<Task[], ConveyorError>;
  getTask(taskId: string): AsyncResult<Task | undefined, ConveyorError>;
  listHistory(taskId: string): AsyncResult<HistoryEntry[], ConveyorError>;
  listJobs(query: JobQuery): AsyncResult<Job[], ConveyorError>;
  listLeases(): AsyncResult<Lease[], ConveyorError>;
}

/** One gate's verdict inside a decision, as the dashboard shows it. */
export interface DashboardGateVerdict {
  readonly gateId: string;
  readonly status: string;
  readonly summary: string;
  readonly durationMs?: number;
  readonly findings?: readonly {
    readonly rule?: string;
    readonly file?: string;
    readonly line?: number;
    readonly message: string;
  }[];
}

/** One decision of an edge (from the decision record, or from history when there is none). */
export interface DashboardDecision {
  readonly edge: string;
  readonly status: string;
  readonly summary: string;
  /** epoch ms */
  readonly at: number;
  readonly headSha?: string;
  readonly baseSha?: string;
  readonly verdicts: readonly DashboardGateVerdict[];
}

/** A text shown on a task page: a gate report, an agent transcript. Redacted before it is served. */
export interface DashboardArtifact {
  readonly name: string;
  readonly text: string;
}

/** Where the optional parts of a task page come from. */
export interface DashboardSources {
  /** the task's decisions, newest last */
  readonly decisionsFor?: (task: Task) => Promise<readonly DashboardDecision[]>;
  /** the task's reports and transcripts */
  readonly artifactsFor?: (task: Task) => Promise<readonly DashboardArtifact[]>;
  /** the daemons' state (e.g. `daemons.board.snapshot()`) */
  readonly daemons?: () => unknown;
  /** removes secrets from a text before it is served; applied to every artifact, summary and finding */
  readonly redact: (text: string) => string;
}

/** A filter of `GET /api/tasks`. */
export interface TaskListQuery {
  readonly project?: string;
  readonly stage?: string;
  readonly status?: TaskStatus;
  /** case-insensitive substring of the id, issue id, title or branch */
  readonly q?: string;
  /** the last id of the previous page */
  readonly cursor?: string;
  readonly limit: number;
}

/** A page of `GET /api/tasks`. */
export interface TaskListPage {
  readonly tasks: readonly TaskSummaryJson[];
  /** pass as `cursor` for the next page; absent on the last page */
  readonly nextCursor?: string;
}

/** A task as the list shows it, with ISO-8601 times. */
export interface TaskSummaryJson {
  readonly id: string;
  readonly project: string;
  readonly issueId: string;
  readonly repo: string;
  readonly branch: string;
  readonly title: string;
  readonly stage: string;
  readonly status: TaskStatus;
  readonly step: number;
  readonly lastVerdict?: { readonly edge: string; readonly status: string; readonly summary: string };
  readonly reason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Everything a task page shows. */
export interface TaskDetailJson {
  readonly task: TaskSummaryJson & { readonly description: string; readonly findings?: string };
  readonly timeline: readonly {
    readonly seq: number;
    readonly from: string;
    readonly to: string;
    readonly cause: string;
    readonly verdictSummary?: string;
    readonly at: string;
  }[];
  readonly decisions: readonly (Omit<DashboardDecision, 'at'> & { readonly at: string })[];
  readonly jobs: readonly JobJson[];
  readonly artifacts: readonly DashboardArtifact[];
}

/** A job with ISO-8601 times. */
export interface JobJson {
  readonly id: string;
  readonly taskId: string;
  readonly stage: string;
  readonly agent: string;
  readonly kind: string;
  readonly status: string;
  readonly attempt: number;
  readonly pid?: number;
  readonly exitCode?: number | null;
  readonly reason?: string;
  readonly availableAt: string;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** The body of `GET /api/queue`. */
export interface QueueJson {
  readonly running: readonly JobJson[];
  readonly queued: readonly JobJson[];
  readonly leases: readonly {
    readonly name: string;
    readonly holder: string;
    readonly token: number;
    readonly acquiredAt: string;
    readonly expiresAt: string;
  }[];
  readonly daemons?: unknown;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

const SCAN_PAGE = 500;
/** the most tasks a search looks at for one page, so a search never scans without bound */
const SEARCH_BUDGET = 20_000;

export function taskSummary(task: Task, redact: (text: string) => string): TaskSummaryJson {
  const s = task.snapshot;
  return {
    id: task.id,
    project: task.project,
    issueId: task.issueId,
    repo: task.repo,
    branch: task.branch,
    title: redact(task.title),
    stage: s.stage,
    status: s.status,
    step: s.step,
    ...(s.lastVerdict
      ? {
          lastVerdict: {
            edge: s.lastVerdict.edge,
            status: s.lastVerdict.status,
            summary: redact(s.lastVerdict.summary),
          },
        }
      : {}),
    ...(s.reason === undefined ? {} : { reason: redact(s.reason) }),
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
  };
}

export function jobJson(job: Job, redact: (text: string) => string): JobJson {
  return {
    id: job.id,
    taskId: job.taskId,
    stage: job.stage,
    agent: job.agent,
    kind: job.kind,
    status: job.status,
    attempt: job.attempt,
    ...(job.pid === undefined ? {} : { pid: job.pid }),
    ...(job.exitCode === undefined ? {} : { exitCode: job.exitCode }),
    ...(job.reason === undefined ? {} : { reason: redact(job.reason) }),
    availableAt: iso(job.availableAt),
    createdAt: iso(job.createdAt),
    ...(job.startedAt === undefined ? {} : { startedAt: iso(job.startedAt) }),
    ...(job.finishedAt === undefined ? {} : { finishedAt: iso(job.finishedAt) }),
  };
}

function matches(task: Task, needle: string): boolean {
  return [task.id, task.issueId, task.title, task.branch].some((field) => field.toLowerCase().includes(needle));
}

/**
 * One page of tasks, ordered by id, with keyset pagination. Filters by
 * project, stage and status go to the store; a search reads pages of the
 * filtered list until the page is full (bounded by a budget, so it never
 * scans without end).
 */
export async function listTaskPage(
  store: DashboardStore,
  query: TaskListQuery,
  redact: (text: string) => string,
): Promise<TaskListPage | ConveyorError> {
  const base: TaskQuery = {
    ...(query.project ? { project: query.project } : {}),
    ...(query.stage ? { stage: query.stage } : {}),
    ...(query.status ? { statuses: [query.status] } : {}),
  };
  const needle = query.q?.trim().toLowerCase() || undefined;
  const pageSize = needle ? SCAN_PAGE : query.limit + 1;
  const found: Task[] = [];
  let after = query.cursor;
  let looked = 0;
  let exhausted = false;
  while (found.length <= query.limit && looked < SEARCH_BUDGET) {
    const page = await store.listTasks({ ...base, ...(after ? { afterId: after } : {}), limit: pageSize });
    if (!page.ok) return page.error;
    for (const task of page.value) {
      after = task.id;
      looked += 1;
      if (!needle || matches(task, needle)) found.push(task);
      if (found.length > query.limit) break;
    }
    if (page.value.length < pageSize) {
      exhausted = found.length <= query.limit;
      break;
    }
  }
  const tasks = found.slice(0, query.limit);
  // more matches were found: continue after the last one shown; the budget ran out: continue after the last one read
  const nextCursor = found.length > query.limit ? tasks.at(-1)?.id : exhausted ? undefined : after;
  return {
    tasks: tasks.map((t) => taskSummary(t, redact)),
    ...(nextCursor === undefined ? {} : { nextCursor }),
  };
}

/** Everything the task page shows, redacted; `undefined` when there is no such task. */
export async function taskDetail(
  store: DashboardStore,
  sources: DashboardSources,
  taskId: string,
): Promise<TaskDetailJson | undefined | ConveyorError> {
  const got = await store.getTask(taskId);
  if (!got.ok) return got.error;
  const task = got.value;
  if (task === undefined) return undefined;
  const { redact } = sources;
  const [history, jobs, decisions, artifacts] = await Promise.all([
    store.listHistory(task.id),
    store.listJobs({ taskId: task.id, limit: 200 }),
    sources.decisionsFor ? sources.decisionsFor(task) : Promise.resolve(undefined),
    sources.artifactsFor ? sources.artifactsFor(task) : Promise.resolve([]),
  ]);
  if (!history.ok) return history.error;
  if (!jobs.ok) return jobs.error;
  const timeline = history.value.map((h) => ({
    seq: h.seq,
    from: `${h.fromStage}/${h.fromStatus}`,
    to: `${h.toStage}/${h.toStatus}`,
    cause: h.cause,
    ...(h.verdictSummary === undefined ? {} : { verdictSummary: redact(h.verdictSummary) }),
    at: iso(h.at),
  }));
  const fromHistory: DashboardDecision[] = history.value
    .filter((h) => h.cause === 'gates.decided')
    .map((h) => ({
      edge: `${h.fromStage}->${h.toStage}`,
      status: h.toStage === h.fromStage ? 'defer' : `to ${h.toStage}`,
      summary: h.verdictSummary ?? '',
      at: h.at,
      verdicts: [],
    }));
  const shown = decisions ?? fromHistory;
  const { findings } = task.snapshot;
  return {
    task: {
      ...taskSummary(task, redact),
      description: redact(task.description),
      ...(findings === undefined ? {} : { findings: redact(findings) }),
    },
    timeline,
    decisions: shown.map((d) => ({
      ...d,
      summary: redact(d.summary),
      at: iso(d.at),
      verdicts: d.verdicts.map((v) => ({
        ...v,
        summary: redact(v.summary),
        ...(v.findings ? { findings: v.findings.map((f) => ({ ...f, message: redact(f.message) })) } : {}),
      })),
    })),
    jobs: jobs.value.map((j) => jobJson(j, redact)),
    artifacts: artifacts.map((a) => ({ name: a.name, text: redact(a.text) })),
  };
}

/** The queue, the leases and the daemons. */
export async function queueView(store: DashboardStore, sources: DashboardSources): Promise<QueueJson | ConveyorError> {
  const [running, queued, leases] = await Promise.all([
    store.listJobs({ statuses: ['running'], limit: 500 }),
    store.listJobs({ statuses: ['queued'], limit: 500 }),
    store.listLeases(),
  ]);
  if (!running.ok) return running.error;
  if (!queued.ok) return queued.error;
  if (!leases.ok) return leases.error;
  return {
    running: running.value.map((j) => jobJson(j, sources.redact)),
    queued: queued.value.map((j) => jobJson(j, sources.redact)),
    leases: leases.value.map((l) => ({
      name: l.name,
      holder: l.holder,
      token: l.token,
      acquiredAt: iso(l.acquiredAt),
      expiresAt: iso(l.expiresAt),
    })),
    ...(sources.daemons ? { daemons: sources.daemons() } : {}),
  };
}
