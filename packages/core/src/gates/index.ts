export type { EdgeVerdict, Finding, Gate, GateContext, GateOutcome, GateVerdict, VerdictStatus } from './types.js';
