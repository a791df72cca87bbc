import { readFileSync } from 'node:fs';
import {
  ConveyorError,
  err,
  ok,
  type Page,
  type PageRequest,
  type Result,
  type Tracker,
  type TrackerIssue,
} from '@conveyor/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const PKG = '@conveyor/example-server';

const repoName = z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name');

const gateSwitch = z
  .object({
    /** the project's kill-switch of this gate (the host's `ORCH_<GATE>_GATE_ENABLED` must be on too) */
    enabled: z.boolean().default(true),
    /** more repositories the gate runs for on behalf of this project (its own repository always) */
    repos: z.array(repoName).default([]),
  })
  .strict();

/** One project of a multi-project host, as written in the project file. */
export const projectSchema = z
  .object({
    /** a short name: logs, errors and the task cards use it */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lowercase letters, digits, - and _'),
    /** the Plane project uuid whose issues become this project's tasks */
    planeProjectId: z.string().min(1),
    /** the Plane project identifier (e.g. WEB), for branch names such as task/WEB-12 */
    planeProjectIdentifier: z.string().min(1).optional(),
    /** the repository the project's tasks change */
    repo: repoName,
    /** the shell command of each agent */
    agents: z
      .object({ analyst: z.string().min(1), developer: z.string().min(1), deployer: z.string().min(1) })
      .strict(),
    /** each gate's switch and scope for this project (default: on, for the project's repository) */
    gates: z
      .object({ security: gateSwitch, staging: gateSwitch, merge: gateSwitch, freshness: gateSwitch })
      .partial()
      .strict()
      .default({}),
    limits: z
      .object({
        /** an agent of this project running longer is killed */
        agentTimeoutSeconds: z.number().int().min(1).optional(),
        /** running jobs of this project at most (the host's ORCH_DEFAULT_PROJECT_LIMIT otherwise); 0 pauses it */
        maxRunningJobs: z.number().int().min(0).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

/** One project, parsed. */
export type ProjectConfig = z.output<typeof projectSchema>;

/** The gates a project can switch. */
export type ProjectGateId = keyof ProjectConfig['gates'] & string;

const fileSchema = z.object({ projects: z.array(z.unknown()).min(1) }).strict();

function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length === 0 ? '(top)' : i.path.map(String).join('.')}: ${i.message}`);
}

/**
 * Parses a project file's text (YAML): `projects:` a list of
 * {@link projectSchema}. Every problem is listed in one `invalid_config`
 * error, each naming the file, the project (by name, else by position) and
 * the field; two projects may not share a name, a Plane project or a repository.
 *
 * @example
 * ```ts
 * const projects = parseProjectsFile(readFileSync('projects.yaml', 'utf8'), 'projects.yaml');
 * if (!projects.ok) { console.error(projects.error.message); process.exit(2); }
 * ```
 */
export function parseProjectsFile(text: string, file: string): Result<readonly ProjectConfig[], ConveyorError> {
  const fail = (problems: readonly string[]) =>
    err(
      new ConveyorError(PKG, 'invalid_config', `${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
        details: { file, problems },
      }),
    );
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (thrown) {
    // yaml's message names the line and column, never the value
    return fail([`not YAML: ${thrown instanceof Error ? thrown.message.split('\n')[0] : 'unreadable'}`]);
  }
  const top = fileSchema.safeParse(data);
  if (!top.success) return fail(describeIssues(top.error.issues));
  const problems: string[] = [];
  const projects: ProjectConfig[] = [];
  top.data.projects.forEach((raw, index) => {
    const named = (raw as { name?: unknown } | null)?.name;
    const who = typeof named === 'string' && named !== '' ? `project "${named}"` : `project #${index + 1}`;
    const parsed = projectSchema.safeParse(raw);
    if (!parsed.success) {
      for (const line of describeIssues(parsed.error.issues)) problems.push(`${who}: ${line}`);
      return;
    }
    projects.push(parsed.data);
  });
  for (const field of ['name', 'planeProjectId', 'repo'] as const) {
    const seen = new Map<string, string>();
    for (const p of projects) {
      const key = p[field].toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) problems.push(`project "${p.name}": ${field}: the same as project "${first}"`);
      else seen.set(key, p.name);
    }
  }
  return problems.length > 0 ? fail(problems) : ok(projects);
}

/**
 * Reads and parses a project file (see {@link parseProjectsFile}).
 *
 * @example
 * ```ts
 * const projects = loadProjectsFile(process.env.ORCH_PROJECTS_FILE ?? 'projects.yaml');
 * ```
 */
export function loadProjectsFile(path: string): Result<readonly ProjectConfig[], ConveyorError> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return err(new ConveyorError(PKG, 'invalid_config', `cannot read the project file ${path}`, { details: { path } }));
  }
  return parseProjectsFile(text, path);
}

