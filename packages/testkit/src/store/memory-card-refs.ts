import { type CardRefStore, type ConveyorError, ok, type Result } from '@conveyor/core';
import type { Guard } from './memory-shared.js';

/** The card refs table, in memory. */
export function createMemoryCardRefs(guard: Guard): CardRefStore {
  const cardRefs = new Map<string, string>();
  const keyOf = (taskId: string, channel: string): string => `${taskId}\u0000${channel}`;
  return {
    getCardRef(taskId, channel) {
      return guard('getCardRef', () => ok(cardRefs.get(keyOf(taskId, channel))));
    },
    setCardRef(taskId, channel, ref) {
      return guard('setCardRef', (): Result<void, ConveyorError> => {
        cardRefs.set(keyOf(taskId, channel), ref);
        return ok();
      });
    },
    deleteCardRef(taskId, channel) {
      return guard('deleteCardRef', (): Result<void, ConveyorError> => {
        cardRefs.delete(keyOf(taskId, channel));
        return ok();
      });
    },
  };
}
