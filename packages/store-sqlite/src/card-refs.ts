import { type CardRefStore, type ConveyorError, ok, type Result } from '@conveyor/core';
import type { SqliteContext } from './sqlite-context.js';

/** The `card_refs` table. */
export function createSqliteCardRefs(ctx: SqliteContext): CardRefStore {
  const { prepare, run } = ctx;
  const get = prepare('SELECT ref FROM card_refs WHERE task_id = ? AND channel = ?');
  const set = prepare(
    'INSERT INTO card_refs (task_id, channel, ref) VALUES (?, ?, ?) ON CONFLICT (task_id, channel) DO UPDATE SET ref = excluded.ref',
  );
  const del = prepare('DELETE FROM card_refs WHERE task_id = ? AND channel = ?');
  return {
    getCardRef(taskId, channel) {
      return run('getCardRef', () => ok((get.get(taskId, channel) as { ref: string } | undefined)?.ref));
    },
    setCardRef(taskId, channel, ref) {
      return run('setCardRef', (): Result<void, ConveyorError> => {
        set.run(taskId, channel, ref);
        return ok();
      });
    },
    deleteCardRef(taskId, channel) {
      return run('deleteCardRef', (): Result<void, ConveyorError> => {
        del.run(taskId, channel);
        return ok();
      });
    },
  };
}