/**
 * The repositories a gate runs for: the repositories (and extra `repos`) of
 * every project that leaves the gate on. `undefined` when no project does
 * (the host then switches the gate off: an empty scope would mean "every repository").
 *
 * @example
 * ```ts
 * gateScope(projects, 'merge'); // ['acme/web', 'acme/api']
 * ```
 */
export function gateScope(projects: readonly ProjectConfig[], gate: ProjectGateId): string[] | undefined {
  const repos = projects.flatMap((p) => {
    const own = p.gates[gate];
    return own?.enabled === false ? [] : [p.repo, ...(own?.repos ?? [])];
  });
  return repos.length === 0 ? undefined : [...new Set(repos)];
}

/**
 * One `Tracker` over the trackers of several projects: listing by state
 * walks every project in turn (the cursor says which one; a project whose
 * listing fails is reported to `onListError` and skipped), an issue is read,
 * moved and commented through its own project's tracker (remembered from the
 * listings and reads; else each is asked until one knows the issue).
 *
 * @example
 * ```ts
 * const tracker = createProjectsTracker(new Map([['proj-a', planeA], ['proj-b', planeB]]));
 * ```
 */
export function createProjectsTracker(
  byProject: ReadonlyMap<string, Tracker>,
  /** a project whose listing failed; the listing goes on with the next project */
  onListError?: (project: string, error: ConveyorError) => void,
): Tracker & {
  /** records which project an issue belongs to (the webhook handler calls it) */
  remember(issue: Pick<TrackerIssue, 'id' | 'project'>): void;
} {
  const projects = [...byProject.keys()];
  const projectOfIssue = new Map<string, string>();
  const remember = (issue: Pick<TrackerIssue, 'id' | 'project'>) => {
    if (byProject.has(issue.project)) projectOfIssue.set(issue.id, issue.project);
  };
  const trackerOf = async (issueId: string): Promise<Result<Tracker, ConveyorError>> => {
    const known = projectOfIssue.get(issueId);
    const tracker = known === undefined ? undefined : byProject.get(known);
    if (tracker) return ok(tracker);
    for (const [project, candidate] of byProject) {
      const found = await candidate.getIssue(issueId);
      if (found.ok) {
        projectOfIssue.set(issueId, project);
        return ok(candidate);
      }
    }
    return err(new ConveyorError(PKG, 'not_found', `no configured project has issue ${issueId}`));
  };
  return {
    remember,
    async getIssue(issueId) {
      const tracker = await trackerOf(issueId);
      return tracker.ok ? tracker.value.getIssue(issueId) : err(tracker.error);
    },
    async setState(issueId, state) {
      const tracker = await trackerOf(issueId);
      return tracker.ok ? tracker.value.setState(issueId, state) : err(tracker.error);
    },
    async comment(issueId, html) {
      const tracker = await trackerOf(issueId);
      return tracker.ok ? tracker.value.comment(issueId, html) : err(tracker.error);
    },
    async listIssuesByState(state: string, page: PageRequest = {}): Promise<Result<Page<TrackerIssue>, ConveyorError>> {
      // cursor: `<project index>:<that project's cursor>`
      const at = page.cursor === undefined ? 0 : Number(page.cursor.slice(0, page.cursor.indexOf(':')));
      const inner = page.cursor === undefined ? undefined : page.cursor.slice(page.cursor.indexOf(':') + 1);
      const project = projects[at];
      const tracker = project === undefined ? undefined : byProject.get(project);
      if (!Number.isInteger(at) || tracker === undefined) {
        return err(new ConveyorError(PKG, 'invalid_input', `bad cursor ${JSON.stringify(page.cursor)}`));
      }
      const listed = await tracker.listIssuesByState(state, {
        ...(page.perPage === undefined ? {} : { perPage: page.perPage }),
        ...(inner === undefined || inner === '' ? {} : { cursor: inner }),
      });
      if (!listed.ok) {
        // One project's outage must not stop the polling of the others.
        try {
          onListError?.(project as string, listed.error);
        } catch {
          /* a failing observer changes nothing */
        }
        if (at + 1 >= projects.length) return listed;
        return ok({ items: [], nextCursor: `${at + 1}:` });
      }
      for (const issue of listed.value.items) remember(issue);
      const next =
        listed.value.nextCursor !== undefined
          ? `${at}:${listed.value.nextCursor}`
          : at + 1 < projects.length
            ? `${at + 1}:`
            : undefined;
      return ok(next === undefined ? { items: listed.value.items } : { items: listed.value.items, nextCursor: next });
    },
  };
}
