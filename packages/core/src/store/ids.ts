/** Digits of the sequence number in a store id: ids of one kind sort in creation order. */
export const STORE_ID_WIDTH = 12;

/** The prefix of a task id (`task_000000000001`). */
export const TASK_ID_PREFIX = 'task_';

/** The prefix of a job id (`job_000000000001`). */
export const JOB_ID_PREFIX = 'job_';

/**
 * The id of the `seq`-th row of a kind: the prefix and the sequence number
 * zero-padded to {@link STORE_ID_WIDTH} digits, so ids sort in creation order.
 *
 * @example
 * ```ts
 * formatStoreId(TASK_ID_PREFIX, 7); // 'task_000000000007'
 * ```
 */
export function formatStoreId(prefix: string, seq: number): string {
  return `${prefix}${String(seq).padStart(STORE_ID_WIDTH, '0')}`;
}

/**
 * The sequence number behind an id {@link formatStoreId} made, or `undefined`
 * for any other string (a store then answers "no such row" without a query).
 *
 * @example
 * ```ts
 * parseStoreId(JOB_ID_PREFIX, 'job_000000000042'); // 42
 * parseStoreId(JOB_ID_PREFIX, 'no-such-job'); // undefined
 * ```
 */
export function parseStoreId(prefix: string, id: string): number | undefined {
  if (id.length !== prefix.length + STORE_ID_WIDTH || !id.startsWith(prefix)) return undefined;
  const digits = id.slice(prefix.length);
  if (!/^\d+$/.test(digits)) return undefined;
  return Number(digits);
}
