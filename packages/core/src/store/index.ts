export { byClaimOrder, claimSlots, isClaimable } from './claim-rules.js';
export { completeStore } from './complete-store.js';
export { type DeliveryState, deliveryClaimMs, isDeliveryClaimable } from './delivery-rules.js';
export {
  type FairClaimCandidate,
  type ProjectLimitOptions,
  pickFairClaims,
  projectClaimQuota,
  projectLimitOf,
} from './fair-claims.js';
export { historySeq, INITIAL_TASK_VERSION, transitionEntry, transitioned } from './history.js';
export { formatStoreId, JOB_ID_PREFIX, parseStoreId, STORE_ID_WIDTH, TASK_ID_PREFIX } from './ids.js';
export { byLeaseName, grantLease, isLeaseLive, mayRelease, mayRenew } from './lease-rules.js';
export { createStoreErrors, type StoreErrors } from './store-errors.js';
