import {
  type AcquireLease,
  type AsyncResult,
  type CardRefStore,
  type ConveyorError,
  createStoreErrors,
  type DecisionStore,
  err,
  type FinishJob,
  type FinishOutcome,
  type HistoryEntry,
  type Job,
  type JobQuery,
  type Lease,
  type LeaseAcquisition,
  type NewJob,
  type NewTask,
  ok,
  type RecordDelivery,
  type ReleaseLease,
  type RenewLease,
  type Result,
  type SaveTransition,
  type Store,
  type StoreCapabilities,
  type Task,
  type TaskQuery,
  toConveyorError,
} from '@conveyor/core';
import { createMemoryDecisions } from './memory-decisions.js';

const PKG = '@conveyor/testkit';
const errors = createStoreErrors(PKG);

/** The name of a {@link MemoryStore} method, as passed to {@link MemoryStoreOptions.fault}. */
export type MemoryStoreMethod = Exclude<keyof MemoryStore, 'capabilities'>;

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Fault injection for tests of callers: called before every method; a
   * returned error is what the method resolves to (nothing is changed).
   */
  readonly fault?: (method: MemoryStoreMethod) => ConveyorError | undefined;
}

/** An in-memory `Store` that also keeps card refs and the decision record. */
export type MemoryStore = Store & CardRefStore & DecisionStore;

