// The OSV defaults the settings schema names, in a module of their own: reading the settings loads no OSV client.

/** Default freshness of a cached `querybatch` answer (6 hours). */
export const OSV_CACHE_DEFAULT_TTL_MS = 6 * 60 * 60 * 1000;

/** Default timeout of one OSV request (ms). */
export const OSV_DEFAULT_TIMEOUT_MS = 15_000;
