/**
 * The one line every pinned gate answers when the task branch moved during
 * its decision: the decision ends (`defer`) and a new one judges the new head.
 *
 * @example
 * ```ts
 * branchMovedSummary('task/PLN-1', 'a1b2…', 'c3d4…');
 * // 'branch task/PLN-1 moved from a1b2c3d4e5f6 to c3d4e5f6a7b8; a new decision starts on the new head'
 * ```
 */
export function branchMovedSummary(branch: string, from: string, to: string | undefined): string {
  const target = to === undefined ? '(deleted)' : to.slice(0, 12);
  return `branch ${branch} moved from ${from.slice(0, 12)} to ${target}; a new decision starts on the new head`;
}
