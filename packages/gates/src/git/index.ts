export { branchMovedSummary } from './moved.js';
export { createGitPinResolver, type GitPinResolver, type GitPinResolverOptions, type ResolvedGitPin } from './pin.js';
export { type PushOptions, type PushOutcome, pushTaskBranch } from './push.js';
export {
  DEFAULT_GIT_IDENTITY,
  type GitIdentity,
  type RebaseOptions,
  type RebaseOutcome,
  rebaseOntoMain,
} from './rebase.js';
export {
  type BehindOptions,
  type Divergence,
  ensureLocalClone,
  type FetchOptions,
  type FetchOutcome,
  fetch,
  isAncestor,
  isBehindMain,
  type LocalCloneOptions,
  type LsRemoteOptions,
  lsRemote,
  remoteDefaultBranch,
  revParse,
} from './refs.js';
export { type RetestCommand, type RetestOptions, type RetestOutcome, retest, tailOf } from './retest.js';
export { type GitCommonOptions, type GitOutput, type GitRunOptions, git } from './run.js';
export { type CheckoutPin, syncTaskCheckout, type TaskCheckoutOptions, withTaskCheckout } from './task-checkout.js';
export { createWorktree, removeWorktree, type WorktreeOptions } from './worktree.js';
