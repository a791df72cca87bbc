export { buildTaskCard } from './card.js';
export { createPipeline, mergeLeaseName, stepKey, taskLeaseHolder, taskOfLeaseHolder } from './pipeline.js';
export type {
  ApplyOutcome,
  EdgeDecision,
  EdgeGateRunner,
  HandleOutcome,
  JobFinishedEvent,
  Pipeline,
  PipelineOptions,
  TaskRoute,
} from './types.js';
