// Opens the store once and prints what the open did, as JSON: a host starting up.
// Args: <url> <schema>. Waits for a line on stdin before opening, so the parent can
// release several of these at the same moment.
import { createInterface } from 'node:readline';
import { createPostgresStore } from '../../src/index.js';

const [url, schema] = process.argv.slice(2);
if (url === undefined || schema === undefined) throw new Error('usage: open-store <url> <schema>');
process.stdout.write('loaded\n');
const lines = createInterface({ input: process.stdin });
lines.once('line', async () => {
  const opened = await createPostgresStore({ connectionString: url, schema, maxConnections: 1 });
  if (!opened.ok) {
    process.stdout.write(`${JSON.stringify({ ok: false, code: opened.error.code, error: opened.error.message })}\n`);
  } else {
    const { migrationsApplied, schemaVersion } = opened.value;
    process.stdout.write(`${JSON.stringify({ ok: true, migrationsApplied, schemaVersion })}\n`);
    await opened.value.close();
  }
  lines.close();
});
