import type { ConveyorError } from '../result/errors.js';
import type { AsyncResult } from '../result/result.js';
import type { TaskStatus } from './domain.js';

/** How a stage shows on the card. */
export type StageMark = 'done' | 'current' | 'failed' | 'pending';

/** What the one live card of a task shows. Never contains a secret. */
export interface TaskCard {
  readonly taskId: string;
  readonly title: string;
  readonly status: TaskStatus;
  readonly stages: readonly { readonly id: string; readonly mark: StageMark }[];
  /** the last verdict summary, already redacted */
  readonly lastVerdict?: string;
  readonly links: readonly { readonly label: string; readonly url: string }[];
  /** epoch ms */
  readonly updatedAt: number;
}

/**
 * Shows one live card per task (a Telegram message, …): the first call
 * creates it, later calls update it.
 *
 * @example
 * ```ts
 * await notifier.upsertCard({ taskId: t.id, title: t.title, status: 'active', stages, links: [], updatedAt: clock.now() });
 * ```
 */
export interface Notifier {
  upsertCard(card: TaskCard): AsyncResult<void, ConveyorError>;
  removeCard(taskId: string): AsyncResult<void, ConveyorError>;
}
