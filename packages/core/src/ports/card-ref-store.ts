import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/**
 * Where a notifier keeps the message it shows for a task (e.g. a Telegram
 * chat id and message id), so a restart edits the same card.
 *
 * @example
 * ```ts
 * const ref = await cards.getCardRef(task.id, 'telegram');
 * if (ref.ok && ref.value === undefined) await cards.setCardRef(task.id, 'telegram', '42/1001');
 * ```
 */
export interface CardRefStore {
  /** `undefined` when no card was recorded for this task and channel. */
  getCardRef(taskId: string, channel: string): AsyncResult<string | undefined, ConveyorError>;
  /** Records (or replaces) the card of a task on a channel. */
  setCardRef(taskId: string, channel: string, ref: string): AsyncResult<void, ConveyorError>;
  /** Forgets it; deleting a ref that does not exist is not an error. */
  deleteCardRef(taskId: string, channel: string): AsyncResult<void, ConveyorError>;
}
