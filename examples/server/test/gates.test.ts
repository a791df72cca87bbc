import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGateRegistry, type EdgeVerdict, silentLogger, type Task } from '@conveyor/core';
import { createSqliteStore, type SqliteStore } from '@conveyor/store-sqlite';
import { createLocalGitForge, type LocalGitForge } from '@conveyor/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_EDGE, DELIVERY_GATES, registerHostGates, stagingChecksFile } from '../src/gates.js';
import { loadServerSettings } from '../src/settings.js';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@conveyor.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@conveyor.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};
const REPO = 'acme/web';

let root: string;
let origin: string;
let work: string;
let store: SqliteStore;
let forge: LocalGitForge;
let taskNo = 0;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
  }).trim();

/** A task branch with one new file, pushed; its head sha. */
function pushBranch(branch: string): string {
  git(work, 'fetch', '--quiet', 'origin');
  git(work, 'checkout', '--quiet', '-B', branch, 'origin/main');
  writeFileSync(join(work, `${branch.replace(/\W/g, '-')}.txt`), `${branch}\n`);
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', `work on ${branch}`);
  git(work, 'push', '--quiet', '--force', 'origin', `${branch}:${branch}`);
  return git(work, 'rev-parse', 'HEAD');
}

function taskOn(branch: string, repo = REPO): Task {
  taskNo += 1;
  return {
    id: `t${taskNo}`,
    project: 'proj',
    issueId: `i${taskNo}`,
    repo,
    branch,
    title: branch,
    description: '',
    snapshot: { stage: 'deploy-staging', status: 'gating', step: 3, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

/** The host's gates from `ORCH_*` settings, as `createHost` registers them. */
function hostGates(env: Record<string, string> = {}) {
  const settings = loadServerSettings({
    ORCH_DATA_DIR: join(root, 'data'),
    ORCH_HOST_REPO: REPO,
    ORCH_PLANE_BASE_URL: 'http://127.0.0.1:9',
    ORCH_PLANE_API_KEY: 'k',
    ORCH_PLANE_WORKSPACE_SLUG: 'acme',
    ORCH_PLANE_PROJECT_ID: 'p',
    ORCH_PLANE_WEBHOOK_SECRET: 's',
    ORCH_GITEA_BASE_URL: 'http://127.0.0.1:9',
    ORCH_GITEA_TOKEN: 't',
    ORCH_GITEA_WEBHOOK_SECRET: 's',
    ORCH_TELEGRAM_BOT_TOKEN: '1:t',
    ORCH_TELEGRAM_CHAT_ID: '1',
    ORCH_AGENT_ANALYST_COMMAND: 'true',
    ORCH_AGENT_DEVELOPER_COMMAND: 'true',
    ORCH_AGENT_DEPLOYER_COMMAND: 'true',
    ORCH_MERGE_RETEST_COMMAND: 'true',
    ORCH_STAGING_INFRA_ALLOWLIST: 'sandbox-dns',
    ORCH_SECURITY_DEP_AUDIT_ENABLED: 'false',
    ...env,
  });
  if (!settings.ok) throw settings.error;
  const { host, core, security, merge, staging } = settings.value;
  const registry = createGateRegistry({ hostRepo: core.hostRepo, allowForeignScope: core.allowForeignGateScopes });
  const registered = registerHostGates({
    registry,
    store,
    forge,
    core,
    security,
    merge,
    staging,
    dataDir: host.dataDir,
    remoteUrl: () => origin,
    freshnessStatusContext: host.freshnessStatusContext,
    freshnessDeferMs: host.freshnessDeferMs,
    gitEnv: GIT_ENV,
  });
  if (!registered.ok) throw registered.error;
  return registry;
}

const decide = (registry: ReturnType<typeof hostGates>, task: Task): Promise<EdgeVerdict> =>
  registry.runEdge(DELIVERY_EDGE, {
    task,
    logger: silentLogger,
    now: () => Date.now(),
    readOnly: false,
    reportDir: join(root, 'reports'),
  });

const statuses = async (sha: string, list: Record<string, 'success' | 'failure' | 'pending' | 'error'>) => {
  for (const [context, state] of Object.entries(list)) {
    const set = await forge.setCommitStatus(REPO, sha, { context, state, description: `${context} ${state}` });
    if (!set.ok) throw set.error;
  }
};
/** What the deploy-staging job of `task` reports (`$CONVEYOR_STAGING_CHECKS`). */
const report = (task: Task, checks: unknown) => {
  const path = stagingChecksFile(join(root, 'data'), task.id);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof checks === 'string' ? checks : JSON.stringify(checks));
  return task;
};
const BUILT = { 'image/build': 'success' } as const;
const green = (task: Task) => report(task, [{ id: 'e2e', state: 'success' }]);
const gatesOf = (v: EdgeVerdict) => v.verdicts.map((g) => `${g.gateId}:${g.status}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'conveyor-host-gates-'));
  origin = join(root, 'origin.git');
  work = join(root, 'work');
  mkdirSync(origin);
  git(origin, 'init', '--quiet', '--bare', '--initial-branch=main');
  git(root, 'clone', '--quiet', origin, work);
  git(work, 'checkout', '--quiet', '-b', 'main');
  writeFileSync(join(work, 'README.md'), '# web\n');
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(work, 'push', '--quiet', 'origin', 'main');
  const opened = createSqliteStore({ path: join(root, 'conveyor.db') });
  if (!opened.ok) throw opened.error;
  store = opened.value;
  forge = createLocalGitForge({ bareRepo: origin, env: GIT_ENV });
});

afterAll(async () => {
  await store?.close();
  rmSync(root, { recursive: true, force: true });
});

// real git on a shared machine: generous timeouts, no timing assertions
describe('the example host’s gates on deploy-staging -> deploy', { timeout: 120_000 }, () => {
  it('registers security, staging, merge and freshness in that order', () => {
    expect(hostGates().snapshot()[DELIVERY_EDGE]).toEqual(['security', 'staging', 'merge', 'freshness']);
    expect(DELIVERY_GATES.map((g) => g.id)).toEqual(['security', 'staging', 'merge', 'freshness']);
  });

  it('runs all four in order and passes a clean branch whose staging is green and image built; main gets it', async () => {
    const head = pushBranch('task/clean');
    await statuses(head, BUILT);
    const verdict = await decide(hostGates(), green(taskOn('task/clean')));
    expect(gatesOf(verdict)).toEqual(['security:pass', 'staging:pass', 'merge:pass', 'freshness:pass']);
    expect(verdict.summary).toBe(`4 of 4 gates passed on ${DELIVERY_EDGE}`);
    expect(git(origin, 'ls-tree', '--name-only', 'main')).toContain('task-clean.txt');
  });

  it('staging: a real failure fails even beside an allowlisted sandbox failure; the sandbox failure alone is waived', async () => {
    const head = pushBranch('task/staging');
    await statuses(head, BUILT);
    const task = taskOn('task/staging');
    const dns = { id: 'sandbox-dns', state: 'failure', detail: 'getaddrinfo EAI_AGAIN db.staging' };
    report(task, [{ id: 'e2e', state: 'failure', detail: 'checkout total off by one' }, dns]);
    const red = await decide(hostGates(), task);
    expect(red).toMatchObject({ status: 'fail', decidedBy: 'staging' });
    expect(red.findingsText).toContain('e2e');
    expect(gatesOf(red)).toEqual(['security:pass', 'staging:fail']);

    report(task, [{ id: 'e2e', state: 'success' }, dns]);
    const waived = await decide(hostGates(), task);
    const staging = waived.verdicts.find((v) => v.gateId === 'staging');
    expect(staging?.status).toBe('pass');
    expect(staging?.warnings.join()).toContain('sandbox-dns');
    expect(waived.status).toBe('pass');

    // the allowlist is the host's: a check that is not on it is never waived
    report(task, [
      { id: 'e2e', state: 'success' },
      { id: 'smoke', state: 'failure', category: 'sandbox-infra' },
    ]);
    expect(await decide(hostGates(), task)).toMatchObject({ status: 'fail', decidedBy: 'staging' });
    // the kill switch of the waiver: strict waives nothing
    report(task, [{ id: 'e2e', state: 'success' }, dns]);
    expect(await decide(hostGates({ ORCH_STAGING_STRICT: 'true' }), task)).toMatchObject({
      status: 'fail',
      decidedBy: 'staging',
    });
  });

  it('staging: no report, an empty one or a malformed one fails and names the file', async () => {
    const head = pushBranch('task/unchecked');
    await statuses(head, BUILT);
    const task = taskOn('task/unchecked');
    const none = await decide(hostGates(), task);
    expect(none).toMatchObject({ status: 'fail', decidedBy: 'staging' });
    const reportOf = () => readFileSync(join(root, 'reports', task.id, 'staging.md'), 'utf8');
    expect(none.findingsText).toContain('staging/read-checks');
    expect(reportOf()).toContain('reported no checks');
    expect((await decide(hostGates(), report(task, []))).summary).toMatch(/no checks reported/);
    const bad = await decide(hostGates(), report(task, [{ id: 'e2e' }]));
    expect(bad).toMatchObject({ status: 'fail', decidedBy: 'staging' });
    expect(reportOf()).toContain('0.state');
    expect((await decide(hostGates(), report(task, '{not json'))).status).toBe('fail');
    expect(reportOf()).toContain('is not JSON');
  });

  it('freshness: defers while the image of the head builds (pending or not started), fails when the build failed', async () => {
    const head = pushBranch('task/image');
    const task = green(taskOn('task/image'));
    const notStarted = await decide(hostGates({ ORCH_FRESHNESS_DEFER_MS: '1234' }), task);
    expect(notStarted).toMatchObject({ status: 'defer', decidedBy: 'freshness', deferMs: 1234 });
    await statuses(head, { 'image/build': 'pending' });
    expect(await decide(hostGates(), task)).toMatchObject({ status: 'defer', decidedBy: 'freshness' });
    await statuses(head, { 'image/build': 'failure' });
    const failed = await decide(hostGates(), task);
    expect(failed).toMatchObject({ status: 'fail', decidedBy: 'freshness' });
    expect(failed.summary).toMatch(/rebuild needed/);
    await statuses(head, BUILT);
    expect((await decide(hostGates(), task)).status).toBe('pass');
  });

  it('security: a leaked token fails first, before any other gate runs', async () => {
    pushBranch('task/leak');
    const token = ['ghp', '_', 'Q7x2Lq9Vt4Zk7Wm1Np3Hs6Jd0Fc5Gb8Ya2Uf'].join(''); // gitleaks:allow (a test's fake leak)
    writeFileSync(join(work, 'notify.js'), `export const TOKEN = '${token}';\n`);
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', 'leak');
    git(work, 'push', '--quiet', '--force', 'origin', 'task/leak:task/leak');
    await statuses(git(work, 'rev-parse', 'HEAD'), BUILT);
    const verdict = await decide(hostGates(), green(taskOn('task/leak')));
    expect(gatesOf(verdict)).toEqual(['security:fail']);
    expect(JSON.stringify(verdict)).not.toContain(token);
  });

  for (const { id } of DELIVERY_GATES) {
    const envName = `ORCH_${id.toUpperCase()}_GATE`;
    it(`${envName}_ENABLED=false skips ${id} and the edge summary says so`, async () => {
      const branch = `task/off-${id}`;
      const head = pushBranch(branch);
      await statuses(head, BUILT);
      const verdict = await decide(hostGates({ [`${envName}_ENABLED`]: 'false' }), green(taskOn(branch)));
      expect(verdict.verdicts.map((v) => v.gateId)).not.toContain(id);
      expect(verdict.status).toBe('pass');
      expect(verdict.summary).toContain(`skipped: ${id} (switched off)`);
    });

    it(`${envName}_REPOS without the task's repository skips ${id} with the reason`, async () => {
      const branch = `task/scope-${id}`;
      const head = pushBranch(branch);
      await statuses(head, BUILT);
      // a scope without the host's repository is refused at startup unless the host says so explicitly
      expect(() => hostGates({ [`${envName}_REPOS`]: 'acme/other' })).toThrow(/does not contain the host's repository/);
      const verdict = await decide(
        hostGates({ [`${envName}_REPOS`]: 'acme/other', ORCH_ALLOW_FOREIGN_GATE_SCOPES: 'true' }),
        green(taskOn(branch)),
      );
      expect(verdict.verdicts.map((v) => v.gateId)).not.toContain(id);
      expect(verdict.summary).toContain(`skipped: ${id} (acme/web is not in its scope: acme/other)`);
    });
  }
});
