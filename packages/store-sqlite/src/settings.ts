import * as z from 'zod';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_SYNCHRONOUS } from './sqlite-store.js';

/**
 * The SQLite store's settings, for hosts that read them from the environment
 * beside the core settings (`ORCH_SQLITE_SYNCHRONOUS`, …, with
 * `parseEnvSettings`). The defaults are the store's own constants.
 *
 * @example
 * ```ts
 * const parsed = parseEnvSettings(sqliteSettingsSchema, process.env);
 * if (!parsed.ok) throw parsed.error;
 * const opened = createSqliteStore({ path, synchronous: parsed.value.settings.sqliteSynchronous });
 * ```
 */
export const sqliteSettingsSchema = z.object({
  sqliteSynchronous: z
    .enum(['FULL', 'NORMAL', 'OFF'])
    .default(DEFAULT_SYNCHRONOUS)
    .describe(
      'how hard SQLite syncs each commit to disk: FULL loses nothing answered to a power cut; NORMAL commits faster but a power loss or OS crash may drop the last transactions (a webhook already answered 200, a job already claimed); OFF is for throwaway databases',
    ),
  sqliteBusyTimeoutMs: z
    .number()
    .int()
    .nonnegative()
    .default(DEFAULT_BUSY_TIMEOUT_MS)
    .describe("how long a writer waits for another process's lock before failing with timeout (ms)"),
});

/** The parsed {@link sqliteSettingsSchema}. */
export type SqliteSettings = z.infer<typeof sqliteSettingsSchema>;
