import {
  type ConveyorError,
  type DeliveryClaim,
  type DeliveryLog,
  deliveryClaimMs,
  isDeliveryClaimable,
  ok,
  type Result,
} from '@conveyor/core';
import type { Guard } from './memory-shared.js';

interface DeliveryRow {
  handledAt: number | undefined;
  claimedAt: number | undefined;
  attempt: number;
}

/** The delivery log, in memory. */
export function createMemoryDeliveries(guard: Guard): DeliveryLog {
  const deliveries = new Map<string, DeliveryRow>();
  const keyOf = (source: string, deliveryId: string): string => `${source}\u0000${deliveryId}`;

  return {
    recordDelivery(input) {
      return guard('recordDelivery', (): Result<DeliveryClaim, ConveyorError> => {
        const key = keyOf(input.source, input.deliveryId);
        const row = deliveries.get(key);
        if (!row) {
          deliveries.set(key, { handledAt: undefined, claimedAt: input.now, attempt: 1 });
          return ok({ firstSeen: true, attempt: 1 });
        }
        if (!isDeliveryClaimable(row, input.now, deliveryClaimMs(input))) {
          return ok({ firstSeen: false, handled: row.handledAt !== undefined });
        }
        row.claimedAt = input.now;
        row.attempt += 1;
        return ok({ firstSeen: true, attempt: row.attempt });
      });
    },

    markDeliveryHandled(input) {
      return guard('markDeliveryHandled', (): Result<void, ConveyorError> => {
        const row = deliveries.get(keyOf(input.source, input.deliveryId));
        if (row && row.handledAt === undefined) row.handledAt = input.now;
        return ok();
      });
    },

    markDeliveryFailed(input) {
      return guard('markDeliveryFailed', (): Result<void, ConveyorError> => {
        const row = deliveries.get(keyOf(input.source, input.deliveryId));
        if (row && row.handledAt === undefined && row.attempt === input.attempt) row.claimedAt = undefined;
        return ok();
      });
    },
  };
}
