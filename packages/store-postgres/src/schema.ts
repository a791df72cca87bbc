/** One forward-only schema step. */
export interface PostgresMigration {
  /** the version recorded in `schema_migrations` after this step */
  readonly version: number;
  readonly description: string;
  /** the statements, with `{{schema}}` standing for the quoted schema name */
  readonly sql: string;
}

/**
 * The schema history. Append only: a released migration is never edited, and
 * `POSTGRES_SCHEMA_VERSION` is the version of the last one. Every migration
 * runs in one transaction under an advisory lock, so two hosts starting at
 * once apply it once, and a failing step leaves nothing behind.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([
  {
    version: 1,
    description:
      'tasks, task history, jobs (with their project), leases, a lease token sequence, deliveries, card refs',
    sql: `
CREATE TABLE {{schema}}.tasks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project text NOT NULL,
  issue_id text NOT NULL,
  repo text NOT NULL,
  branch text NOT NULL,
  title text NOT NULL,
  description text NOT NULL,
  stage text NOT NULL,
  status text NOT NULL,
  snapshot jsonb NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  UNIQUE (project, issue_id)
);
CREATE INDEX tasks_repo_branch ON {{schema}}.tasks (repo, branch, seq);
CREATE INDEX tasks_status_updated ON {{schema}}.tasks (status, updated_at);

CREATE TABLE {{schema}}.task_history (
  task_id text NOT NULL,
  seq integer NOT NULL,
  from_stage text NOT NULL,
  from_status text NOT NULL,
  to_stage text NOT NULL,
  to_status text NOT NULL,
  cause text NOT NULL,
  verdict_summary text,
  at bigint NOT NULL,
  PRIMARY KEY (task_id, seq)
);

CREATE TABLE {{schema}}.jobs (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id text NOT NULL,
  -- the task's project, copied at enqueue: the claim is fair across projects and limits each
  project text NOT NULL,
  stage text NOT NULL,
  agent text NOT NULL,
  kind text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempt integer NOT NULL,
  step_key text NOT NULL UNIQUE,
  edge text,
  input jsonb NOT NULL,
  pid integer,
  exit_code integer,
  has_exit_code boolean NOT NULL DEFAULT false,
  available_at bigint NOT NULL,
  created_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint,
  reason text
);
-- the claim walks the queued jobs of one project in (available_at, seq) order
CREATE INDEX jobs_queued ON {{schema}}.jobs (project, available_at, seq) WHERE status = 'queued';
-- the running count, per project
CREATE INDEX jobs_running ON {{schema}}.jobs (project) WHERE status = 'running';
CREATE INDEX jobs_status ON {{schema}}.jobs (status, seq);
CREATE INDEX jobs_task ON {{schema}}.jobs (task_id, seq);

CREATE TABLE {{schema}}.leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL,
  acquired_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
-- one sequence for every lease: a token never repeats, whichever host took it
CREATE SEQUENCE {{schema}}.lease_tokens AS bigint;

-- a delivery counts as handled only once its handling succeeded: claimed (pending), then
-- handled, or released by a failed handling (claimed_at NULL) for the sender's retry
CREATE TABLE {{schema}}.deliveries (
  source text NOT NULL,
  delivery_id text NOT NULL,
  received_at bigint NOT NULL,
  claimed_at bigint,
  handled_at bigint,
  attempt integer NOT NULL DEFAULT 1,
  PRIMARY KEY (source, delivery_id)
);

-- the decision record (invariant 8): one per task step, its pin, each gate's verdict, the
-- outcome and its application; writes are fenced by the decide:<taskId> lease token
CREATE TABLE {{schema}}.decisions (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id text NOT NULL,
  edge text NOT NULL,
  step integer NOT NULL,
  head_sha text NOT NULL,
  base_sha text NOT NULL,
  base_branch text NOT NULL,
  fence bigint NOT NULL,
  verdicts jsonb NOT NULL DEFAULT '[]',
  outcome jsonb,
  started_at bigint NOT NULL,
  decided_at bigint,
  applied_at bigint,
  UNIQUE (task_id, step)
);

CREATE TABLE {{schema}}.card_refs (
  task_id text NOT NULL,
  channel text NOT NULL,
  ref text NOT NULL,
  PRIMARY KEY (task_id, channel)
);

-- Wakes idle workers: the payload is the job's available_at, so a listener can wait for a delayed job.
CREATE FUNCTION {{schema}}.notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify({{channel}}, NEW.available_at::text);
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT ON {{schema}}.jobs FOR EACH ROW EXECUTE FUNCTION {{schema}}.notify_job();

-- The claim. Claimers are serialised by a transaction advisory lock taken before the
-- claiming statement (which, in a VOLATILE function, reads a snapshot taken after the
-- lock is held), so the running count it reads is exact and the limits hold across
-- hosts. Fair order: the first queued job of every project, then the second of every
-- project, …; within a project by (available_at, seq). Rows another transaction holds
-- (a cancel, a finish) are skipped, never waited for.
CREATE FUNCTION {{schema}}.claim_jobs(p_now bigint, p_max integer, p_limits jsonb, p_default_limit integer)
RETURNS SETOF {{schema}}.jobs LANGUAGE plpgsql VOLATILE
-- the planner's estimates for a big queue would JIT-compile a statement that runs in well under a millisecond
SET jit = off AS $$
DECLARE
  v_slots integer;
BEGIN
  PERFORM pg_advisory_xact_lock({{claimLock}});
  SELECT p_max - count(*) INTO v_slots FROM {{schema}}.jobs WHERE status = 'running';
  IF v_slots <= 0 THEN RETURN; END IF;
  RETURN QUERY
  WITH RECURSIVE projects AS (
    (SELECT j.project FROM {{schema}}.jobs j WHERE j.status = 'queued' ORDER BY j.project LIMIT 1)
    UNION ALL
    SELECT (SELECT j.project FROM {{schema}}.jobs j WHERE j.status = 'queued' AND j.project > p.project ORDER BY j.project LIMIT 1)
    FROM projects p WHERE p.project IS NOT NULL
  ),
  running AS (
    SELECT j.project, count(*)::integer AS n FROM {{schema}}.jobs j WHERE j.status = 'running' GROUP BY j.project
  ),
  candidates AS (
    SELECT c.seq, c.available_at, c.rn
    FROM projects p
    LEFT JOIN running r ON r.project = p.project
    CROSS JOIN LATERAL (
      SELECT q.seq, q.available_at, row_number() OVER (ORDER BY q.available_at, q.seq) AS rn
      FROM {{schema}}.jobs q
      WHERE q.status = 'queued' AND q.project = p.project AND q.available_at <= p_now
      ORDER BY q.available_at, q.seq
      -- least() ignores NULL: a project without a limit is bounded by the free global slots only
      LIMIT greatest(0, least(v_slots, coalesce((p_limits ->> p.project)::integer, p_default_limit) - coalesce(r.n, 0)))
    ) c
    WHERE p.project IS NOT NULL
    ORDER BY c.rn, c.available_at, c.seq
    LIMIT v_slots
  ),
  locked AS (
    SELECT j.seq FROM {{schema}}.jobs j
    WHERE j.seq IN (SELECT seq FROM candidates) AND j.status = 'queued'
    FOR UPDATE SKIP LOCKED
  ),
  claimed AS (
    UPDATE {{schema}}.jobs j SET status = 'running', started_at = p_now
    FROM locked WHERE j.seq = locked.seq
    RETURNING j.*
  )
  SELECT claimed.* FROM claimed JOIN candidates USING (seq) ORDER BY candidates.rn, claimed.available_at, claimed.seq;
END $$;

-- A saved transition: the task row is locked, the version checked, the snapshot and its
-- history entry written, all in the caller's one statement (one transaction).
-- outcome: 'ok' | 'not_found' | 'conflict' (actual_version says where the task is).
CREATE FUNCTION {{schema}}.save_transition(
  p_seq bigint, p_task_id text, p_expected integer, p_snapshot jsonb, p_stage text, p_status text,
  p_cause text, p_verdict text, p_now bigint
) RETURNS TABLE (outcome text, actual_version integer, task {{schema}}.tasks) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_old {{schema}}.tasks;
  v_new {{schema}}.tasks;
BEGIN
  SELECT * INTO v_old FROM {{schema}}.tasks WHERE seq = p_seq FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::integer, NULL::{{schema}}.tasks;
    RETURN;
  END IF;
  IF v_old.version <> p_expected THEN
    RETURN QUERY SELECT 'conflict'::text, v_old.version, NULL::{{schema}}.tasks;
    RETURN;
  END IF;
  UPDATE {{schema}}.tasks SET snapshot = p_snapshot, stage = p_stage, status = p_status,
    version = version + 1, updated_at = p_now
  WHERE seq = p_seq RETURNING * INTO v_new;
  INSERT INTO {{schema}}.task_history (task_id, seq, from_stage, from_status, to_stage, to_status, cause, verdict_summary, at)
  VALUES (p_task_id, v_new.version - 1, v_old.stage, v_old.status, p_stage, p_status, p_cause, p_verdict, p_now);
  RETURN QUERY SELECT 'ok'::text, v_new.version, v_new;
END $$;

-- A lease acquisition. Acquirers of one name are serialised by an advisory lock, and the
-- token is drawn after it is held: of two grants of one name, the later has the larger token.
-- acquired = false returns the live lease instead.
CREATE FUNCTION {{schema}}.acquire_lease(p_name text, p_holder text, p_now bigint, p_ttl bigint)
RETURNS TABLE (acquired boolean, lease {{schema}}.leases) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_current {{schema}}.leases;
  v_new {{schema}}.leases;
BEGIN
  PERFORM pg_advisory_xact_lock({{leaseLockClass}}, hashtext(p_name));
  SELECT * INTO v_current FROM {{schema}}.leases WHERE name = p_name;
  IF FOUND AND v_current.expires_at > p_now THEN
    RETURN QUERY SELECT false, v_current;
    RETURN;
  END IF;
  INSERT INTO {{schema}}.leases (name, holder, token, acquired_at, expires_at)
  VALUES (p_name, p_holder, nextval('{{schemaText}}.lease_tokens'), p_now, p_now + p_ttl)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
  RETURNING * INTO v_new;
  RETURN QUERY SELECT true, v_new;
END $$;
`,
  },
  {
    version: 2,
    description: 'a claim of simple statements (each planned once per connection, not at every call); finish_and_claim',
    sql: `
-- The same claim as version 1 (serialised by the claim lock, the running count exact, fair
-- order, rows another transaction holds skipped), as a few simple statements instead of one
-- big one. The big statement's generic plan was poor, so PostgreSQL planned it afresh at
-- every call (about a millisecond, more than running it); each statement here has a good
-- generic plan, so a connection plans it once. The work no longer grows with the queue: one
-- index probe per project with queued jobs, and each project's pick stops at its allowance.
CREATE OR REPLACE FUNCTION {{schema}}.claim_jobs(p_now bigint, p_max integer, p_limits jsonb, p_default_limit integer)
RETURNS SETOF {{schema}}.jobs LANGUAGE plpgsql VOLATILE
SET jit = off AS $$
DECLARE
  v_slots integer;
  v_project text;
  v_limit integer;
  v_allowance integer;
  v_rank integer;
  v_seqs bigint[] := '{}';
  v_ranks integer[] := '{}';
  v_avail bigint[] := '{}';
  v_pick record;
BEGIN
  PERFORM pg_advisory_xact_lock({{claimLock}});
  SELECT p_max - count(*) INTO v_slots FROM {{schema}}.jobs WHERE status = 'running';
  IF v_slots <= 0 THEN RETURN; END IF;
  -- the projects with queued jobs, one index probe each (a skip scan of jobs_queued)
  SELECT min(project) INTO v_project FROM {{schema}}.jobs WHERE status = 'queued';
  WHILE v_project IS NOT NULL LOOP
    v_limit := coalesce((p_limits ->> v_project)::integer, p_default_limit);
    IF v_limit IS NULL THEN
      -- a project without a limit is bounded by the free global slots only
      v_allowance := v_slots;
    ELSE
      SELECT greatest(0, least(v_slots, v_limit - count(*)))
        INTO v_allowance FROM {{schema}}.jobs WHERE status = 'running' AND project = v_project;
    END IF;
    IF v_allowance > 0 THEN
      -- ranks count within the project: its first job is 1
      v_rank := 0;
      FOR v_pick IN
        SELECT seq, available_at FROM {{schema}}.jobs
        WHERE status = 'queued' AND project = v_project AND available_at <= p_now
        ORDER BY available_at, seq LIMIT v_allowance
      LOOP
        v_seqs := v_seqs || v_pick.seq;
        v_avail := v_avail || v_pick.available_at;
        v_rank := v_rank + 1;
        v_ranks := v_ranks || v_rank;
      END LOOP;
    END IF;
    SELECT min(project) INTO v_project FROM {{schema}}.jobs WHERE status = 'queued' AND project > v_project;
  END LOOP;
  IF coalesce(array_length(v_seqs, 1), 0) = 0 THEN RETURN; END IF;
  -- fair order: the first job of every project, then the second, …; the first v_slots win
  RETURN QUERY
  WITH candidates AS (
    SELECT c.seq, c.rank, c.available_at
    FROM unnest(v_seqs, v_ranks, v_avail) AS c (seq, rank, available_at)
    ORDER BY c.rank, c.available_at, c.seq
    LIMIT v_slots
  ),
  locked AS (
    SELECT j.seq FROM {{schema}}.jobs j
    WHERE j.seq IN (SELECT seq FROM candidates) AND j.status = 'queued'
    FOR UPDATE SKIP LOCKED
  ),
  claimed AS (
    UPDATE {{schema}}.jobs j SET status = 'running', started_at = p_now
    FROM locked WHERE j.seq = locked.seq
    RETURNING j.*
  )
  SELECT claimed.* FROM claimed JOIN candidates USING (seq)
  ORDER BY candidates.rank, claimed.available_at, claimed.seq;
END $$;

-- finishAndClaim: the terminal flips (only rows still running), then the claim, in one
-- transaction and one round trip. The flipped rows come first, then the claimed ones (a
-- flipped row is terminal, a claimed one running: the caller tells them apart by seq). It
-- claims only when one of the jobs exists, so the claimed jobs always have a caller to go to.
-- The flips take their row locks before the claim lock, and a claim never waits for a row
-- lock (SKIP LOCKED), so the order cannot deadlock.
CREATE FUNCTION {{schema}}.finish_and_claim(
  p_seqs bigint[], p_status text[], p_exit_code integer[], p_has_exit_code boolean[], p_reason text[],
  p_finished_at bigint[], p_now bigint, p_max integer, p_limits jsonb, p_default_limit integer
) RETURNS SETOF {{schema}}.jobs LANGUAGE plpgsql VOLATILE
SET jit = off AS $$
BEGIN
  RETURN QUERY
  UPDATE {{schema}}.jobs j SET status = v.status, exit_code = v.exit_code, has_exit_code = v.has_exit_code,
    reason = v.reason, finished_at = v.finished_at
  FROM unnest(p_seqs, p_status, p_exit_code, p_has_exit_code, p_reason, p_finished_at)
    AS v (seq, status, exit_code, has_exit_code, reason, finished_at)
  WHERE j.seq = v.seq AND j.status = 'running'
  RETURNING j.*;
  -- no caller to hand the claimed jobs to when none of the jobs exists
  IF p_max > 0 AND EXISTS (SELECT 1 FROM {{schema}}.jobs WHERE seq = ANY(p_seqs)) THEN
    RETURN QUERY SELECT * FROM {{schema}}.claim_jobs(p_now, p_max, p_limits, p_default_limit);
  END IF;
END $$;
`,
  },
]);

/** The schema version this build of the store writes and reads. */
export const POSTGRES_SCHEMA_VERSION: number = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]?.version ?? 0;
