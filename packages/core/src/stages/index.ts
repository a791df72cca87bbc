export { DEFAULT_STAGES } from './defaults.js';
export { defineStages, edgeId, findStage, initialSnapshot, outgoingEdge, STAGES_DEFAULTS } from './define.js';
export { GATES_AGENT, transition } from './transition.js';
export type {
  EdgeDefinition,
  StageDefinition,
  StageEffect,
  StageEvent,
  StagesSpec,
  StagesSpecInput,
  TransitionResult,
} from './types.js';
