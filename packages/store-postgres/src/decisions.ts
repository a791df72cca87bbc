import {
  type AsyncResult,
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
import type { PgQueryResult } from './pg-client.js';

const PREFIX = 'dec_';
const ID_WIDTH = 12;

type Row = Record<string, unknown>;

function toDecision(row: Row): Decision {
  return {
    id: `${PREFIX}${String(row.seq).padStart(ID_WIDTH, '0')}`,
    taskId: String(row.task_id),
    edge: String(row.edge),
    step: Number(row.step),
    headSha: String(row.head_sha),
    baseSha: String(row.base_sha),
    baseBranch: String(row.base_branch),
    fence: Number(row.fence),
    verdicts: row.verdicts as GateVerdict[],
    ...(row.outcome === null ? {} : { outcome: row.outcome as DecisionOutcome }),
    startedAt: Number(row.started_at),
    ...(row.decided_at === null ? {} : { decidedAt: Number(row.decided_at) }),
    ...(row.applied_at === null ? {} : { appliedAt: Number(row.applied_at) }),
  };
}

function seqOf(id: string): number | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  const n = Number(id.slice(PREFIX.length));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** What the decision record needs from the store: its statements and its error wrapper. */
export interface DecisionContext {
  /** the schema-qualified name of a table */
  table(name: string): string;
  /** runs a prepared statement named `name` */
  query(name: string, text: string, values: readonly unknown[]): Promise<PgQueryResult>;
  run<T>(operation: string, body: () => Promise<Result<T, ConveyorError>>): AsyncResult<T, ConveyorError>;
}

/**
 * The decision record on PostgreSQL: one row per (task, step), every write one
 * statement whose `WHERE` is the fence and "not decided yet", so two hosts
 * never both record an outcome and a runner whose lease was taken over is
 * refused with `lease_lost`.
 */
export function createPostgresDecisions(ctx: DecisionContext): DecisionStore {
  const d = ctx.table('decisions');
  const sql = {
    insert: `INSERT INTO ${d} (task_id, edge, step, head_sha, base_sha, base_branch, fence, started_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task_id, step) DO NOTHING RETURNING *`,
    takeOver: `UPDATE ${d} SET fence = $3 WHERE task_id = $1 AND step = $2 AND outcome IS NULL AND fence < $3 RETURNING *`,
    byStep: `SELECT * FROM ${d} WHERE task_id = $1 AND step = $2`,
    bySeq: `SELECT * FROM ${d} WHERE seq = $1`,
    verdict: `UPDATE ${d} SET verdicts = verdicts || jsonb_build_array($3::jsonb)
      WHERE seq = $1 AND fence = $2 AND outcome IS NULL RETURNING *`,
    outcome: `UPDATE ${d} SET outcome = $3::jsonb, decided_at = $4 WHERE seq = $1 AND fence = $2 AND outcome IS NULL RETURNING *`,
    applied: `UPDATE ${d} SET applied_at = $2 WHERE seq = $1 AND applied_at IS NULL AND outcome IS NOT NULL RETURNING seq`,
    list: `SELECT * FROM ${d} WHERE task_id = $1 ORDER BY step`,
  } as const;
  const q = (key: keyof typeof sql, values: readonly unknown[]) => ctx.query(`decisions_${key}`, sql[key], values);

  /** Why a fenced write changed nothing: no such decision, another fence, or decided. */
  async function refused(decisionId: string, seq: number | undefined, fence: number): Promise<ConveyorError> {
    const row = seq === undefined ? undefined : (await q('bySeq', [seq])).rows[0];
    if (row === undefined) return conveyorError(PKG, 'not_found', `decision ${decisionId} does not exist`);
    if (Number(row.fence) !== fence) {
      return conveyorError(
        PKG,
        'lease_lost',
        `decision ${decisionId} is held by fence ${Number(row.fence)}, not ${fence}`,
      );
    }
    return conveyorError(PKG, 'conflict', `decision ${decisionId} is decided`);
  }

  return {
    startDecision(input) {
      return ctx.run('startDecision', async () => {
        const values = [
          input.taskId,
          input.edge,
          input.step,
          input.headSha,
          input.baseSha,
          input.baseBranch,
          input.fence,
          input.now,
        ];
        const inserted = (await q('insert', values)).rows[0];
        if (inserted) return ok({ decision: toDecision(inserted), created: true });
        const taken = (await q('takeOver', [input.taskId, input.step, input.fence])).rows[0];
        const row = taken ?? (await q('byStep', [input.taskId, input.step])).rows[0];
        if (!row)
          return err(
            conveyorError(
              PKG,
              'internal',
              `startDecision: ${input.taskId} step ${input.step} conflicted but no decision was found`,
            ),
          );
        return ok({ decision: toDecision(row), created: false });
      });
    },
    recordGateVerdict(input) {
      return ctx.run('recordGateVerdict', async (): Promise<Result<Decision, ConveyorError>> => {
        const seq = seqOf(input.decisionId);
        const row =
          seq === undefined
            ? undefined
            : (await q('verdict', [seq, input.fence, JSON.stringify(input.verdict)])).rows[0];
        if (row) return ok(toDecision(row));
        return err(await refused(input.decisionId, seq, input.fence));
      });
    },
    finishDecision(input) {
      return ctx.run('finishDecision', async (): Promise<Result<Decision, ConveyorError>> => {
        const seq = seqOf(input.decisionId);
        const row =
          seq === undefined
            ? undefined
            : (await q('outcome', [seq, input.fence, JSON.stringify(input.outcome), input.now])).rows[0];
        if (row) return ok(toDecision(row));
        return err(await refused(input.decisionId, seq, input.fence));
      });
    },
    markDecisionApplied(decisionId, now) {
      return ctx.run('markDecisionApplied', async (): Promise<Result<{ applied: boolean }, ConveyorError>> => {
        const seq = seqOf(decisionId);
        if (seq !== undefined && (await q('applied', [seq, now])).rows.length === 1) return ok({ applied: true });
        const row = seq === undefined ? undefined : (await q('bySeq', [seq])).rows[0];
        if (row === undefined) return err(conveyorError(PKG, 'not_found', `decision ${decisionId} does not exist`));
        if (row.outcome === null)
          return err(conveyorError(PKG, 'conflict', `decision ${decisionId} has no outcome to apply`));
        return ok({ applied: false });
      });
    },
    getDecision(taskId, step) {
      return ctx.run('getDecision', async () => {
        const row = (await q('byStep', [taskId, step])).rows[0];
        return ok(row === undefined ? undefined : toDecision(row));
      });
    },
    listDecisions(taskId) {
      return ctx.run('listDecisions', async () => ok((await q('list', [taskId])).rows.map(toDecision)));
    },
  };
}
