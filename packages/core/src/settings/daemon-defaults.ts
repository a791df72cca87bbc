/**
 * The daemons' tick intervals: one constant each, read by the daemons when no
 * interval is given and by the core settings schema as its default.
 */

/** How often the worker claims queued jobs and checks the ones it runs: 2 s. */
export const DEFAULT_WORKER_INTERVAL_MS = 2_000;

/** How often the reaper looks for dead or overdue jobs and expired leases: 30 s. */
export const DEFAULT_REAPER_INTERVAL_MS = 30_000;

/** How often the reconciler re-reads every open task (and polls the tracker): 60 s. */
export const DEFAULT_RECONCILER_INTERVAL_MS = 60_000;
