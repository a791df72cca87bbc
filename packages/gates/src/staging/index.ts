export {
  type ClassifiedCheck,
  classifyStagingCheck,
  decideStaging,
  type StagingCategory,
  type StagingCheckResult,
  type StagingDecision,
  type StagingPolicy,
} from './classify.js';
export { type StagingReport, stagingReportSchema, stagingVerdictFromReport, writeStagingReport } from './report.js';
export {
  executeStagingChecks,
  runStagingChecks,
  type StagingCheckSpec,
  type StagingMainIo,
  type StagingRun,
  type StagingRunOptions,
  stagingMain,
} from './runner.js';
export { type StagingSettings, type StagingSettingsInput, stagingSettingsSchema } from './settings.js';
export { createStagingGate, type StagingGateOptions } from './staging-gate.js';
