import { startThrowawayPostgres } from './packages/testkit/src/index.js';
import { createPostgresStore } from './packages/store-postgres/src/index.js';
import pg from 'pg';
const srv = await startThrowawayPostgres();
const s = await createPostgresStore({ connectionString: srv.url });
if (!s.ok) throw s.error;
const store = s.value;
const t = await store.createTaskIfAbsent({ project: 'p', issueId: 'i', repo: 'r', branch: 'b', title: '', description: '', snapshot: { stage: 'a', status: 'active', step: 0, developerRetries: 0, deferrals: 0, jobAttempts: 0 }, now: 1 });
if (!t.ok) throw t.error;
const sql = new pg.Pool({ connectionString: srv.url, max: 1 });
await sql.query(`INSERT INTO conveyor.jobs (task_id, project, stage, agent, kind, status, attempt, step_key, input, available_at, created_at)
     SELECT $1, 'p', 'd', 'a', 'agent', 'queued', 1, 'b:' || i, '{}', 0, 0 FROM generate_series(1, 100000) i`, [t.value.task.id]);
await sql.query('VACUUM ANALYZE conveyor.jobs');
await sql.query("LOAD 'auto_explain'");
await sql.query("SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on; SET client_min_messages = log");
const c = await sql.connect();
c.on('notice', (n) => console.log(n.message));
await c.query("LOAD 'auto_explain'");
await c.query("SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on; SET client_min_messages = log");
for (let i = 0; i < 8; i++) { const r = await c.query(`SELECT * FROM conveyor.claim_jobs(5, 1, '{}'::jsonb, NULL)`); console.log("----- FINISH"); await c.query(`UPDATE conveyor.jobs SET status = 'succeeded' WHERE seq = $1`, [r.rows[0].seq]); }
c.release();
await store.close(); await sql.end(); await srv.stop();
