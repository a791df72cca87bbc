/**
 * `@conveyor/adapter-plane`: the Plane tracker — a REST client implementing
 * core's `Tracker` port (`createPlaneTracker`) and a webhook receiver that
 * verifies and normalises Plane deliveries (`createPlaneWebhook`).
 *
 * @packageDocumentation
 */
export {
  createPlaneTracker,
  type NormaliseIssueContext,
  normaliseIssue,
  PLANE_MAX_PER_PAGE,
  PLANE_PKG,
  type PlaneState,
  type PlaneTracker,
  type PlaneTrackerOptions,
} from './plane-tracker.js';
export { createPlaneWebhook, type PlaneWebhookOptions, planeDeliveryFingerprint } from './plane-webhook.js';
