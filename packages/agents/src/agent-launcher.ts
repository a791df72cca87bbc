import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type AsyncResult,
  type ConveyorError,
  err,
  type Job,
  type LaunchedProcess,
  type Launcher,
  type LaunchSpec,
  type Logger,
  ok,
  type ProcessExit,
  type Store,
  type Task,
  type Tracker,
} from '@conveyor/core';
import type { AgentRunOutcome, AgentRunStatus } from './agent-process.js';
import { agentsError } from './errors.js';
import { BUILT_IN_PROMPTS, type PromptTemplate, parsePromptTemplate, promptNameFor, renderPrompt } from './prompts.js';
import { createRedactor, type SecretDetector, secretEnvValues } from './redact.js';
import type { AgentRunner } from './runner.js';
import type { PushOutcome, Workspace, Workspaces } from './workspaces.js';

/** What one agent job did, as the launcher records it (`<transcriptDir>/<jobId>.outcome.json`, next to `<jobId>.jsonl` and `<jobId>.prompt.md`). */
export interface AgentJobOutcome extends Omit<AgentRunOutcome, 'status'> {
  readonly jobId: string;
  readonly taskId: string;
  readonly stage: string;
  readonly status: AgentRunStatus;
  /** the template the prompt came from */
  readonly promptSource: string;
  /** what the runner committed and pushed (commit stages only) */
  readonly push?: PushOutcome;
}

/** Options of {@link createAgentLauncher}. */
export interface AgentLauncherOptions {
  /** to read the job and its task by the `jobId` of the launch spec */
  readonly store: Pick<Store, 'getJob' | 'getTask'>;
  readonly workspaces: Workspaces;
  /** the runner of a job (by `job.agent` or `job.stage`); `undefined` fails the job with a clear reason */
  readonly runnerFor: (job: Job, task: Task) => AgentRunner | undefined;
  /** transcripts (`<jobId>.jsonl`) and outcomes (`<jobId>.outcome.json`) */
  readonly transcriptDir: string;
  /** per-job CLI state and the analysis plans (default `<transcriptDir>/state`) */
  readonly stateDir?: string;
  /** posts the analysis plan as a comment on the issue */
  readonly tracker?: Pick<Tracker, 'comment'>;
  /** the repository's templates, read from the base commit (default `.conveyor/prompts`) */
  readonly repoPromptsDir?: string;
  /** the host's templates on disk (`<dir>/<name>.md`), used when the repository has none */
  readonly hostPromptsDir?: string;
  /** stages whose changes the runner commits and pushes (default `['development']`) */
  readonly commitStages?: readonly string[];
  /** stages that must change something (default `['development']`) */
  readonly requireChangeStages?: readonly string[];
  /** the stage whose final message is the plan (default `analysis`) */
  readonly planStage?: string;
  /** the host's deploy command, shown to deploy-stage templates */
  readonly deployCommand?: string;
  /**
   * more values to redact everywhere (push tokens, …); the secret-looking env
   * values of the host and of the job's launch spec ({@link secretEnvValues})
   * are always added, other env values (task ids, branches) are not
   */
  readonly secrets?: readonly string[];
  /** env variables (the host's or the launch spec's) whose values are secrets whatever their names */
  readonly secretEnvNames?: readonly string[];
  /** finds secrets in agent output beyond the known values (e.g. a secret scanner's rules); each is redacted */
  readonly detectSecrets?: SecretDetector;
  readonly logger?: Logger;
  /** called once per job with its outcome (after commit and push) */
  readonly onOutcome?: (outcome: AgentJobOutcome) => void;
}

/** A `Launcher` that runs coding agents; plugs into the worker as its `launcher`. */
export interface AgentLauncher extends Launcher {
  /** The outcome of a job this launcher ran (also on disk), `undefined` while it runs. */
  outcome(jobId: string): AgentJobOutcome | undefined;
  /** The plan kept for a task, `undefined` before its analysis. */
  plan(taskId: string): string | undefined;
}

/**
 * The `commandFor` to hand the worker together with {@link createAgentLauncher}:
 * the launcher ignores `command` and reads the job itself; `timeoutMs` and `env`
 * still apply.
 *
 * @example
 * ```ts
 * createWorker({ ..., launcher: agents, commandFor: agentCommandFor });
 * ```
 */
