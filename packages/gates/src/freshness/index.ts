export {
  type ArtifactInfo,
  type BranchHeadReader,
  createFreshnessGate,
  type FreshnessGateOptions,
  forgeBranchHead,
  gitBranchHead,
} from './freshness-gate.js';
