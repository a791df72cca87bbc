import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/**
 * How long a received but not yet handled delivery stays claimed by the
 * process handling it (30 s). After that a redelivery is first-seen again:
 * the handler died (a crash, a restart) without saying how it went.
 */
export const DELIVERY_CLAIM_MS = 30_000;

/** Input of `DeliveryLog.recordDelivery`. */
export interface RecordDelivery {
  /** `plane`, `gitea`, … */
  readonly source: string;
  readonly deliveryId: string;
  readonly now: number;
  /** how long this claim holds before a redelivery may take it over (default {@link DELIVERY_CLAIM_MS}) */
  readonly claimMs?: number;
}

/** What `DeliveryLog.recordDelivery` found. */
export type DeliveryClaim =
  /** this caller handles the delivery; `attempt` is 1 the first time, then grows on each take-over */
  | { readonly firstSeen: true; readonly attempt: number }
  /**
   * Someone else has it: `handled` when its handling succeeded (a true
   * duplicate), otherwise it is being handled right now (ask the sender to
   * deliver again later).
   */
  | { readonly firstSeen: false; readonly handled: boolean };

/** Input of `DeliveryLog.markDeliveryHandled` and `markDeliveryFailed`. */
export interface SettleDelivery {
  readonly source: string;
  readonly deliveryId: string;
  /** the `attempt` of the claim being settled */
  readonly attempt: number;
  readonly now: number;
}

/**
 * The webhook delivery log. A delivery counts as handled only when its
 * handling succeeded: `recordDelivery` claims it (pending), and the handler
 * then marks it handled or failed. A failed delivery, or one pending for
 * longer than its claim window (the handler died), is first-seen again, so
 * the sender's retry is processed; a duplicate of a handled one is not.
 * `handleDelivery` in `http/webhook.ts` is the one caller that drives it.
 *
 * @example
 * ```ts
 * const claim = await deliveries.recordDelivery({ source: 'gitea', deliveryId, now: clock.now() });
 * if (claim.ok && claim.value.firstSeen) {
 *   const handled = await pipeline.handle(event);
 *   const settle = { source: 'gitea', deliveryId, attempt: claim.value.attempt, now: clock.now() };
 *   await (handled.ok ? deliveries.markDeliveryHandled(settle) : deliveries.markDeliveryFailed(settle));
 * }
 * ```
 */
export interface DeliveryLog {
  /**
   * Claims a delivery: `firstSeen` for exactly one of several racing callers,
   * and again once the delivery failed or its claim ran out while still not
   * handled.
   */
  recordDelivery(input: RecordDelivery): AsyncResult<DeliveryClaim, ConveyorError>;
  /**
   * The handling succeeded: every later `recordDelivery` of it is a
   * duplicate. Whatever the `attempt`: the event was processed.
   */
  markDeliveryHandled(input: SettleDelivery): AsyncResult<void, ConveyorError>;
  /**
   * The handling failed: the next `recordDelivery` of it is first-seen. Only
   * the current claim (`attempt`) is released, never a newer one.
   */
  markDeliveryFailed(input: SettleDelivery): AsyncResult<void, ConveyorError>;
}
