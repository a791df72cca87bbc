import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision, JobQuery, Task } from '@conveyor/core';
import { compileSecretsConfig, DEFAULT_SECRETS_CONFIG, redactText, scanText } from '@conveyor/gates';
import type { DashboardArtifact, DashboardDecision, DashboardStore } from './api.js';
import { envRedactor } from './dashboard.js';

/** the most of one artifact a task page shows (its tail) */
const MAX_ARTIFACT_BYTES = 256 * 1024;

function tail(path: string): string | undefined {
  try {
    const size = statSync(path).size;
    const text = readFileSync(path, 'utf8');
    return size > MAX_ARTIFACT_BYTES
      ? `… (${size - MAX_ARTIFACT_BYTES} bytes cut)\n${text.slice(-MAX_ARTIFACT_BYTES)}`
      : text;
  } catch {
    return undefined;
  }
}

function filesUnder(dir: string, depth = 3): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isDirectory()) return depth > 0 ? filesUnder(path, depth - 1) : [];
      return stat.isFile() ? [path] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The texts a task page shows for the example host: the gates' reports under
 * `<dataDir>/reports/<taskId>/` and each job's agent log. Redaction happens
 * in the dashboard (every artifact goes through its `redact`).
 */
export async function hostArtifacts(
  store: Pick<DashboardStore, 'listJobs'>,
  dataDir: string,
  task: Task,
): Promise<DashboardArtifact[]> {
  const reportsRoot = join(dataDir, 'reports', task.id);
  const reports = filesUnder(reportsRoot).flatMap((path) => {
    const text = tail(path);
    return text === undefined ? [] : [{ name: path.slice(reportsRoot.length + 1), text }];
  });
  const query: JobQuery = { taskId: task.id, limit: 200 };
  const jobs = await store.listJobs(query);
  const logs = (jobs.ok ? jobs.value : []).flatMap((job) => {
    const text = tail(join(dataDir, 'logs', `${job.id}.log`));
    return text === undefined ? [] : [{ name: `${job.stage} · ${job.agent} · ${job.id}.log`, text }];
  });
  return [...reports, ...logs];
}

/**
 * The host's redaction: every secret the built-in rules find, and the value
 * of every secret-looking variable of the host's environment.
 */
export function hostRedactor(): (text: string) => string {
  const fromEnv = envRedactor();
  const rules = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!rules.ok) return fromEnv;
  return (text) => {
    const found = scanText(rules.value, text).map((f) => f.Secret);
    return fromEnv(found.length > 0 ? redactText(text, found) : text);
  };
}

/** A decision record as the task page shows it: the pinned commits and each gate's verdict. */
export function dashboardDecision(decision: Decision): DashboardDecision {
  return {
    edge: decision.edge,
    status: decision.outcome?.status ?? 'running',
    summary: decision.outcome?.summary ?? 'deciding',
    at: decision.decidedAt ?? decision.startedAt,
    headSha: decision.headSha,
    baseSha: decision.baseSha,
    verdicts: decision.verdicts.map((v) => ({
      gateId: v.gateId,
      status: v.status,
      summary: v.summary,
      durationMs: v.durationMs,
      findings: v.findings,
    })),
  };
}
