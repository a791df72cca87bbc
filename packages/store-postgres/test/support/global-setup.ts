// One PostgreSQL server for every test file of this package: CONVEYOR_PG_URL when set
// (CI starts one), otherwise a throwaway cluster in a temp folder. Each file then makes its
// own database, so files run in parallel. Locally, without PostgreSQL, the files skip.
import { PG_URL_ENV, POSTGRES_MISSING_MESSAGE, postgresForTests } from '@conveyor/testkit';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await postgresForTests();
  if (server === undefined) {
    console.warn(POSTGRES_MISSING_MESSAGE);
    return async () => {};
  }
  process.env[PG_URL_ENV] = server.url;
  return () => server.stop();
}
