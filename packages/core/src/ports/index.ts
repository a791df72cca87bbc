export type { CardRefStore } from './card-ref-store.js';
export type {
  Decision,
  DecisionOutcome,
  DecisionStore,
  FinishDecision,
  NewDecision,
  RecordGateVerdict,
} from './decisions.js';
export {
  DELIVERY_CLAIM_MS,
  type DeliveryClaim,
  type DeliveryLog,
  type RecordDelivery,
  type SettleDelivery,
} from './delivery-log.js';
export {
  type FinishOutcome,
  type HistoryEntry,
  isTerminalTaskStatus,
  JOB_STATUSES,
  type Job,
  type JobInput,
  type JobKind,
  type JobStatus,
  type LastVerdict,
  type Lease,
  type LeaseAcquisition,
  type NewJob,
  type NewTask,
  type StageSnapshot,
  TASK_STATUSES,
  type Task,
  type TaskStatus,
  TERMINAL_JOB_STATUSES,
  TERMINAL_TASK_STATUSES,
  type TerminalJobStatus,
} from './domain.js';
export {
  ALWAYS_PROTECTED_BRANCHES,
  type CombinedStatus,
  type CommitState,
  type CommitStatus,
  type Comparison,
  type Forge,
  isProtectedBranch,
  type MergeOutcome,
  type MergeRequest,
  type NewPullRequest,
  type PullRequest,
} from './forge.js';
export type {
  ClaimJobs,
  FinishAndClaim,
  FinishAndClaimOutcome,
  FinishJob,
  JobQuery,
  JobStore,
  JobStoreFastPaths,
} from './job-store.js';
export type { AcquireLease, LeaseStore, ReleaseLease, RenewLease } from './lease-store.js';
export type { Notifier, StageMark, TaskCard } from './notifier.js';
export type {
  Clock,
  LaunchedProcess,
  Launcher,
  LaunchSpec,
  LogFields,
  Logger,
  ProcessExit,
  ProcessProbe,
} from './runtime.js';
export type { Complete, Store, StoreBackend, StoreLifecycle } from './store.js';
export type { SaveTransition, TaskQuery, TaskStore } from './task-store.js';
export type { Page, PageRequest, Tracker, TrackerIssue } from './tracker.js';
