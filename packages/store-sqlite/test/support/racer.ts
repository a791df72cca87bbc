// A racer process for the cross-process conformance cases: opens the store on
// the file given in argv, says "ready", waits for "go" on stdin, performs one
// operation and prints what it saw as one JSON line.
import type { RacerOutcome, RacerRequest } from '@conveyor/testkit';
import { createSqliteStore } from '../../src/index.js';

const [path, indexText, requestJson] = process.argv.slice(2);
if (path === undefined || indexText === undefined || requestJson === undefined) {
  process.stderr.write('usage: racer.ts <db path> <index> <request json>\n');
  process.exit(2);
}
const index = Number(indexText);
const request = JSON.parse(requestJson) as RacerRequest;

const opened = createSqliteStore({ path, busyTimeoutMs: 20_000 });
if (!opened.ok) {
  process.stdout.write(`${JSON.stringify({ index, ok: false, error: opened.error.message })}\n`);
  process.exit(0);
}
const store = opened.value;
process.stdout.write('ready\n');

process.stdin.once('data', async () => {
  let outcome: RacerOutcome;
  if (request.kind === 'createTaskIfAbsent') {
    const res = await store.createTaskIfAbsent(request.input);
    outcome = res.ok
      ? { index, ok: true, created: res.value.created, taskId: res.value.task.id }
      : { index, ok: false, error: res.error.message };
  } else {
    const res = await store.finishJob({
      jobId: request.jobId,
      status: 'succeeded',
      exitCode: index,
      reason: `racer ${index}`,
      now: request.now,
    });
    outcome = res.ok ? { index, ok: true, won: res.value.won } : { index, ok: false, error: res.error.message };
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  process.stdin.pause();
});
