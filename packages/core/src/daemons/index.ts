export { createDaemons, type DaemonSharedOption, type Daemons, type DaemonsOptions } from './daemons.js';
export {
  createDaemonLoop,
  createDaemonStatusBoard,
  type Daemon,
  type DaemonLoopOptions,
  type DaemonStatus,
  type DaemonStatusBoard,
} from './loop.js';
export { createReaper, type ReaperOptions } from './reaper.js';
export {
  decideReaping,
  type ReapAction,
  type ReaperDecision,
  type ReaperObservation,
  type ReaperPolicy,
} from './reaper-decision.js';
export { createReconciler, type ReconcilerOptions } from './reconciler.js';
export { decideReconcile, type ReconcileAction, type ReconcileCandidate } from './reconciler-decision.js';
export { createWorker, type Worker, type WorkerOptions } from './worker.js';
