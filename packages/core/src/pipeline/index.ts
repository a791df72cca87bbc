export { mergeLeaseName, taskLeaseHolder, taskOfLeaseHolder } from '../leases/merge-lease.js';
export { buildTaskCard } from './card.js';
export { createPipeline, stepKey } from './pipeline.js';
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
