export { defaultHostId, mergeLeaseHolder, releaseMergeLease } from './lease.js';
export {
  createLocalGitForge,
  type LocalGitForge,
  type LocalGitForgeOptions,
  type LocalPullRequest,
} from './local-forge.js';
export { createMergeGate, type MergeGateOptions } from './merge-gate.js';
export {
  type MergeSettings,
  type MergeSettingsInput,
  mergeSettingsSchema,
  parseMergeSettings,
} from './settings.js';
export { hasGreenRetest, recordGreenRetest } from './tested-marker.js';
