// A long-lived racer process for the cross-process conformance cases. It reads
// one JSON command per line on stdin:
//   {"type":"prepare","url":…,"schema":…,"index":…,"request":…} → opens the store, prints "ready"
//   {"type":"go"} → performs the request once, closes the store, prints the outcome as JSON
// Opening before "go" lets the parent release every racer at the same moment.
import { createInterface } from 'node:readline';
import type { RacerOutcome, RacerRequest } from '@conveyor/testkit';
import { createPostgresStore, type PostgresStore } from '../../src/index.js';

interface Prepared {
  readonly store: PostgresStore;
  readonly index: number;
  readonly request: RacerRequest;
}

let prepared: Prepared | undefined;
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function perform({ store, index, request }: Prepared): Promise<RacerOutcome> {
  if (request.kind === 'createTaskIfAbsent') {
    const res = await store.createTaskIfAbsent(request.input);
    return res.ok
      ? { index, ok: true, created: res.value.created, taskId: res.value.task.id }
      : { index, ok: false, error: res.error.message };
  }
  if (request.kind === 'claimJobs') {
    const res = await store.claimJobs({ maxConcurrency: request.maxConcurrency, now: request.now });
    return res.ok
      ? { index, ok: true, claimedJobIds: res.value.map((j) => j.id) }
      : { index, ok: false, error: res.error.message };
  }
  const res = await store.finishJob({
    jobId: request.jobId,
    status: 'succeeded',
    exitCode: index,
    reason: `racer ${index}`,
    now: request.now,
  });
  return res.ok ? { index, ok: true, won: res.value.won } : { index, ok: false, error: res.error.message };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const command = JSON.parse(line) as
    | { type: 'prepare'; url: string; schema: string; index: number; request: RacerRequest }
    | { type: 'go' };
  if (command.type === 'prepare') {
    const opened = await createPostgresStore({
      connectionString: command.url,
      schema: command.schema,
      maxConnections: 2,
    });
    if (!opened.ok) {
      say(JSON.stringify({ index: command.index, ok: false, error: opened.error.message }));
      return;
    }
    prepared = { store: opened.value, index: command.index, request: command.request };
    say('ready');
    return;
  }
  const current = prepared;
  prepared = undefined;
  if (!current) {
    say(JSON.stringify({ index: -1, ok: false, error: 'go without prepare' }));
    return;
  }
  const outcome = await perform(current);
  await current.store.close();
  say(JSON.stringify(outcome));
});
lines.on('close', () => process.exit(0));
