// Differential test: random sequences of operations give the same results on
// the SQLite store and on the in-memory store of @conveyor/testkit (ids,
// versions, tokens, claim order, errors), so the two implement one contract.
import type { ConveyorError, Result, Store, TaskStatus } from '@conveyor/core';
import { createMemoryStore } from '@conveyor/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';

const statuses: TaskStatus[] = ['active', 'awaiting_approval', 'gating', 'failed', 'rejected', 'done'];
const taskId = (k: number): string => `task_${String(k).padStart(12, '0')}`;
const jobId = (k: number): string => `job_${String(k).padStart(12, '0')}`;
const snap = (stage: string, status: TaskStatus, step: number) => ({
  stage,
  status,
  step,
  developerRetries: 0,
  deferrals: 0,
  jobAttempts: step,
});

type Op = (store: Store) => Promise<Result<unknown, ConveyorError>>;

const now = fc.integer({ min: 0, max: 200 });
const stage = fc.constantFrom('development', 'review', 'deploy');
const status = fc.constantFrom(...statuses);

const enqueueOp = fc
  .record({ task: fc.integer({ min: 1, max: 6 }), step: fc.integer({ min: 1, max: 8 }), availableAt: now, now })
  .map((a) => ({
    name: `enqueueJob ${JSON.stringify(a)}`,
    run: (s: Store) =>
      s.enqueueJob({
        taskId: taskId(a.task),
        stage: 'development',
        agent: 'dev',
        kind: a.step % 3 === 0 ? 'decision' : 'agent',
        stepKey: `${taskId(a.task)}:${a.step}`,
        attempt: 1,
        ...(a.step % 2 === 0 ? { edge: 'development->review' } : {}),
        input: { description: `step ${a.step}` },
        availableAt: a.availableAt,
        now: a.now,
      }),
  }));

const claimOp = fc.record({ max: fc.integer({ min: 0, max: 4 }), now }).map((a) => ({
  name: `claimJobs ${JSON.stringify(a)}`,
  run: (s: Store) => s.claimJobs({ maxConcurrency: a.max, now: a.now }),
}));

