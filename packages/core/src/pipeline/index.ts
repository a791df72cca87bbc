export { mergeLeaseName, taskLeaseHolder, taskOfLeaseHolder } from '../leases/merge-lease.js';
export { buildTaskCard } from './card.js';
export { decisionLeaseName } from './decision-lease.js';
export { verdictOfDecision } from './decision-values.js';
export { createPipeline } from './pipeline.js';
export { stepKey } from './step-key.js';
export type {
  ApplyOutcome,
  DecisionAction,
  DecisionRun,
  EdgeGateRunner,
  HandleOutcome,
  JobFinishedEvent,
  PinResolver,
  Pipeline,
  PipelineOptions,
  ResolvedPin,
  TaskRoute,
} from './types.js';
