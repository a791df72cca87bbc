import {
  type ConveyorError,
  conveyorError,
  type Decision,
  type DecisionOutcome,
  type DecisionStore,
  err,
  type GateVerdict,
  ok,
  type Result,
} from '@conveyor/core';
import { PKG } from './errors.js';
import type { SqliteContext } from './sqlite-context.js';

/** The decision record's table (migration 2). */
export const DECISIONS_SQL = `
CREATE TABLE decisions (
  seq INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  edge TEXT NOT NULL,
  step INTEGER NOT NULL,
  head_sha TEXT NOT NULL,
  base_sha TEXT NOT NULL,
  base_branch TEXT NOT NULL,
  fence INTEGER NOT NULL,
  verdicts TEXT NOT NULL DEFAULT '[]',
  outcome TEXT,
  started_at INTEGER NOT NULL,
  decided_at INTEGER,
  applied_at INTEGER,
  UNIQUE (task_id, step)
);
`;

const PREFIX = 'dec_';

interface Row {
  seq: number;
  task_id: string;
  edge: string;
  step: number;
  head_sha: string;
  base_sha: string;
  base_branch: string;
  fence: number;
  verdicts: string;
  outcome: string | null;
  started_at: number;
  decided_at: number | null;
  applied_at: number | null;
}

function toDecision(row: Row): Decision {
  return {
    id: `${PREFIX}${String(row.seq).padStart(12, '0')}`,
    taskId: row.task_id,
    edge: row.edge,
    step: row.step,
    headSha: row.head_sha,
    baseSha: row.base_sha,
    baseBranch: row.base_branch,
    fence: row.fence,
    verdicts: JSON.parse(row.verdicts) as GateVerdict[],
    ...(row.outcome === null ? {} : { outcome: JSON.parse(row.outcome) as DecisionOutcome }),
    startedAt: row.started_at,
    ...(row.decided_at === null ? {} : { decidedAt: row.decided_at }),
    ...(row.applied_at === null ? {} : { appliedAt: row.applied_at }),
  };
}

function seqOf(id: string): number | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  const n = Number(id.slice(PREFIX.length));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The decision record of the SQLite store: one row per (task, step), writes
 * fenced by the `decide:<taskId>` lease token inside `BEGIN IMMEDIATE`, so two
 * processes on one file never both record an outcome.
 *
 * @example
 * ```ts
 * const decisions = createSqliteDecisions(createSqliteContext(db, path));
 * ```
 */
export function createSqliteDecisions(ctx: SqliteContext): DecisionStore {
  const run = <T>(operation: keyof DecisionStore, body: () => Result<T, ConveyorError>) =>
    // the context names store operations; a decision method is one of the store's too
    ctx.run(operation as Parameters<SqliteContext['run']>[0], body);
  const immediate = <T>(fn: () => T): T => ctx.immediate(fn);
  const db = { prepare: ctx.prepare };
  const s = {
    insert: db.prepare(
      `INSERT INTO decisions (task_id, edge, step, head_sha, base_sha, base_branch, fence, started_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id, step) DO NOTHING RETURNING *`,
    ),
    byStep: db.prepare('SELECT * FROM decisions WHERE task_id = ? AND step = ?'),
    bySeq: db.prepare('SELECT * FROM decisions WHERE seq = ?'),
    takeOver: db.prepare('UPDATE decisions SET fence = ? WHERE seq = ? AND outcome IS NULL AND fence < ?'),
    setVerdicts: db.prepare('UPDATE decisions SET verdicts = ? WHERE seq = ?'),
    setOutcome: db.prepare('UPDATE decisions SET outcome = ?, decided_at = ? WHERE seq = ?'),
    applied: db.prepare(
      'UPDATE decisions SET applied_at = ? WHERE seq = ? AND applied_at IS NULL AND outcome IS NOT NULL',
    ),
    list: db.prepare('SELECT * FROM decisions WHERE task_id = ? ORDER BY step'),
  };

  function writable(decisionId: string, fence: number): Result<Row, ConveyorError> {
    const seq = seqOf(decisionId);
    const row = seq === undefined ? undefined : (s.bySeq.get(seq) as Row | undefined);
    if (row === undefined) return err(conveyorError(PKG, 'not_found', `decision ${decisionId} does not exist`));
    if (row.fence !== fence) {
      return err(
        conveyorError(PKG, 'lease_lost', `decision ${decisionId} is held by fence ${row.fence}, not ${fence}`),
      );
    }
    if (row.outcome !== null) return err(conveyorError(PKG, 'conflict', `decision ${decisionId} is decided`));
    return ok(row);
  }

  return {
    startDecision(input) {
      return run<{ decision: Decision; created: boolean }>('startDecision', () =>
        immediate((): Result<{ decision: Decision; created: boolean }, ConveyorError> => {
          const inserted = s.insert.get(
            input.taskId,
            input.edge,
            input.step,
            input.headSha,
            input.baseSha,
            input.baseBranch,
            input.fence,
            input.now,
          ) as Row | undefined;
          if (inserted) return ok({ decision: toDecision(inserted), created: true });
          const existing = s.byStep.get(input.taskId, input.step) as Row;
          s.takeOver.run(input.fence, existing.seq, input.fence);
          return ok({ decision: toDecision(s.bySeq.get(existing.seq) as Row), created: false });
        }),
      );
    },
    recordGateVerdict(input) {
      return run<Decision>('recordGateVerdict', () =>
        immediate((): Result<Decision, ConveyorError> => {
          const row = writable(input.decisionId, input.fence);
          if (!row.ok) return err(row.error);
          const verdicts = [...(JSON.parse(row.value.verdicts) as GateVerdict[]), input.verdict];
          s.setVerdicts.run(JSON.stringify(verdicts), row.value.seq);
          return ok(toDecision(s.bySeq.get(row.value.seq) as Row));
        }),
      );
    },
    finishDecision(input) {
      return run<Decision>('finishDecision', () =>
        immediate((): Result<Decision, ConveyorError> => {
          const row = writable(input.decisionId, input.fence);
          if (!row.ok) return err(row.error);
          s.setOutcome.run(JSON.stringify(input.outcome), input.now, row.value.seq);
          return ok(toDecision(s.bySeq.get(row.value.seq) as Row));
        }),
      );
    },
    markDecisionApplied(decisionId, now) {
      return run('markDecisionApplied', () => {
        const seq = seqOf(decisionId);
        const row = seq === undefined ? undefined : (s.bySeq.get(seq) as Row | undefined);
        if (row === undefined) return err(conveyorError(PKG, 'not_found', `decision ${decisionId} does not exist`));
        if (row.outcome === null) {
          return err(conveyorError(PKG, 'conflict', `decision ${decisionId} has no outcome to apply`));
        }
        return ok({ applied: s.applied.run(now, row.seq).changes === 1 });
      });
    },
    getDecision(taskId, step) {
      return run('getDecision', () => {
        const row = s.byStep.get(taskId, step) as Row | undefined;
        return ok(row === undefined ? undefined : toDecision(row));
      });
    },
    listDecisions(taskId) {
      return run('listDecisions', () => ok((s.list.all(taskId) as Row[]).map(toDecision)));
    },
  };
}
