import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRacerPool, decisionStoreConformance, type StoreUnderTest, storeConformance } from '@conveyor/testkit';
import { afterAll } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'conveyor-sqlite-conformance-'));
// Real node processes, started once and reused by every cross-process case.
const pool = createRacerPool({
  script: fileURLToPath(new URL('./support/racer.ts', import.meta.url)),
  tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)),
});
let n = 0;

afterAll(() => {
  pool.close();
  rmSync(dir, { recursive: true, force: true });
});

function pathOf(store: StoreUnderTest): string {
  return (store as SqliteStore).path;
}

storeConformance(
  'sqlite',
  () => {
    n += 1;
    const opened = createSqliteStore({ path: join(dir, `store-${n}.db`) });
    if (!opened.ok) throw opened.error;
    return opened.value;
  },
  {
    cleanup: (store) => {
      const path = pathOf(store);
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    },
    spawnRacers: (store, request, count) => pool.race({ path: pathOf(store) }, request, count),
    racers: 4,
    fairClaims: true,
    // another connection to the same file: a second process
    openWithProjectLimits: (limits, shareWith) => {
      if (shareWith === undefined) n += 1;
      const opened = createSqliteStore({
        path: shareWith === undefined ? join(dir, `limits-${n}.db`) : pathOf(shareWith),
        ...limits,
      });
      if (!opened.ok) throw opened.error;
      return opened.value;
    },
  },
);

const opened: SqliteStore[] = [];
decisionStoreConformance(
  'sqlite',
  () => {
    n += 1;
    const store = createSqliteStore({ path: join(dir, `decisions-${n}.db`) });
    if (!store.ok) throw store.error;
    opened.push(store.value);
    return store.value;
  },
  {
    // a second connection to the same file: two hosts on one SQLite database
    reopen: (store) => {
      const other = createSqliteStore({ path: (store as SqliteStore).path });
      if (!other.ok) throw other.error;
      opened.push(other.value);
      return other.value;
    },
    cleanup: async () => {
      for (const s of opened.splice(0)) await s.close();
    },
  },
);
