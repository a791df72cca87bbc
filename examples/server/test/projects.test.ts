import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok, type Page, silentLogger, type Tracker, type TrackerIssue } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../src/host.js';
import { createProjectsTracker, gateScope, parseProjectsFile } from '../src/projects.js';
import { loadServerSettings } from '../src/settings.js';
import { sendIssueCreated, startTwoProjectFakes, type TwoProjectFakes } from './two-project-fakes.js';

const TWO_PROJECTS = `
projects:
  - name: web
    planeProjectId: proj-a
    repo: acme/web
    agents: { analyst: "echo web > \\"$OUT/web-$CONVEYOR_TASK_ID\\"", developer: "true", deployer: "true" }
  - name: api
    planeProjectId: proj-b
    repo: acme/api
    agents: { analyst: "echo api > \\"$OUT/api-$CONVEYOR_TASK_ID\\"", developer: "true", deployer: "true" }
    gates:
      merge: { enabled: false }
      security: { repos: [acme/api-docs] }
    limits: { agentTimeoutSeconds: 60 }
`;

describe('the project file', () => {
  it('parses projects with their defaults', () => {
    const parsed = parseProjectsFile(TWO_PROJECTS, 'projects.yaml');
    if (!parsed.ok) throw parsed.error;
    expect(parsed.value.map((p) => `${p.name}:${p.repo}`)).toEqual(['web:acme/web', 'api:acme/api']);
    expect(parsed.value[1]?.gates.merge?.enabled).toBe(false);
    expect(parsed.value[0]?.limits).toEqual({});
  });

  it('lists every problem, each naming the file, the project and the field', () => {
    const parsed = parseProjectsFile(
      `
projects:
  - name: web
    planeProjectId: proj-a
    repo: acme/web
    agents: { analyst: a, deployer: c }
    gates: { merge: { enabled: "yes" }, deploy: {} }
  - planeProjectId: proj-b
    repo: not-a-repo
    agents: { analyst: a, developer: b, deployer: c }
  - name: again
    planeProjectId: proj-a
    repo: ACME/web
    agents: { analyst: a, developer: b, deployer: c }
    limits: { agentTimeoutSeconds: 0 }
`,
      'projects.yaml',
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const message = parsed.error.message;
    expect(message.split('\n')[0]).toBe('projects.yaml:');
    expect(message).toMatch(/project "web": agents\.developer: /);
    expect(message).toMatch(/project "web": gates\.merge\.enabled: .*boolean/);
    expect(message).toMatch(/project "web": gates: .*deploy/);
    expect(message).toMatch(/project #2: name: /);
    expect(message).toMatch(/project #2: repo: expected owner\/name/);
    expect(message).toMatch(/project "again": limits\.agentTimeoutSeconds: /);
    expect(parseProjectsFile('projects: []', 'p.yaml').ok).toBe(false);
    const dup = parseProjectsFile(
      `projects:
  - { name: web, planeProjectId: p1, repo: acme/web, agents: { analyst: a, developer: b, deployer: c } }
  - { name: web2, planeProjectId: p1, repo: acme/Web, agents: { analyst: a, developer: b, deployer: c } }
`,
      'p.yaml',
    );
    expect(!dup.ok && dup.error.message).toContain('project "web2": planeProjectId: the same as project "web"');
    expect(!dup.ok && dup.error.message).toContain('project "web2": repo: the same as project "web"');
    const notYaml = parseProjectsFile('projects: [ {', 'bad.yaml');
    expect(!notYaml.ok && notYaml.error.message).toMatch(/^bad\.yaml:\n {2}- not YAML/);
  });

  it('a gate runs for the repositories of the projects that leave it on, and is off when none does', () => {
    const parsed = parseProjectsFile(TWO_PROJECTS, 'projects.yaml');
    if (!parsed.ok) throw parsed.error;
    expect(gateScope(parsed.value, 'merge')).toEqual(['acme/web']);
    expect(gateScope(parsed.value, 'security')).toEqual(['acme/web', 'acme/api', 'acme/api-docs']);
    expect(gateScope(parsed.value.slice(1), 'merge')).toBeUndefined();
  });
});

describe('one tracker over every project', () => {
  const fake = (project: string, issues: readonly TrackerIssue[]): Tracker & { moved: string[] } => {
    const moved: string[] = [];
    return {
      moved,
      getIssue: async (id) => {
        const found = issues.find((i) => i.id === id);
        return found ? ok(found) : ({ ok: false, error: new Error('nope') } as never);
      },
      setState: async (id, state) => {
        moved.push(`${project}:${id}:${state}`);
        return ok();
      },
      comment: async () => ok(),
      listIssuesByState: async (state, page = {}): Promise<ReturnType<typeof ok<Page<TrackerIssue>>>> => {
        const all = issues.filter((i) => i.state === state);
        const start = Number(page.cursor ?? 0);
        const items = all.slice(start, start + 1);
        return ok(start + 1 < all.length ? { items, nextCursor: String(start + 1) } : { items });
      },
    };
  };
  const issue = (id: string, project: string): TrackerIssue => ({
    id,
    project,
    title: id,
    description: '',
    state: 'Todo',
  });

  it('lists every project in turn (following each one’s cursor) and moves an issue in its own project', async () => {
    const a = fake('a', [issue('a1', 'a'), issue('a2', 'a')]);
    const b = fake('b', [issue('b1', 'b')]);
    const tracker = createProjectsTracker(
      new Map<string, Tracker>([
        ['a', a],
        ['b', b],
      ]),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tracker.listIssuesByState('Todo', cursor === undefined ? {} : { cursor });
      if (!page.ok) throw page.error;
      seen.push(...page.value.items.map((i) => i.id));
      cursor = page.value.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(['a1', 'a2', 'b1']);
    await tracker.setState('b1', 'Done');
    await tracker.setState('a2', 'Done');
    expect([...a.moved, ...b.moved]).toEqual(['a:a2:Done', 'b:b1:Done']);
    // an issue never listed is found by asking each project
    const fresh = createProjectsTracker(
      new Map<string, Tracker>([
        ['a', a],
        ['b', b],
      ]),
    );
    expect((await fresh.setState('b1', 'Todo')).ok).toBe(true);
    expect(b.moved.at(-1)).toBe('b:b1:Todo');
    expect((await fresh.setState('zz', 'Todo')).ok).toBe(false);
  });

  it('a project whose listing fails is reported and skipped; the projects after it are still listed', async () => {
    const down: Tracker = {
      ...fake('down', []),
      listIssuesByState: async () => ({ ok: false, error: new Error('502') }) as never,
    };
    const failures: string[] = [];
    const tracker = createProjectsTracker(
      new Map<string, Tracker>([
        ['down', down],
        ['b', fake('b', [issue('b1', 'b')])],
      ]),
      (project) => failures.push(project),
    );
    const first = await tracker.listIssuesByState('Todo');
    if (!first.ok) throw first.error;
    expect(first.value.items).toEqual([]);
    const second = await tracker.listIssuesByState('Todo', { cursor: first.value.nextCursor ?? '' });
    expect(second.ok && second.value.items.map((i) => i.id)).toEqual(['b1']);
    expect(failures).toEqual(['down']);
  });
});

describe('a host serving two projects from one database', { timeout: 60_000 }, () => {
  let fakes: TwoProjectFakes;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'conveyor-projects-'));
    fakes = await startTwoProjectFakes();
  });
  afterAll(async () => {
    await fakes.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('routes each webhook to its project: repository and agents per project; another project is ignored', async () => {
    const { plane, gitea, telegram } = fakes;
    const file = join(root, 'projects.yaml');
    writeFileSync(file, TWO_PROJECTS);
    const settings = loadServerSettings({
      ORCH_PORT: '0',
      ORCH_DATA_DIR: join(root, 'data'),
      ORCH_PROJECTS_FILE: file,
      ORCH_PLANE_BASE_URL: plane.url,
      ORCH_PLANE_API_KEY: 'plane-key',
      ORCH_PLANE_WORKSPACE_SLUG: 'acme',
      ORCH_PLANE_WEBHOOK_SECRET: 'plane-secret',
      ORCH_GITEA_BASE_URL: gitea.url,
      ORCH_GITEA_TOKEN: 'gitea-token',
      ORCH_GITEA_WEBHOOK_SECRET: 'gitea-secret',
      ORCH_TELEGRAM_BOT_TOKEN: '1:tg',
      ORCH_TELEGRAM_CHAT_ID: '-1',
      ORCH_TELEGRAM_BASE_URL: telegram.url,
      ORCH_MERGE_RETEST_COMMAND: 'true',
      ORCH_WORKER_INTERVAL_MS: '100',
      ORCH_RECONCILER_TRACKER_POLLING_ENABLED: 'false',
    });
    if (!settings.ok) throw settings.error;
    expect(settings.value.warnings.join()).not.toContain('ORCH_HOST_REPO');
    const host = createHost(settings.value, { logger: silentLogger, agentEnv: { OUT: root } });
    await host.start();
    try {
      const send = (issueId: string, project: string) => sendIssueCreated(plane, host.url(), issueId, project);
      const web = plane.addIssue({ name: 'web work', state: 'Todo' });
      const api = plane.addIssue({ name: 'api work', state: 'Todo' });
      const other = plane.addIssue({ name: 'not ours', state: 'Todo' });
      expect((await send(web.id, 'proj-a')).outcome?.action).toBe('created');
      expect((await send(api.id, 'proj-b')).outcome?.action).toBe('created');
      const ignored = await send(other.id, 'proj-z');
      expect(ignored.outcome).toEqual({
        action: 'ignored',
        reason: 'Plane project proj-z is not one this host serves',
      });

      const tasks = (await host.store.listTasks({})).unwrapOr([]);
      expect(tasks.map((t) => `${t.project}:${t.repo}`).sort()).toEqual(['proj-a:acme/web', 'proj-b:acme/api']);
      // each project's analyst ran for its own task
      const deadline = Date.now() + 20_000;
      let outputs: string[] = [];
      while (Date.now() < deadline) {
        outputs = readdirSync(root).filter((f) => /^(web|api)-/.test(f));
        if (outputs.length >= 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const byTask = Object.fromEntries(tasks.map((t) => [t.repo, t.id]));
      expect(readFileSync(join(root, `web-${byTask['acme/web']}`), 'utf8').trim()).toBe('web');
      expect(readFileSync(join(root, `api-${byTask['acme/api']}`), 'utf8').trim()).toBe('api');
    } finally {
      await host.stop('test over');
    }
  });

  it('a bad project file stops the host with the project and field named', () => {
    const file = join(root, 'bad.yaml');
    writeFileSync(file, 'projects:\n  - { name: web, planeProjectId: p, repo: acme/web, agents: { analyst: a } }\n');
    const settings = loadServerSettings({ ORCH_PROJECTS_FILE: file });
    expect(!settings.ok && settings.error.message).toContain(`ORCH_PROJECTS_FILE (projectsFile): ${file}:`);
    expect(!settings.ok && settings.error.message).toContain('project "web": agents.developer');
    // with a project file, ORCH_PLANE_PROJECT_ID and the agent commands are not required
    expect(!settings.ok && settings.error.message).not.toContain('ORCH_PLANE_PROJECT_ID');
  });
});
