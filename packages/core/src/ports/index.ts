export type {
  Decision,
  DecisionOutcome,
  DecisionStore,
  FinishDecision,
  NewDecision,
  RecordGateVerdict,
} from './decisions.js';
export {
  type FinishOutcome,
  type HistoryEntry,
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
  type Task,
  type TaskStatus,
  TERMINAL_TASK_STATUSES,
} from './domain.js';
export type {
  CombinedStatus,
  CommitState,
  CommitStatus,
  Comparison,
  Forge,
  MergeOutcome,
  MergeRequest,
  NewPullRequest,
  PullRequest,
} from './forge.js';
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
export type {
  AcquireLease,
  CardRefStore,
  FinishJob,
  JobQuery,
  RecordDelivery,
  ReleaseLease,
  RenewLease,
  SaveTransition,
  Store,
  StoreCapabilities,
  TaskQuery,
} from './store.js';
export { createStoreErrors, type StoreErrors } from './store-errors.js';
export type { Page, PageRequest, Tracker, TrackerIssue } from './tracker.js';
