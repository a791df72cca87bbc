export type {
  EdgeDefinition,
  StageDefinition,
  StageEffect,
  StageEvent,
  StagesSpec,
  StagesSpecInput,
  TransitionResult,
} from './types.js';
