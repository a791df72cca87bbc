import { startThrowawayPostgres } from './packages/testkit/src/index.js';
import { createPostgresStore } from './packages/store-postgres/src/index.js';
import pg from 'pg';
const srv = await startThrowawayPostgres();
const s = await createPostgresStore({ connectionString: srv.url });
if (!s.ok) throw s.error;
const store = s.value;
const t = await store.createTaskIfAbsent({ project: 'p', issueId: 'i', repo: 'r', branch: 'b', title: '', description: '', snapshot: { stage: 'a', status: 'active', step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 }, now: 1 });
if (!t.ok) throw t.error;
const sql = new pg.Pool({ connectionString: srv.url });
for (const queued of [1000, 100000]) {
  await sql.query('DELETE FROM conveyor.jobs');
  await sql.query(`INSERT INTO conveyor.jobs (task_id, project, stage, agent, kind, status, attempt, step_key, input, available_at, created_at)
     SELECT $1, 'p', 'd', 'a', 'agent', 'queued', 1, 'b:' || i, '{}', 0, 0 FROM generate_series(1, $2) i`, [t.value.task.id, queued]);
  await sql.query('VACUUM ANALYZE conveyor.jobs');
  const ms: number[] = []; const fin: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const c = await store.claimJobs({ maxConcurrency: 1, now: 5 });
    ms.push(performance.now() - t0);
    if (!c.ok || !c.value[0]) throw new Error(JSON.stringify(c.ok ? [i, c.value] : c.error.message));
    const t1 = performance.now();
    await store.finishJob({ jobId: c.value[0].id, status: 'succeeded', now: 6 });
    fin.push(performance.now() - t1);
  }
  ms.sort((a, b) => a - b); fin.sort((a, b) => a - b);
  console.log(queued, 'claim p50', ms[150].toFixed(2), 'p99', ms[297].toFixed(2), 'finish p50', fin[150].toFixed(2));
  const t0 = performance.now();
  for (let i = 0; i < 300; i++) await sql.query('SELECT 1');
  console.log('select 1', ((performance.now() - t0) / 300).toFixed(2));
}
await store.close(); await sql.end(); await srv.stop();
