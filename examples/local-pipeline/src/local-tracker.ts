import {
  ConveyorError,
  err,
  ok,
  type Page,
  type PageRequest,
  type Result,
  type Tracker,
  type TrackerIssue,
} from '@conveyor/core';

const PKG = '@conveyor/example-local-pipeline';

/** A tracker fed from a local list of tasks: what the demo uses instead of Plane. */
export interface LocalTracker extends Tracker {
  /** the issues as they are now */
  readonly issues: () => readonly TrackerIssue[];
  /** comments left on each issue */
  readonly comments: () => ReadonlyMap<string, readonly string[]>;
}

/**
 * Creates an in-memory {@link Tracker} over `issues` (copied). States are free
 * text; `setState` and `comment` are recorded so the demo can show them.
 */
export function createLocalTracker(issues: readonly TrackerIssue[], onChange?: (line: string) => void): LocalTracker {
  const byId = new Map(issues.map((issue) => [issue.id, { ...issue }]));
  const comments = new Map<string, string[]>();
  const missing = (issueId: string): Result<never, ConveyorError> =>
    err(new ConveyorError(PKG, 'not_found', `no local issue ${issueId}`));

  return {
    issues: () => [...byId.values()],
    comments: () => comments,
    async getIssue(issueId) {
      const issue = byId.get(issueId);
      return issue ? ok({ ...issue }) : missing(issueId);
    },
    async listIssuesByState(state: string, page: PageRequest = {}): Promise<Result<Page<TrackerIssue>, ConveyorError>> {
      const all = [...byId.values()].filter((issue) => issue.state.toLowerCase() === state.toLowerCase());
      const start = page.cursor === undefined ? 0 : Number(page.cursor);
      const size = page.perPage ?? 50;
      const items = all.slice(start, start + size).map((issue) => ({ ...issue }));
      const next = start + size < all.length ? String(start + size) : undefined;
      return ok(next === undefined ? { items } : { items, nextCursor: next });
    },
    async setState(issueId, state) {
      const issue = byId.get(issueId);
      if (!issue) return missing(issueId);
      if (issue.state !== state) onChange?.(`tracker: ${issue.key ?? issue.id} → ${state}`);
      byId.set(issueId, { ...issue, state });
      return ok();
    },
    async comment(issueId, html) {
      if (!byId.has(issueId)) return missing(issueId);
      comments.set(issueId, [...(comments.get(issueId) ?? []), html]);
      return ok();
    },
  };
}