interface MutableLease {
  name: string;
  holder: string;
  token: number;
  acquiredAt: number;
  expiresAt: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ID_WIDTH = 12;

function makeId(prefix: string, n: number): string {
  return `${prefix}_${String(n).padStart(ID_WIDTH, '0')}`;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Creates an in-memory `Store & CardRefStore` with the same semantics as the
 * SQLite store: one task per (project, issueId), jobs idempotent by `stepKey`,
 * `claimJobs` bounded by `maxConcurrency` and `availableAt`, the terminal flip
 * only from `running`, optimistic `saveTransition`, leases with fencing tokens
 * that only grow, and idempotent deliveries. Ids sort in creation order.
 *
 * Every value handed out is a copy; after `close()` every call resolves to an
 * error. `capabilities.crossProcess` is `false`: the state lives in one process.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * const res = await store.createTaskIfAbsent({ project: 'web', issueId: 'PLN-1', repo: 'acme/web', branch: 'task/PLN-1', title: 'Login', description: '', snapshot, now: 0 });
 * if (res.ok) console.log(res.value.task.id, res.value.created);
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const fault = options.fault;
  const tasks = new Map<string, Mutable<Task>>();
  const taskByIssue = new Map<string, string>();
  const history = new Map<string, HistoryEntry[]>();
  const jobs = new Map<string, Mutable<Job>>();
  const jobByStep = new Map<string, string>();
  const leases = new Map<string, MutableLease>();
  const lastToken = new Map<string, number>();
  const deliveries = new Set<string>();
  const cardRefs = new Map<string, string>();
  let taskSeq = 0;
  let jobSeq = 0;
  let closed = false;

  function guard<T>(
    method: MemoryStoreMethod,
    body: () => Result<T, ConveyorError>,
  ): Promise<Result<T, ConveyorError>> {
    if (closed) {
      return Promise.resolve(err(errors.closed(method, 'the memory store')));
    }
    const injected = fault?.(method);
    if (injected) return Promise.resolve(err(injected));
    try {
      return Promise.resolve(body());
    } catch (thrown) {
      return Promise.resolve(err(toConveyorError(PKG, thrown, 'internal', `memory store ${method}() failed`)));
    }
  }

  /** Turns a validator's answer into an early error result, or `undefined` to go on. */
  function refuse(problem: ConveyorError | undefined): Result<never, ConveyorError> | undefined {
    return problem ? err(problem) : undefined;
  }

  function leaseCopy(lease: MutableLease): Lease {
    return { ...lease };
  }

  const issueKey = (project: string, issueId: string): string => `${project}\u0000${issueId}`;

  const store: MemoryStore = {
    ...createMemoryDecisions(guard),
    capabilities: Object.freeze<StoreCapabilities>({ crossProcess: false }),

    createTaskIfAbsent(input: NewTask): AsyncResult<{ task: Task; created: boolean }, ConveyorError> {
      return guard<{ task: Task; created: boolean }>('createTaskIfAbsent', () => {
        const key = issueKey(input.project, input.issueId);
        const existingId = taskByIssue.get(key);
        const existing = existingId === undefined ? undefined : tasks.get(existingId);
        if (existing) return ok({ task: copy(existing), created: false });
        taskSeq += 1;
        const task: Mutable<Task> = {
          id: makeId('task', taskSeq),
          project: input.project,
          issueId: input.issueId,
          repo: input.repo,
          branch: input.branch,
          title: input.title,
          description: input.description,
          snapshot: copy(input.snapshot),
          version: 1,
          createdAt: input.now,
          updatedAt: input.now,
        };
        tasks.set(task.id, task);
        taskByIssue.set(key, task.id);
        history.set(task.id, []);
        return ok({ task: copy(task), created: true });
      });
    },

    getTask(taskId) {
      return guard('getTask', () => {
        const task = tasks.get(taskId);
        return ok(task ? copy(task) : undefined);
      });
    },

    findTaskByIssue(project, issueId) {
      return guard('findTaskByIssue', () => {
        const id = taskByIssue.get(issueKey(project, issueId));
        const task = id === undefined ? undefined : tasks.get(id);
        return ok(task ? copy(task) : undefined);
      });
    },

    findTaskByBranch(repo, branch) {
      return guard('findTaskByBranch', () => {
        const found = [...tasks.values()].filter((t) => t.repo === repo && t.branch === branch).sort(byId)[0];
        return ok(found ? copy(found) : undefined);
      });
    },

    listTasks(query: TaskQuery) {
      return guard('listTasks', () => {
        const bad = refuse(errors.checkLimit('listTasks', query.limit));
        if (bad) return bad;
        const found = [...tasks.values()]
          .filter(
            (t) =>
              (query.project === undefined || t.project === query.project) &&
              (query.repo === undefined || t.repo === query.repo) &&
              (query.stage === undefined || t.snapshot.stage === query.stage) &&
              (query.statuses === undefined || query.statuses.includes(t.snapshot.status)) &&
              (query.excludeStatuses === undefined || !query.excludeStatuses.includes(t.snapshot.status)) &&
              (query.updatedBefore === undefined || t.updatedAt < query.updatedBefore) &&
              (query.afterId === undefined || t.id > query.afterId),
          )
          .sort(byId);
        const limited = query.limit === undefined ? found : found.slice(0, query.limit);
        return ok(limited.map(copy));
      });
    },

    saveTransition(input: SaveTransition) {
      return guard('saveTransition', () => {
        const task = tasks.get(input.taskId);
        if (!task) return err(errors.taskNotFound('saveTransition', input.taskId));
        if (task.version !== input.expectedVersion) {
          return err(errors.versionConflict(input.taskId, task.version, input.expectedVersion));
        }
        const entries = history.get(task.id) ?? [];
        const entry: HistoryEntry = {
          taskId: task.id,
          seq: entries.length + 1,
          fromStage: task.snapshot.stage,
          fromStatus: task.snapshot.status,
          toStage: input.snapshot.stage,
          toStatus: input.snapshot.status,
          cause: input.cause,
          ...(input.verdictSummary === undefined ? {} : { verdictSummary: input.verdictSummary }),
          at: input.now,
        };
        task.snapshot = copy(input.snapshot);
        task.version += 1;
        task.updatedAt = input.now;
        entries.push(entry);
        history.set(task.id, entries);
        return ok(copy(task));
      });
    },

    listHistory(taskId) {
      return guard('listHistory', () => ok((history.get(taskId) ?? []).map(copy)));
    },

    enqueueJob(input: NewJob) {
      return guard<{ job: Job; created: boolean }>('enqueueJob', () => {
        const existingId = jobByStep.get(input.stepKey);
        const existing = existingId === undefined ? undefined : jobs.get(existingId);
        if (existing) return ok({ job: copy(existing), created: false });
        jobSeq += 1;
        const job: Mutable<Job> = {
          id: makeId('job', jobSeq),
          taskId: input.taskId,
          stage: input.stage,
          agent: input.agent,
          kind: input.kind,
          status: 'queued',
          attempt: input.attempt,
          stepKey: input.stepKey,
          ...(input.edge === undefined ? {} : { edge: input.edge }),
          input: copy(input.input),
          availableAt: input.availableAt,
          createdAt: input.now,
        };
        jobs.set(job.id, job);
        jobByStep.set(job.stepKey, job.id);
        return ok({ job: copy(job), created: true });
      });
    },

    claimJobs(input) {
      return guard('claimJobs', () => {
        const bad = refuse(errors.checkMaxConcurrency(input.maxConcurrency));
        if (bad) return bad;
        const all = [...jobs.values()];
        const running = all.filter((j) => j.status === 'running').length;
        const slots = input.maxConcurrency - running;
        if (slots <= 0) return ok([]);
        const claimable = all
          .filter((j) => j.status === 'queued' && j.availableAt <= input.now)
          .sort((a, b) => a.availableAt - b.availableAt || byId(a, b))
          .slice(0, slots);
        for (const job of claimable) {
          job.status = 'running';
          job.startedAt = input.now;
        }
        return ok(claimable.map(copy));
      });
    },

    setJobPid(jobId, pid) {
      return guard('setJobPid', () => {
        const job = jobs.get(jobId);
        if (!job) return err(errors.jobNotFound('setJobPid', jobId));
        if (job.status !== 'running') {
          return err(errors.jobNotRunning('setJobPid', jobId, job.status));
        }
        job.pid = pid;
        return ok(undefined);
      });
    },

    finishJob(input: FinishJob) {
      return guard('finishJob', (): Result<FinishOutcome, ConveyorError> => {
        const job = jobs.get(input.jobId);
        if (!job) return err(errors.jobNotFound('finishJob', input.jobId));
        if (job.status !== 'running') return ok({ won: false, job: copy(job) });
        job.status = input.status;
        job.finishedAt = input.now;
        if (input.exitCode !== undefined) job.exitCode = input.exitCode;
        if (input.reason !== undefined) job.reason = input.reason;
        return ok({ won: true, job: copy(job) });
      });
    },

    getJob(jobId) {
      return guard('getJob', () => {
        const job = jobs.get(jobId);
        return ok(job ? copy(job) : undefined);
      });
    },

    listJobs(query: JobQuery) {
      return guard('listJobs', () => {
        const bad = refuse(errors.checkLimit('listJobs', query.limit));
        if (bad) return bad;
        const found = [...jobs.values()]
          .filter(
            (j) =>
              (query.statuses === undefined || query.statuses.includes(j.status)) &&
              (query.taskId === undefined || j.taskId === query.taskId),
          )
          .sort(byId);
        const limited = query.limit === undefined ? found : found.slice(0, query.limit);
        return ok(limited.map(copy));
      });
    },

    cancelQueuedJobs(taskId, reason, now) {
      return guard('cancelQueuedJobs', () => {
        let count = 0;
        for (const job of jobs.values()) {
          if (job.taskId === taskId && job.status === 'queued') {
            job.status = 'cancelled';
            job.reason = reason;
            job.finishedAt = now;
            count += 1;
          }
        }
        return ok(count);
      });
    },

    acquireLease(input: AcquireLease) {
      return guard('acquireLease', (): Result<LeaseAcquisition, ConveyorError> => {
        const bad = refuse(errors.checkTtl('acquireLease', input.name, input.ttlMs));
        if (bad) return bad;
        const current = leases.get(input.name);
        if (current && current.expiresAt > input.now) return ok({ acquired: false, current: leaseCopy(current) });
        const token = (lastToken.get(input.name) ?? 0) + 1;
        lastToken.set(input.name, token);
        const lease: MutableLease = {
          name: input.name,
          holder: input.holder,
          token,
          acquiredAt: input.now,
          expiresAt: input.now + input.ttlMs,
        };
        leases.set(input.name, lease);
        return ok({ acquired: true, lease: leaseCopy(lease) });
      });
    },

    renewLease(input: RenewLease) {
      return guard('renewLease', () => {
        const bad = refuse(errors.checkTtl('renewLease', input.name, input.ttlMs));
        if (bad) return bad;
        const current = leases.get(input.name);
        if (
          !current ||
          current.holder !== input.holder ||
          current.token !== input.token ||
          current.expiresAt <= input.now
        ) {
          return err(errors.leaseLost(input, current));
        }
        current.expiresAt = input.now + input.ttlMs;
        return ok(leaseCopy(current));
      });
    },

    releaseLease(input: ReleaseLease) {
      return guard<{ released: boolean }>('releaseLease', () => {
        const current = leases.get(input.name);
        if (
          !current ||
          current.holder !== input.holder ||
          (input.token !== undefined && current.token !== input.token)
        ) {
          return ok({ released: false });
        }
        leases.delete(input.name);
        return ok({ released: true });
      });
    },

    getLease(name) {
      return guard('getLease', () => {
        const current = leases.get(name);
        return ok(current ? leaseCopy(current) : undefined);
      });
    },

    listLeases() {
      return guard('listLeases', () =>
        ok([...leases.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(leaseCopy)),
      );
    },

    reclaimExpiredLeases(now) {
      return guard('reclaimExpiredLeases', () => {
        const freed = [...leases.values()]
          .filter((l) => l.expiresAt <= now)
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const lease of freed) leases.delete(lease.name);
        return ok(freed.map(leaseCopy));
      });
    },

    recordDelivery(input: RecordDelivery) {
      return guard<{ firstSeen: boolean }>('recordDelivery', () => {
        const key = `${input.source}\u0000${input.deliveryId}`;
        if (deliveries.has(key)) return ok({ firstSeen: false });
        deliveries.add(key);
        return ok({ firstSeen: true });
      });
    },

    getCardRef(taskId, channel) {
      return guard('getCardRef', () => ok(cardRefs.get(`${taskId}\u0000${channel}`)));
    },

    setCardRef(taskId, channel, ref) {
      return guard('setCardRef', () => {
        cardRefs.set(`${taskId}\u0000${channel}`, ref);
        return ok(undefined);
      });
    },

    deleteCardRef(taskId, channel) {
      return guard('deleteCardRef', () => {
        cardRefs.delete(`${taskId}\u0000${channel}`);
        return ok(undefined);
      });
    },

    close() {
      if (closed) return Promise.resolve(ok(undefined));
      closed = true;
      return Promise.resolve(ok(undefined));
    },
  };
  return store;
}
