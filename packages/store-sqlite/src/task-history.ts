import {
  type HistoryEntry,
  type SaveTransition,
  type StageSnapshot,
  type TaskStatus,
  transitionEntry,
} from '@conveyor/core';
import type { SqliteContext } from './sqlite-context.js';

interface HistoryRow {
  task_id: string;
  seq: number;
  from_stage: string;
  from_status: TaskStatus;
  to_stage: string;
  to_status: TaskStatus;
  cause: string;
  verdict_summary: string | null;
  at: number;
}

function toHistory(row: HistoryRow): HistoryEntry {
  return {
    taskId: row.task_id,
    seq: row.seq,
    fromStage: row.from_stage,
    fromStatus: row.from_status,
    toStage: row.to_stage,
    toStatus: row.to_status,
    cause: row.cause,
    ...(row.verdict_summary === null ? {} : { verdictSummary: row.verdict_summary }),
    at: row.at,
  };
}

/** The `task_history` table: written only inside `saveTransition`'s transaction (see `tasks.ts`). */
export interface TaskHistoryTable {
  /** Appends the entry of a transition that passed the version guard; `seq` follows from the version (core's rule). */
  append(taskId: string, from: Pick<StageSnapshot, 'stage' | 'status'>, input: SaveTransition): void;
  /** Ordered by `seq`. */
  list(taskId: string): HistoryEntry[];
}

/** The `task_history` table. */
export function createTaskHistory(ctx: SqliteContext): TaskHistoryTable {
  const insert = ctx.prepare(
    `INSERT INTO task_history (task_id, seq, from_stage, from_status, to_stage, to_status, cause, verdict_summary, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const byTask = ctx.prepare('SELECT * FROM task_history WHERE task_id = ? ORDER BY seq');
  return {
    append(taskId, from, input) {
      const e = transitionEntry(taskId, from, input);
      insert.run(
        e.taskId,
        e.seq,
        e.fromStage,
        e.fromStatus,
        e.toStage,
        e.toStatus,
        e.cause,
        e.verdictSummary ?? null,
        e.at,
      );
    },
    list(taskId) {
      return (byTask.all(taskId) as HistoryRow[]).map(toHistory);
    },
  };
}
