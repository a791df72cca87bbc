// The one home of the merge lease's naming: its name per repository and the
// holder names that tie a lease to a task.

/**
 * The lease holder name a task uses (e.g. for `merge:<repo>`), so the runtime
 * can release what a task holds.
 *
 * @example
 * ```ts
 * await store.acquireLease({ name: mergeLeaseName('acme/web'), holder: taskLeaseHolder(task.id), ttlMs: 600_000, now });
 * ```
 */
export function taskLeaseHolder(taskId: string): string {
  return `task:${taskId}`;
}

/**
 * The task a lease holder belongs to: `task:<id>`, or `<host>/task:<id>` when
 * the holder also names the host (as the merge gate's does). `undefined` for
 * a holder that is not a task's. The runtime releases a task's leases on done,
 * on rollback and on a PR-merged event by this rule.
 *
 * @example
 * ```ts
 * taskOfLeaseHolder('ci-1:4242/task:task_000000000007'); // 'task_000000000007'
 * taskOfLeaseHolder('someone-else'); // undefined
 * ```
 */
export function taskOfLeaseHolder(holder: string): string | undefined {
  const match = /(?:^|\/)task:([^/]+)$/.exec(holder);
  return match?.[1];
}

/**
 * The name of the lease that serialises merges into one repository.
 *
 * @example
 * ```ts
 * mergeLeaseName('acme/web'); // 'merge:acme/web'
 * ```
 */
export function mergeLeaseName(repo: string): string {
  return `merge:${repo}`;
}

/**
 * The holder a host uses for a task's merge lease: `<host>/task:<id>`. The
 * host part tells which process holds it; the task part is what
 * {@link taskOfLeaseHolder} reads, so the runtime releases it on done, on
 * rollback, or when a PR-merged event arrives.
 *
 * @example
 * ```ts
 * mergeLeaseHolder('ci-1:4242', 'task_000000000007'); // 'ci-1:4242/task:task_000000000007'
 * ```
 */
export function mergeLeaseHolder(hostId: string, taskId: string): string {
  return `${hostId}/${taskLeaseHolder(taskId)}`;
}
