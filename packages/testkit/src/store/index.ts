export {
  type DecisionConformanceOptions,
  type DecisionStoreFactory,
  decisionStoreConformance,
} from './decision-conformance.js';
export { createMemoryDecisions, type MemoryGuard } from './memory-decisions.js';
export {
  createMemoryStore,
  type MemoryStore,
  type MemoryStoreMethod,
  type MemoryStoreOptions,
} from './memory-store.js';
export {
  type RacerOutcome,
  type RacerRequest,
  type StoreConformanceOptions,
  type StoreFactory,
  type StoreUnderTest,
  storeConformance,
} from './store-conformance.js';
