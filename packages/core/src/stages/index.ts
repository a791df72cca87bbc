export { DEFAULT_STAGES } from './defaults.js';
export {
  DEFAULT_DEFER_WAIT_MS,
  DEFAULT_MERGE_LEASE_TTL_MS,
  DEFAULT_RETEST_TIMEOUT_MS,
  deferralCap,
  defineStages,
  edgeId,
  findStage,
  initialSnapshot,
  outgoingEdge,
  STAGES_DEFAULTS,
} from './define.js';
export { DECISION_AGENT, transition } from './transition.js';
export type {
  EdgeDefinition,
  StageDefinition,
  StageEffect,
  StageEvent,
  StagesSpec,
  StagesSpecInput,
  TransitionResult,
} from './types.js';
