import type { CommitState } from '../ports/forge.js';
import type { TrackerIssue } from '../ports/tracker.js';

/**
 * A tracker or forge event, normalised. Adapters parse webhooks (and the
 * reconciler polls) into these; `Pipeline.handle` consumes them.
 */
export type InboundEvent =
  /** an issue was created or changed (state, title…) */
  | { readonly kind: 'tracker.issue'; readonly action: 'created' | 'updated'; readonly issue: TrackerIssue }
  | { readonly kind: 'tracker.issue_deleted'; readonly project: string; readonly issueId: string }
  | { readonly kind: 'tracker.comment'; readonly project: string; readonly issueId: string; readonly html: string }
  | { readonly kind: 'forge.push'; readonly repo: string; readonly branch: string; readonly sha: string }
  | {
      readonly kind: 'forge.pull_request';
      readonly repo: string;
      readonly number: number;
      readonly action: 'opened' | 'closed' | 'reopened' | 'synchronized' | 'edited' | 'other';
      readonly merged: boolean;
      readonly base: string;
      readonly head: string;
      readonly headSha: string;
    }
  | {
      readonly kind: 'forge.status';
      readonly repo: string;
      readonly sha: string;
      readonly context: string;
      readonly state: CommitState;
      /** branches the forge says contain the sha, when it says */
      readonly branches?: readonly string[];
    }
  | {
      readonly kind: 'forge.workflow_run';
      readonly repo: string;
      readonly sha?: string;
      readonly branch?: string;
      readonly status: string;
      readonly conclusion?: string;
    };

/** A verified webhook: its delivery id and what it means (or why it is ignored). */
export interface WebhookReceipt {
  /** the delivery id the sender gave (for idempotency) */
  readonly deliveryId: string;
  /** the raw event name from the headers */
  readonly eventName: string;
  readonly event: InboundEvent | { readonly kind: 'ignored'; readonly reason: string };
}
