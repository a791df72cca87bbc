import { fileURLToPath } from 'node:url';
import { createRacerPool, decisionStoreConformance, type StoreUnderTest, storeConformance } from '@conveyor/testkit';
import { afterAll, describe } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/database.js';

const server = serverUrl();
// One database for this file; every test gets a fresh schema in it.
const db: TestDatabase | undefined = server === undefined ? undefined : await createTestDatabase(server);
// Real node processes, started once and reused by every cross-process case.
const pool = createRacerPool({
  script: fileURLToPath(new URL('./support/racer.ts', import.meta.url)),
  tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)),
});
let n = 0;

afterAll(async () => {
  pool.close();
  await db?.drop();
});

// Without a server (locally only: in CI serverUrl throws) there is nothing to run against.
describe.skipIf(db === undefined)('postgres', () => {
  storeConformance(
    'postgres',
    async () => {
      n += 1;
      const opened = await createPostgresStore({ connectionString: db?.url ?? '', schema: `conformance_${n}` });
      if (!opened.ok) throw opened.error;
      return opened.value;
    },
    {
      cleanup: async (store) => {
        await db?.sql(`DROP SCHEMA IF EXISTS "${(store as PostgresStore).schema}" CASCADE`);
      },
      spawnRacers: (store, request, count) =>
        pool.race({ url: db?.url ?? '', schema: (store as StoreUnderTest & PostgresStore).schema }, request, count),
      racers: 4,
      fairClaims: true,
      // another pool on the same schema: a second host
      openWithProjectLimits: async (limits, shareWith) => {
        if (shareWith === undefined) n += 1;
        const opened = await createPostgresStore({
          connectionString: db?.url ?? '',
          schema: shareWith === undefined ? `limits_${n}` : (shareWith as PostgresStore).schema,
          ...limits,
        });
        if (!opened.ok) throw opened.error;
        return opened.value;
      },
    },
  );

  const opened: PostgresStore[] = [];
  decisionStoreConformance(
    'postgres',
    async () => {
      n += 1;
      const store = await createPostgresStore({ connectionString: db?.url ?? '', schema: `decisions_${n}` });
      if (!store.ok) throw store.error;
      opened.push(store.value);
      return store.value;
    },
    {
      // a second pool on the same schema: two hosts on one database
      reopen: async (store) => {
        const other = await createPostgresStore({
          connectionString: db?.url ?? '',
          schema: (store as PostgresStore).schema,
        });
        if (!other.ok) throw other.error;
        opened.push(other.value);
        return other.value;
      },
      cleanup: async () => {
        for (const s of opened.splice(0)) await s.close();
      },
    },
  );
});
