export { findingsText, renderFinding } from './findings.js';
export { type CheckResult, type FoldedChecks, type FoldPolicy, foldChecks } from './fold-checks.js';
export {
  createGateRegistry,
  DEFAULT_GATE_TIMEOUT_MS,
  type EdgeRunContext,
  type GateRegistration,
  type GateRegistry,
  type GateRegistryOptions,
} from './registry.js';
export type {
  DecisionPin,
  EdgeVerdict,
  Finding,
  Gate,
  GateContext,
  GateOutcome,
  GateVerdict,
  SkippedGate,
  VerdictStatus,
} from './types.js';
