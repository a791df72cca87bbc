// A racer process for the cross-process cases (testkit's serveRacer): opens the SQLite
// file its target names, with the target's per-project limits.
import type { ProjectLimitOptions } from '@conveyor/core';
import { serveRacer } from '@conveyor/testkit';
import { createSqliteStore } from '../../src/index.js';

serveRacer((target) => {
  const { path, ...limits } = target as unknown as { path: string } & ProjectLimitOptions;
  return createSqliteStore({ path, busyTimeoutMs: 20_000, ...limits });
});
