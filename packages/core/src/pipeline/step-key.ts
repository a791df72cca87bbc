/**
 * The idempotency key of the job of a task's step.
 *
 * @example
 * ```ts
 * stepKey('t1', 3); // 't1:3'
 * ```
 */
export function stepKey(taskId: string, step: number): string {
  return `${taskId}:${step}`;
}
