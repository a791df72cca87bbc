import {
  type ConveyorError,
  type DeliveryClaim,
  type DeliveryLog,
  deliveryClaimMs,
  ok,
  type Result,
} from '@conveyor/core';
import type { SqliteContext } from './sqlite-context.js';

/**
 * The `deliveries` table. Core's rule (`isDeliveryClaimable`: never once
 * handled, at once when released, else when the claim is older than the
 * window) is the upsert's `WHERE`, so of racing receivers exactly one gets the
 * row back: one statement, no transaction, no read on the first-seen path.
 */
export function createSqliteDeliveries(ctx: SqliteContext): DeliveryLog {
  const { prepare, run } = ctx;
  const claim = prepare(
    `INSERT INTO deliveries (source, delivery_id, received_at, claimed_at, attempt)
     VALUES (@source, @deliveryId, @now, @now, 1)
     ON CONFLICT (source, delivery_id) DO UPDATE SET claimed_at = @now, attempt = attempt + 1
       WHERE handled_at IS NULL AND (claimed_at IS NULL OR claimed_at <= @now - @claimMs)
     RETURNING attempt`,
  );
  const stateOf = prepare('SELECT handled_at FROM deliveries WHERE source = ? AND delivery_id = ?');
  const handled = prepare(
    'UPDATE deliveries SET handled_at = ? WHERE source = ? AND delivery_id = ? AND handled_at IS NULL',
  );
  const released = prepare(
    'UPDATE deliveries SET claimed_at = NULL WHERE source = ? AND delivery_id = ? AND attempt = ? AND handled_at IS NULL',
  );

  return {
    recordDelivery(input) {
      return run('recordDelivery', (): Result<DeliveryClaim, ConveyorError> => {
        const row = claim.get({
          source: input.source,
          deliveryId: input.deliveryId,
          now: input.now,
          claimMs: deliveryClaimMs(input),
        }) as { attempt: number } | undefined;
        if (row) return ok({ firstSeen: true, attempt: row.attempt });
        const state = stateOf.get(input.source, input.deliveryId) as { handled_at: number | null } | undefined;
        return ok({ firstSeen: false, handled: state !== undefined && state.handled_at !== null });
      });
    },

    markDeliveryHandled(input) {
      return run('markDeliveryHandled', (): Result<void, ConveyorError> => {
        handled.run(input.now, input.source, input.deliveryId);
        return ok();
      });
    },

    markDeliveryFailed(input) {
      return run('markDeliveryFailed', (): Result<void, ConveyorError> => {
        released.run(input.source, input.deliveryId, input.attempt);
        return ok();
      });
    },
  };
}