const anyOp: fc.Arbitrary<{ name: string; run: Op }> = fc.oneof(
  fc
    .record({ issue: fc.integer({ min: 1, max: 5 }), project: fc.constantFrom('web', 'api'), stage, status, now })
    .map((a) => ({
      name: `createTaskIfAbsent ${JSON.stringify(a)}`,
      run: (s: Store) =>
        s.createTaskIfAbsent({
          project: a.project,
          issueId: `I-${a.issue}`,
          repo: `acme/${a.project}`,
          branch: `task/I-${a.issue}`,
          title: `t${a.issue}`,
          description: '',
          snapshot: snap(a.stage, a.status, 0),
          now: a.now,
        }),
    })),
  fc
    .record({
      task: fc.integer({ min: 1, max: 6 }),
      version: fc.integer({ min: 0, max: 4 }),
      stage,
      status,
      now,
      summary: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
    })
    .map((a) => ({
      name: `saveTransition ${JSON.stringify(a)}`,
      run: (s: Store) =>
        s.saveTransition({
          taskId: taskId(a.task),
          expectedVersion: a.version,
          snapshot: snap(a.stage, a.status, a.version),
          cause: 'c',
          ...(a.summary === undefined ? {} : { verdictSummary: a.summary }),
          now: a.now,
        }),
    })),
  enqueueOp,
  claimOp,
  fc.record({ job: fc.integer({ min: 1, max: 10 }), pid: fc.integer({ min: 1, max: 99_999 }) }).map((a) => ({
    name: `setJobPid ${JSON.stringify(a)}`,
    run: (s: Store) => s.setJobPid(jobId(a.job), a.pid),
  })),
  fc
    .record({
      job: fc.integer({ min: 1, max: 10 }),
      status: fc.constantFrom('succeeded' as const, 'failed' as const, 'cancelled' as const),
      exitCode: fc.option(fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }), { nil: undefined }),
      reason: fc.option(fc.constantFrom('r1', 'r2'), { nil: undefined }),
      now,
    })
    .map((a) => ({
      name: `finishJob ${JSON.stringify(a)}`,
      run: (s: Store) =>
        s.finishJob({
          jobId: jobId(a.job),
          status: a.status,
          ...(a.exitCode === undefined ? {} : { exitCode: a.exitCode }),
          ...(a.reason === undefined ? {} : { reason: a.reason }),
          now: a.now,
        }),
    })),
  fc.record({ task: fc.integer({ min: 1, max: 6 }), now }).map((a) => ({
    name: `cancelQueuedJobs ${JSON.stringify(a)}`,
    run: (s: Store) => s.cancelQueuedJobs(taskId(a.task), 'cancelled', a.now),
  })),
  fc
    .record({
      name: fc.constantFrom('a', 'b'),
      holder: fc.constantFrom('H1', 'H2', 'H3'),
      ttl: fc.integer({ min: 1, max: 60 }),
      now,
    })
    .map((a) => ({
      name: `acquireLease ${JSON.stringify(a)}`,
      run: (s: Store) => s.acquireLease({ name: a.name, holder: a.holder, ttlMs: a.ttl, now: a.now }),
    })),
  fc
    .record({
      name: fc.constantFrom('a', 'b'),
      holder: fc.constantFrom('H1', 'H2', 'H3'),
      token: fc.integer({ min: 1, max: 5 }),
      ttl: fc.integer({ min: 1, max: 60 }),
      now,
    })
    .map((a) => ({
      name: `renewLease ${JSON.stringify(a)}`,
      run: (s: Store) => s.renewLease({ name: a.name, holder: a.holder, token: a.token, ttlMs: a.ttl, now: a.now }),
    })),
  fc
    .record({
      name: fc.constantFrom('a', 'b'),
      holder: fc.constantFrom('H1', 'H2', 'H3'),
      token: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    })
    .map((a) => ({
      name: `releaseLease ${JSON.stringify(a)}`,
      run: (s: Store) =>
        s.releaseLease({ name: a.name, holder: a.holder, ...(a.token === undefined ? {} : { token: a.token }) }),
    })),
  now.map((t) => ({ name: `reclaimExpiredLeases ${t}`, run: (s: Store) => s.reclaimExpiredLeases(t) })),
  fc
    .record({ source: fc.constantFrom('plane', 'gitea'), id: fc.constantFrom('d1', 'd2'), now, claimMs: now })
    .map((a) => ({
      name: `recordDelivery ${JSON.stringify(a)}`,
      run: (s: Store) => s.recordDelivery({ source: a.source, deliveryId: a.id, now: a.now, claimMs: a.claimMs + 1 }),
    })),
  fc
    .record({
      source: fc.constantFrom('plane', 'gitea'),
      id: fc.constantFrom('d1', 'd2'),
      attempt: fc.integer({ min: 1, max: 3 }),
      handled: fc.boolean(),
      now,
    })
    .map((a) => ({
      name: `${a.handled ? 'markDeliveryHandled' : 'markDeliveryFailed'} ${JSON.stringify(a)}`,
      run: (s: Store) => {
        const settle = { source: a.source, deliveryId: a.id, attempt: a.attempt, now: a.now };
        return a.handled ? s.markDeliveryHandled(settle) : s.markDeliveryFailed(settle);
      },
    })),
  fc
    .record({
      project: fc.option(fc.constantFrom('web', 'api'), { nil: undefined }),
      stage: fc.option(stage, { nil: undefined }),
      statuses: fc.option(fc.subarray(statuses), { nil: undefined }),
      excludeStatuses: fc.option(fc.subarray(statuses), { nil: undefined }),
      updatedBefore: fc.option(now, { nil: undefined }),
      afterId: fc.option(
        fc.oneof(
          fc.integer({ min: 0, max: 6 }).map(taskId),
          fc.constantFrom('', 'task_', 'task_9', 'zzz', 'task_000000000002x'),
        ),
        { nil: undefined },
      ),
      limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    })
    .map((q) => {
      const query = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
      return { name: `listTasks ${JSON.stringify(query)}`, run: (s: Store) => s.listTasks(query) };
    }),
  fc
    .record({
      statuses: fc.option(fc.subarray(['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const), {
        nil: undefined,
      }),
      task: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    })
    .map((a) => {
      const query = {
        ...(a.statuses === undefined ? {} : { statuses: a.statuses }),
        ...(a.task === undefined ? {} : { taskId: taskId(a.task) }),
        ...(a.limit === undefined ? {} : { limit: a.limit }),
      };
      return { name: `listJobs ${JSON.stringify(query)}`, run: (s: Store) => s.listJobs(query) };
    }),
  fc.integer({ min: 1, max: 6 }).map((k) => ({
    name: `listHistory ${k}`,
    run: (s: Store) => s.listHistory(taskId(k)),
  })),
  fc.constant({ name: 'listLeases', run: (s: Store) => s.listLeases() }),
  fc.integer({ min: 1, max: 10 }).map((k) => ({ name: `getJob ${k}`, run: (s: Store) => s.getJob(jobId(k)) })),
);

// jobs are where the ordering rules live: make enqueue and claim frequent
const op = fc.oneof(
  { arbitrary: anyOp, weight: 4 },
  { arbitrary: enqueueOp, weight: 2 },
  { arbitrary: claimOp, weight: 1 },
);

function outcome(r: Result<unknown, ConveyorError>): unknown {
  return r.ok ? { ok: r.value } : { error: r.error.code };
}

describe('SQLite store vs in-memory store', () => {
  it('gives the same results for random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 80, size: 'max' }), async (ops) => {
        const memory = createMemoryStore();
        const opened = createSqliteStore({ path: ':memory:' });
        if (!opened.ok) throw opened.error;
        const sqlite = opened.value;
        try {
          for (const [i, o] of ops.entries()) {
            const expected = outcome(await o.run(memory));
            const actual = outcome(await o.run(sqlite));
            expect(actual, `step ${i}: ${o.name}`).toEqual(expected);
          }
        } finally {
          await sqlite.close();
          await memory.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
