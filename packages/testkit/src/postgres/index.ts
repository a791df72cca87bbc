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
} from './throwaway-postgres.js';
