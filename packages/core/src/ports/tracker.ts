import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';

/** An issue as the tracker shows it, normalised. */
export interface TrackerIssue {
  /** the tracker's id (Plane: the issue uuid) */
  readonly id: string;
  /** the project the issue belongs to (Plane: the project id) */
  readonly project: string;
  /** a human key such as `WEB-12`, when the tracker has one */
  readonly key?: string;
  readonly title: string;
  /** plain text or HTML as the tracker stores it */
  readonly description: string;
  /** the state's name, e.g. `In Progress` */
  readonly state: string;
  /** the state's id, when the tracker has one */
  readonly stateId?: string;
  readonly url?: string;
  /** ISO-8601 */
  readonly updatedAt?: string;
}

/** One page of a cursor-paginated listing. */
export interface Page<T> {
  readonly items: T[];
  /** absent on the last page */
  readonly nextCursor?: string;
}

/** Cursor and size of a page request. */
export interface PageRequest {
  readonly cursor?: string;
  readonly perPage?: number;
}

/**
 * An issue tracker (Plane, …).
 *
 * @example
 * ```ts
 * let cursor: string | undefined;
 * do {
 *   const page = await tracker.listIssuesByState('In Progress', cursor === undefined ? {} : { cursor });
 *   if (!page.ok) break;
 *   for (const issue of page.value.items) console.log(issue.title);
 *   cursor = page.value.nextCursor;
 * } while (cursor);
 * ```
 */
export interface Tracker {
  getIssue(issueId: string): AsyncResult<TrackerIssue, ConveyorError>;
  /** Issues in the named state, one page at a time. */
  listIssuesByState(state: string, page?: PageRequest): AsyncResult<Page<TrackerIssue>, ConveyorError>;
  /** Moves the issue to the named state. */
  setState(issueId: string, state: string): AsyncResult<void, ConveyorError>;
  /** Adds a comment (HTML). */
  comment(issueId: string, html: string): AsyncResult<void, ConveyorError>;
}
