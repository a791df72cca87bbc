import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConveyorError, DecisionStore, Logger, ProjectLimitOptions, Result, Store } from '@conveyor/core';
import { createPostgresStore, type PostgresStore } from '@conveyor/store-postgres';
import { createSqliteStore } from '@conveyor/store-sqlite';
import type { ServerSettings } from './settings.js';

/** The store a host runs on: SQLite or PostgreSQL (which also wakes idle workers). */
export type HostStore = Store & DecisionStore & Partial<Pick<PostgresStore, 'onJobAvailable'>>;

/**
 * The per-project limits on running jobs: each project's `limits.maxRunningJobs`
 * from the project file, the others `ORCH_DEFAULT_PROJECT_LIMIT`.
 *
 * @example
 * ```ts
 * hostProjectLimits(settings); // { projectLimits: { web: 2 }, defaultProjectLimit: 4 }
 * ```
 */
export function hostProjectLimits(settings: ServerSettings): ProjectLimitOptions {
  const named = Object.fromEntries(
    (settings.projects ?? []).flatMap((p) =>
      p.limits.maxRunningJobs === undefined ? [] : [[p.planeProjectId, p.limits.maxRunningJobs] as const],
    ),
  );
  const fallback = settings.host.defaultProjectLimit;
  return {
    ...(Object.keys(named).length === 0 ? {} : { projectLimits: named }),
    ...(fallback === undefined ? {} : { defaultProjectLimit: fallback }),
  };
}

/** Opens the SQLite store of `ORCH_DATA_DIR`, creating the folder (synchronous: SQLite opens in place). */
export function openSqliteHostStore(settings: ServerSettings): Result<HostStore, ConveyorError> {
  mkdirSync(settings.host.dataDir, { recursive: true });
  return createSqliteStore({ path: join(settings.host.dataDir, 'conveyor.db'), ...hostProjectLimits(settings) });
}

/**
 * Opens the store `ORCH_STORE` names: the SQLite file in `ORCH_DATA_DIR`, or
 * PostgreSQL at `ORCH_PG_URL` (migrated on open, under an advisory lock), both
 * with the projects' limits on running jobs.
 *
 * @example
 * ```ts
 * const store = await openHostStore(settings);
 * if (!store.ok) throw store.error;
 * const host = createHost(settings, { store: store.value });
 * ```
 */
export async function openHostStore(
  settings: ServerSettings,
  logger?: Logger,
): Promise<Result<HostStore, ConveyorError>> {
  const { host } = settings;
  if (host.store === 'sqlite') return openSqliteHostStore(settings);
  return createPostgresStore({
    ...(host.pgUrl === undefined ? {} : { connectionString: host.pgUrl }),
    schema: host.pgSchema,
    maxConnections: host.pgMaxConnections,
    statementTimeoutMs: host.pgStatementTimeoutMs,
    ...hostProjectLimits(settings),
    ...(logger === undefined ? {} : { logger }),
  });
}
