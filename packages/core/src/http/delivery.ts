import type { DeliveryClaim, DeliveryLog } from '../ports/delivery-log.js';
import { type ConveyorError, toConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';

const PKG = '@conveyor/core';

/** Input of {@link handleDelivery}. */
export interface HandleDelivery<T> {
  /** the delivery log (any `Store`) */
  readonly deliveries: DeliveryLog;
  /** the webhook source: `gitea`, `plane`, … */
  readonly source: string;
  /**
   * The idempotency keys of the delivery: its delivery id first, then any
   * more (Plane gives each retry a fresh id, so its body hash is a key too).
   * It is a duplicate when any key was handled.
   */
  readonly keys: readonly string[];
  readonly now: () => number;
  /** how long a claim holds before a redelivery takes it over (default `DELIVERY_CLAIM_MS`, 30 s) */
  readonly claimMs?: number;
  /** the handling; only a success marks the delivery handled */
  readonly handle: () => Promise<Result<T, ConveyorError>>;
}

/** What {@link handleDelivery} did. */
export type DeliveryOutcome<T> =
  /** first seen and handled; `unsettled` when marking it handled failed (a redelivery will be handled again) */
  | { readonly kind: 'handled'; readonly value: T; readonly unsettled?: ConveyorError }
  /** handled before: nothing was done (answer 200) */
  | { readonly kind: 'duplicate' }
  /** another receiver is handling it right now: nothing was done (answer 503, deliver again later) */
  | { readonly kind: 'in_progress' };

/**
 * The delivery-log half of every webhook route: claims each key of the
 * delivery, runs `handle` only when all were first seen, then marks them
 * handled on success or failed otherwise (a throw counts as a failure), so
 * the sender's retry after a 500, or after the host died mid-handling (once
 * the claim window has passed), is processed, and a duplicate of a handled
 * delivery is not. Of concurrent duplicates exactly one runs `handle`; the
 * others get `in_progress`. A failure of the log itself is an error and
 * nothing was handled.
 *
 * @example
 * ```ts
 * const outcome = await handleDelivery({
 *   deliveries: store, source: 'gitea', keys: [receipt.deliveryId], now: clock.now,
 *   handle: () => pipeline.handle(receipt.event),
 * });
 * if (!outcome.ok) return send(res, 500, { error: outcome.error.message });
 * return send(res, deliveryOutcomeStatus(outcome.value), { outcome: outcome.value.kind });
 * ```
 */
export async function handleDelivery<T>(input: HandleDelivery<T>): Promise<Result<DeliveryOutcome<T>, ConveyorError>> {
  const { deliveries, source } = input;
  const claimed: { deliveryId: string; attempt: number }[] = [];
  const settle = async (how: 'handled' | 'failed'): Promise<ConveyorError | undefined> => {
    let first: ConveyorError | undefined;
    for (const c of claimed) {
      const settled = await callLog(() => {
        const args = { source, deliveryId: c.deliveryId, attempt: c.attempt, now: input.now() };
        return how === 'handled' ? deliveries.markDeliveryHandled(args) : deliveries.markDeliveryFailed(args);
      });
      if (!settled.ok && !first) first = settled.error;
    }
    return first;
  };

  let duplicate = false;
  let inProgress = false;
  for (const deliveryId of input.keys) {
    const recorded = await callLog<DeliveryClaim>(() =>
      deliveries.recordDelivery({
        source,
        deliveryId,
        now: input.now(),
        ...(input.claimMs === undefined ? {} : { claimMs: input.claimMs }),
      }),
    );
    if (!recorded.ok) {
      await settle('failed');
      return err(recorded.error);
    }
    const claim = recorded.value;
    if (claim.firstSeen) claimed.push({ deliveryId, attempt: claim.attempt });
    else if (claim.handled) duplicate = true;
    else inProgress = true;
  }
  if (duplicate) {
    // one of its keys was handled: the keys first seen now belong to that same event
    await settle('handled');
    return ok({ kind: 'duplicate' });
  }
  if (inProgress) {
    await settle('failed');
    return ok({ kind: 'in_progress' });
  }

  let handled: Result<T, ConveyorError>;
  try {
    handled = await input.handle();
  } catch (thrown) {
    handled = err(toConveyorError(PKG, thrown, 'internal', `handling the ${source} delivery threw`));
  }
  if (!handled.ok) {
    await settle('failed');
    return err(handled.error);
  }
  const unsettled = await settle('handled');
  return ok(
    unsettled ? { kind: 'handled', value: handled.value, unsettled } : { kind: 'handled', value: handled.value },
  );
}

/** A delivery-log call that may throw (a foreign backend) becomes an error result. */
async function callLog<T>(call: () => Promise<Result<T, ConveyorError>>): Promise<Result<T, ConveyorError>> {
  try {
    return await call();
  } catch (thrown) {
    return err(toConveyorError(PKG, thrown, 'internal', 'the delivery log threw'));
  }
}

/**
 * The HTTP status of a {@link DeliveryOutcome}: 200 when handled or a
 * duplicate, 503 while another receiver handles it (the sender delivers again
 * later; pair it with `retry-after`).
 *
 * @example
 * ```ts
 * res.writeHead(deliveryOutcomeStatus(outcome.value)).end();
 * ```
 */
export function deliveryOutcomeStatus(outcome: DeliveryOutcome<unknown>): number {
  return outcome.kind === 'in_progress' ? 503 : 200;
}
