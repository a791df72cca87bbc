export {
  type AcquireMergeLeaseOptions,
  acquireMergeLease,
  defaultHostId,
  type MergeLeaseAcquisition,
  type MergeLeaseHandle,
  type MergeLeaseStore,
  releaseMergeLease,
} from './lease.js';
export { createMergeGate, type MergeGateOptions } from './merge-gate.js';
export {
  type MergeSettings,
  type MergeSettingsInput,
  mergeSettingsSchema,
  parseMergeSettings,
} from './settings.js';
export {
  hasGreenRetest,
  type RecordedRebase,
  rebasesOf,
  recordGreenRetest,
  recordRebase,
} from './tested-marker.js';
