import { STORE_ID_WIDTH, TASK_ID_PREFIX } from '@conveyor/core';
import { DECISIONS_SQL } from './decisions.js';

/** One forward-only schema step. */
export interface Migration {
  /** `PRAGMA user_version` after this step */
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * The schema history. Append only: a released migration is never edited, and
 * `SCHEMA_VERSION` is the version of the last one.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'tasks, task history, jobs, leases, lease tokens, deliveries, card refs',
    sql: `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

CREATE TABLE tasks (
  seq INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  issue_id TEXT NOT NULL,
  repo TEXT NOT NULL,
  branch TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  stage TEXT NOT NULL,
  status TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (project, issue_id)
);
CREATE INDEX tasks_repo_branch ON tasks (repo, branch);
CREATE INDEX tasks_status_updated ON tasks (status, updated_at);

CREATE TABLE task_history (
  task_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  from_stage TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_stage TEXT NOT NULL,
  to_status TEXT NOT NULL,
  cause TEXT NOT NULL,
  verdict_summary TEXT,
  at INTEGER NOT NULL,
  PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;

CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  stage TEXT NOT NULL,
  agent TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempt INTEGER NOT NULL,
  step_key TEXT NOT NULL UNIQUE,
  edge TEXT,
  input TEXT NOT NULL,
  pid INTEGER,
  exit_code INTEGER,
  has_exit_code INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  reason TEXT
);
-- serves the claim (status = 'queued', available_at <= now, ORDER BY available_at, seq),
-- the running count and listJobs by status
CREATE INDEX jobs_claim ON jobs (status, available_at, seq);
CREATE INDEX jobs_task ON jobs (task_id);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  token INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE lease_tokens (
  name TEXT PRIMARY KEY,
  last_token INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE deliveries (
  source TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (source, delivery_id)
) WITHOUT ROWID;

CREATE TABLE card_refs (
  task_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  ref TEXT NOT NULL,
  PRIMARY KEY (task_id, channel)
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    description: 'the delivery log tells pending from handled deliveries (#15): claimed_at, handled_at, attempt',
    // A delivery recorded before version 2 was treated as handled: it stays so.
    sql: `
ALTER TABLE deliveries ADD COLUMN claimed_at INTEGER;
ALTER TABLE deliveries ADD COLUMN handled_at INTEGER;
ALTER TABLE deliveries ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
UPDATE deliveries SET handled_at = received_at, claimed_at = received_at;
`,
  },
  {
    version: 3,
    description: 'the decision record: one decision per task step, its pin, verdicts, outcome, application',
    sql: DECISIONS_SQL,
  },
  {
    version: 4,
    description: "jobs carry their task's project: claims are fair across projects and keep per-project limits",
    // a job whose task is gone (or never existed) belongs to the project ''
    sql: `
ALTER TABLE jobs ADD COLUMN project TEXT NOT NULL DEFAULT '';
UPDATE jobs SET project = coalesce(
  (SELECT t.project FROM tasks t WHERE '${TASK_ID_PREFIX}' || printf('%0${STORE_ID_WIDTH}d', t.seq) = jobs.task_id), '');
-- the claim walks the projects with queued jobs, then each one's queue in (available_at, seq) order
CREATE INDEX jobs_project_queue ON jobs (status, project, available_at, seq);
`,
  },
]);

/** The schema version this build of the store writes and reads. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
