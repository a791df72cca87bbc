import { DELIVERY_CLAIM_MS, type RecordDelivery } from '../ports/delivery-log.js';

/** A recorded delivery, as the delivery-log rules read it. */
export interface DeliveryState {
  /** when its handling succeeded; `undefined` while not handled */
  readonly handledAt: number | undefined;
  /** when the current claim was taken; `undefined` once a failed handling released it */
  readonly claimedAt: number | undefined;
}

/**
 * Whether a `recordDelivery` of an already recorded delivery takes it over
 * (is first-seen again): never once handled; at once after a failed handling
 * released it; otherwise when its claim is older than `claimMs` (the handler
 * died without settling it).
 *
 * @example
 * ```ts
 * if (isDeliveryClaimable({ handledAt: undefined, claimedAt: 1_000 }, 40_000, 30_000)) retake();
 * ```
 */
export function isDeliveryClaimable(state: DeliveryState, now: number, claimMs: number): boolean {
  if (state.handledAt !== undefined) return false;
  if (state.claimedAt === undefined) return true;
  return state.claimedAt <= now - claimMs;
}

/**
 * The claim window of a `recordDelivery` call: its `claimMs` or
 * {@link DELIVERY_CLAIM_MS}.
 *
 * @example
 * ```ts
 * const claimMs = deliveryClaimMs(input);
 * ```
 */
export function deliveryClaimMs(input: RecordDelivery): number {
  return input.claimMs ?? DELIVERY_CLAIM_MS;
}
