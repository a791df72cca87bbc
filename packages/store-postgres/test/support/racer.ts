// A racer process for the cross-process cases (testkit's serveRacer): opens the store on
// the database and schema its target names.
import { serveRacer } from '@conveyor/testkit';
import { createPostgresStore } from '../../src/index.js';

serveRacer((target) => {
  const { url, schema } = target as unknown as { url: string; schema: string };
  return createPostgresStore({ connectionString: url, schema, maxConnections: 2 });
});
