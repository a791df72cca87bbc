export { cardRefStoreConformance } from './card-ref-conformance.js';
export {
  type ConformanceContext,
  createTaskIn,
  newJob,
  newTask,
  queueProjectJobs,
  snapshotOf,
  value,
} from './conformance-kit.js';
export { crossProcessConformance } from './cross-process-conformance.js';
export {
  type DecisionConformanceOptions,
  type DecisionStoreFactory,
  decisionStoreConformance,
} from './decision-conformance.js';
export { deliveryLogConformance } from './delivery-conformance.js';
export { fairClaimConformance } from './fair-claim-conformance.js';
export { finishAndClaimConformance } from './finish-claim-conformance.js';
export { jobStoreConformance } from './job-conformance.js';
export { leaseStoreConformance } from './lease-conformance.js';
export { createMemoryDecisions, type MemoryGuard } from './memory-decisions.js';
export {
  createMemoryStore,
  type MemoryStore,
  type MemoryStoreMethod,
  type MemoryStoreOptions,
} from './memory-store.js';
export {
  createRacerPool,
  performRacerRequest,
  type RacerPool,
  type RacerPoolOptions,
  type RacerTarget,
  serveRacer,
} from './racers.js';
export {
  type RacerOutcome,
  type RacerRequest,
  type StoreConformanceOptions,
  type StoreFactory,
  type StoreUnderTest,
  storeConformance,
} from './store-conformance.js';
export { taskStoreConformance } from './task-conformance.js';
