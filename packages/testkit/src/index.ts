/**
 * `@conveyor/testkit`: conformance suites every store and adapter runs, an
 * in-memory `Store`, fake Plane, Gitea and Telegram servers on 127.0.0.1, and
 * a local git forge (a bare repository playing the forge).
 *
 * @packageDocumentation
 */
export { FIXTURES_MISSING_MESSAGE, sharedFixturesDir } from './fixtures.js';
export {
  createLocalGitForge,
  type LocalGitForge,
  type LocalGitForgeOptions,
  type LocalGitIdentity,
  type LocalPullRequest,
} from './forge/local-git-forge.js';
export * from './gitea/index.js';
export * from './http/index.js';
export * from './plane/index.js';
export {
  findPostgresBinDir,
  PG_URL_ENV,
  POSTGRES_MISSING_MESSAGE,
  postgresForTests,
  randomDatabaseName,
  startThrowawayPostgres,
  type ThrowawayPostgres,
  type ThrowawayPostgresOptions,
  withDatabase,
} from './postgres/index.js';
export * from './store/index.js';
export * from './telegram/index.js';