export function agentCommandFor(): Omit<LaunchSpec, 'jobId'> {
  return { command: '@conveyor/agents', args: [] };
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Exit code the launcher reports for each status (the worker records 0 as success). */
const EXIT_CODES: Record<AgentRunStatus, number | null> = {
  succeeded: 0,
  failed: 1,
  budget_exceeded: 3,
  killed: null,
};

/**
 * A core `Launcher` for agent jobs. For each job it reads the job and task,
 * prepares the task's workspace (a clone on the task branch), picks the prompt
 * template (the repository's `.conveyor/prompts/<name>.md` from the base commit,
 * else the host's, else the built-in), renders it with the task, issue, stage,
 * attempt, findings and plan, starts the runner, and when the agent ends:
 * keeps the analysis plan (file + tracker comment), commits and pushes the
 * branch for commit stages, fails a development job that changed nothing, and
 * maps the outcome to the process exit the worker records (`reason` carries
 * the summary or the failure).
 *
 * @example
 * ```ts
 * const agents = createAgentLauncher({ store, workspaces, transcriptDir: '/var/log/conveyor/agents', tracker,
 *   runnerFor: (job) => (job.stage.startsWith('deploy') ? deployRunner : claude) });
 * const daemons = createDaemons({ ..., worker: { launcher: agents, commandFor: agentCommandFor } });
 * ```
 */
export function createAgentLauncher(options: AgentLauncherOptions): AgentLauncher {
  const transcriptDir = path.resolve(options.transcriptDir);
  const stateRoot = path.resolve(options.stateDir ?? path.join(transcriptDir, 'state'));
  const secretEnv = options.secretEnvNames === undefined ? {} : { names: options.secretEnvNames };
  const commitStages = new Set(options.commitStages ?? ['development']);
  const requireChange = new Set(options.requireChangeStages ?? ['development']);
  const planStage = options.planStage ?? 'analysis';
  const repoPromptsDir = options.repoPromptsDir ?? '.conveyor/prompts';
  const outcomes = new Map<string, AgentJobOutcome>();
  const planFile = (taskId: string) => path.join(stateRoot, 'plans', `${encodeURIComponent(taskId)}.md`);
  const readPlan = (taskId: string) => {
    try {
      return fs.readFileSync(planFile(taskId), 'utf8');
    } catch {
      return undefined;
    }
  };

  async function templateFor(name: string, workspace: Workspace): AsyncResult<PromptTemplate, ConveyorError> {
    const repoFile = `${repoPromptsDir}/${name}.md`;
    const fromRepo = await options.workspaces.readBaseFile(workspace, repoFile);
    if (!fromRepo.ok) return err(fromRepo.error);
    if (fromRepo.value !== undefined) return parsePromptTemplate(fromRepo.value, `repo:${repoFile}`);
    if (options.hostPromptsDir !== undefined) {
      const hostFile = path.join(options.hostPromptsDir, `${name}.md`);
      if (fs.existsSync(hostFile)) return parsePromptTemplate(fs.readFileSync(hostFile, 'utf8'), hostFile);
    }
    const builtIn = BUILT_IN_PROMPTS[name];
    if (builtIn === undefined)
      return err(
        agentsError(
          'invalid_config',
          `no prompt template "${name}": add ${repoFile} to the repository or ${name}.md to the host's prompts`,
        ),
      );
    return parsePromptTemplate(builtIn, `built-in:${name}`);
  }

  function record(outcome: AgentJobOutcome): void {
    outcomes.set(outcome.jobId, outcome);
    try {
      fs.writeFileSync(
        path.join(transcriptDir, `${encodeURIComponent(outcome.jobId)}.outcome.json`),
        `${JSON.stringify(outcome, null, 2)}\n`,
      );
    } catch (thrown) {
      options.logger?.warn('cannot write the outcome of an agent job', {
        jobId: outcome.jobId,
        error: (thrown as Error).message,
      });
    }
    try {
      options.onOutcome?.(outcome);
    } catch {
      /* observers never break a job */
    }
  }

  return Object.freeze({
    outcome: (jobId: string) => outcomes.get(jobId),
    plan: (taskId: string) => readPlan(taskId),

    async launch(spec: LaunchSpec): AsyncResult<LaunchedProcess, ConveyorError> {
      const job = await options.store.getJob(spec.jobId);
      if (!job.ok) return err(job.error);
      if (job.value === undefined) return err(agentsError('not_found', `job ${spec.jobId} does not exist`));
      const task = await options.store.getTask(job.value.taskId);
      if (!task.ok) return err(task.error);
      if (task.value === undefined)
        return err(agentsError('not_found', `task ${job.value.taskId} of job ${spec.jobId} does not exist`));
      const theJob = job.value;
      const theTask = task.value;
      const runner = options.runnerFor(theJob, theTask);
      if (runner === undefined)
        return err(
          agentsError('invalid_config', `no agent runner for agent "${theJob.agent}" (stage ${theJob.stage})`),
        );

      const workspace = await options.workspaces.prepare(theTask);
      if (!workspace.ok) return err(workspace.error);
      const findings = theJob.input.findings ?? '';
      const name = promptNameFor(theJob.stage, findings);
      const template = await templateFor(name, workspace.value);
      if (!template.ok) return err(template.error);
      const redact = createRedactor({
        values: [
          ...runner.secrets,
          ...(options.secrets ?? []),
          ...secretEnvValues(process.env, secretEnv),
          ...secretEnvValues(spec.env ?? {}, secretEnv),
        ],
        ...(options.detectSecrets ? { detect: options.detectSecrets } : {}),
      });
      const attempt = theJob.stage === 'development' ? theTask.snapshot.developerRetries + 1 : theJob.attempt;
      const prompt = renderPrompt(template.value, {
        task: {
          id: theTask.id,
          title: theTask.title,
          description: theTask.description,
          branch: theTask.branch,
          repo: theTask.repo,
          project: theTask.project,
        },
        issue: { id: theTask.issueId, title: theTask.title, description: theJob.input.description },
        stage: theJob.stage,
        attempt,
        findings: redact(findings),
        plan: readPlan(theTask.id) ?? '',
        deployCommand: options.deployCommand ?? '',
      });
      if (!prompt.ok) return err(prompt.error);

      const stateDir = path.join(stateRoot, 'jobs', encodeURIComponent(theJob.id));
      const transcriptFile = path.join(transcriptDir, `${encodeURIComponent(theJob.id)}.jsonl`);
      try {
        fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
        fs.mkdirSync(transcriptDir, { recursive: true });
        // The prompt as the agent got it, next to its transcript (`<jobId>.prompt.md`).
        fs.writeFileSync(path.join(transcriptDir, `${encodeURIComponent(theJob.id)}.prompt.md`), redact(prompt.value), {
          mode: 0o600,
        });
      } catch (thrown) {
        return err(agentsError('internal', `cannot create ${stateDir}: ${(thrown as Error).message}`));
      }
      const started = runner.start({
        jobId: theJob.id,
        prompt: prompt.value,
        cwd: workspace.value.dir,
        transcriptFile,
        stateDir,
        redact,
        ...(template.value.system === undefined ? {} : { systemPrompt: template.value.system }),
        ...(template.value.tools === undefined ? {} : { allowedTools: template.value.tools }),
        ...(template.value.model === undefined ? {} : { model: template.value.model }),
        budget: {
          ...(template.value.budget ?? {}),
          ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
        },
        ...(spec.env === undefined ? {} : { env: spec.env }),
      });
      if (!('pid' in started))
        return err(
          agentsError(started.reason === 'not_installed' ? 'invalid_config' : 'process_failed', started.message),
        );

      const finish = async (run: AgentRunOutcome): Promise<AgentJobOutcome> => {
        const base = {
          ...run,
          jobId: theJob.id,
          taskId: theTask.id,
          stage: theJob.stage,
          promptSource: template.value.source,
        };
        if (run.status !== 'succeeded') {
          // A failed job's half-done edits never leak into the next job of the task.
          const discarded = await options.workspaces.discardChanges(theTask, workspace.value);
          if (!discarded.ok)
            options.logger?.warn("cannot discard a failed job's changes", {
              taskId: theTask.id,
              error: discarded.error.message,
            });
          return base;
        }
        if (theJob.stage === planStage) {
          const plan = run.summary.trim();
          try {
            fs.mkdirSync(path.dirname(planFile(theTask.id)), { recursive: true });
            fs.writeFileSync(planFile(theTask.id), `${plan}\n`);
          } catch (thrown) {
            return { ...base, status: 'failed', reason: `cannot keep the plan: ${(thrown as Error).message}` };
          }
          if (options.tracker && plan !== '') {
            const posted = await options.tracker.comment(
              theTask.issueId,
              `<p><strong>Plan</strong> (task ${escapeHtml(theTask.id)})</p><pre>${escapeHtml(plan)}</pre>`,
            );
            if (!posted.ok)
              options.logger?.warn('cannot post the plan to the tracker', {
                taskId: theTask.id,
                error: posted.error.message,
              });
          }
        }
        if (commitStages.has(theJob.stage)) {
          const message =
            `${theTask.issueId}: ${theTask.title}\n\nConveyor task ${theTask.id}, ${theJob.stage} attempt ${attempt} (job ${theJob.id}).\n\n${run.summary}`.trim();
          const pushed = await options.workspaces.commitAndPush(theTask, workspace.value, redact(message));
          if (!pushed.ok)
            return { ...base, status: 'failed', reason: redact(`cannot commit and push: ${pushed.error.message}`) };
          if (requireChange.has(theJob.stage) && !pushed.value.changed)
            return {
              ...base,
              status: 'failed',
              push: pushed.value,
              reason: `the ${theJob.stage} job changed nothing on ${theTask.branch}: the agent ended without editing any file (its last message: ${run.summary.slice(0, 300) || 'none'})`,
            };
          const budget = await options.workspaces.checkDiskBudget();
          if (!budget.ok) return { ...base, status: 'failed', push: pushed.value, reason: budget.error.message };
          return { ...base, push: pushed.value };
        }
        const discarded = await options.workspaces.discardChanges(theTask, workspace.value);
        if (!discarded.ok) return { ...base, status: 'failed', reason: redact(discarded.error.message) };
        return base;
      };

      const exited: Promise<ProcessExit> = started.done
        .then(finish)
        .catch(
          (thrown: unknown): AgentJobOutcome => ({
            jobId: theJob.id,
            taskId: theTask.id,
            stage: theJob.stage,
            status: 'failed',
            summary: '',
            reason: redact(`the agent run failed: ${(thrown as Error).message}`),
            usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
            costUsd: 0,
            turns: 0,
            exitCode: null,
            signal: null,
            malformedLines: 0,
            durationMs: 0,
            transcriptFile,
            promptSource: template.value.source,
          }),
        )
        .then((outcome) => {
          record(outcome);
          const reason =
            outcome.status === 'succeeded'
              ? outcome.summary.slice(0, 500)
              : `${outcome.status}: ${outcome.reason ?? outcome.summary}`;
          return {
            exitCode: EXIT_CODES[outcome.status],
            signal: outcome.status === 'killed' ? (outcome.signal ?? 'SIGTERM') : null,
            timedOut: outcome.status === 'killed' && /timed out/.test(outcome.reason ?? ''),
            reason,
          };
        });
      return ok({
        pid: started.pid,
        exited,
        kill: () => started.stop('stopped by the worker'),
      });
    },
  } satisfies AgentLauncher);
}

/** Options of {@link attachWorkspaceCleanup}. */
export interface WorkspaceCleanupOptions {
  readonly events: {
    on(name: 'transition', fn: (payload: { taskId: string; to: { status: string } }) => unknown): () => void;
  };
  readonly store: Pick<Store, 'getTask'>;
  readonly workspaces: Workspaces;
  /** delete the task branch on the remote once the task is done (merged) — the `deleteBranchAfterMerge` setting */
  readonly deleteBranchAfterMerge?: boolean;
  readonly logger?: Logger;
}

/**
 * Removes a task's workspace when the task reaches `done`, `failed` or
 * `rejected`, and (a setting) deletes its branch on the remote after the merge.
 * Returns the function that detaches it.
 *
 * @example
 * ```ts
 * const detach = attachWorkspaceCleanup({ events, store, workspaces, deleteBranchAfterMerge: true });
 * ```
 */
export function attachWorkspaceCleanup(options: WorkspaceCleanupOptions): () => void {
  return options.events.on('transition', async ({ taskId, to }) => {
    if (to.status !== 'done' && to.status !== 'failed' && to.status !== 'rejected') return;
    const task = await options.store.getTask(taskId);
    if (!task.ok || task.value === undefined) return;
    const removed = await options.workspaces.remove(task.value, {
      deleteRemoteBranch: to.status === 'done' && options.deleteBranchAfterMerge === true,
    });
    if (!removed.ok) options.logger?.warn('cannot remove a workspace', { taskId, error: removed.error.message });
  });
}
