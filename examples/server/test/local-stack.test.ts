import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger, type Task } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REPO, type LocalStack, startLocalStack } from '../src/dev/stack.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]) =>
  (await exec('git', args, { cwd, encoding: 'utf8' })).stdout.trim();
const LEAKED = ['ghp', '_', 'R8fV2kLq9ZtX4wB7nM3pC6yH1dJ5sG0aE2uQ'].join('');

let dir: string;
let stack: LocalStack;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-local-stack-'));
  stack = await startLocalStack({ dir, logger: silentLogger });
});

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function taskOf(issueId: string): Promise<Task | undefined> {
  const found = await stack.host.store.listTasks({ limit: 100 });
  return found.ok ? found.value.find((t) => t.issueId === issueId || t.issueId.endsWith(issueId)) : undefined;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 100_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the local stack over real HTTP', () => {
  it('an issue created in Plane becomes a task; agents push real commits; the gates roll back a leak and merge the fix onto main', async () => {
    const mainBefore = (await stack.gitea.branchHead(LOCAL_REPO, 'main')) ?? '';
    const issueId = await stack.createIssue('Add a login page', 'A login page. LEAK a token on the first try.');
    await until('the task', async () => (await taskOf(issueId)) !== undefined);
    const created = await taskOf(issueId);
    expect(created?.snapshot.stage).toBe('analysis');
    await until(
      'the analysis to wait for approval',
      async () => (await taskOf(issueId))?.snapshot.status === 'awaiting_approval',
    );
    await stack.setState(issueId, 'Approved');
    await until('the task to be done', async () => (await taskOf(issueId))?.snapshot.status === 'done', 150_000);

    const task = (await taskOf(issueId)) as Task;
    const history = await stack.host.store.listHistory(task.id);
    if (!history.ok) throw history.error;
    const decided = history.value.filter((h) => h.cause === 'gates.decided');
    // the first decision rolled the leak back to development, the last one passed
    const guarded = decided.filter((h) => h.fromStage === 'deploy-staging');
    expect(guarded.map((h) => h.toStage)).toEqual(['development', 'deploy']);
    expect(guarded[0]?.verdictSummary).toContain('secret');

    const bare = stack.gitea.barePath(LOCAL_REPO);
    const main = (await stack.gitea.branchHead(LOCAL_REPO, 'main')) ?? '';
    expect(main).not.toBe(mainBefore);
    expect(await git(bare, 'merge-base', '--is-ancestor', mainBefore, main).then(() => true)).toBe(true);
    const files = (await git(bare, 'ls-tree', '-r', '--name-only', main)).split('\n');
    expect(files).toContain(`features/${task.issueId}.md`);
    // the leaked commit never reached main's history
    expect(await git(bare, 'log', '--format=%H', main, '--', 'config/deploy.env')).toBe('');
    expect(await git(bare, 'log', '-p', main)).not.toContain(LEAKED);
    const pulls = stack.gitea.pullRequests(LOCAL_REPO);
    const merged = pulls.filter((p) => p.merged);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.mergeCount).toBe(1);
    expect(await git(bare, 'merge-base', '--is-ancestor', merged[0]?.headSha ?? 'x', main).then(() => true)).toBe(true);

    // the dashboard shows each decision from the record, with the security gate's verdicts
    const detail = (await (await fetch(`${stack.host.url()}/api/tasks/${task.id}`)).json()) as {
      decisions: { edge: string; headSha?: string; verdicts: { gateId: string; status: string }[] }[];
    };
    const guardedDecisions = detail.decisions.filter((d) => d.edge === 'deploy-staging->deploy');
    expect(guardedDecisions.map((d) => d.verdicts.find((v) => v.gateId === 'security')?.status)).toEqual([
      'fail',
      'pass',
    ]);
    expect(guardedDecisions.every((d) => /^[0-9a-f]{40}$/.test(d.headSha ?? ''))).toBe(true);

    // the card reached Telegram, and no output held the token
    expect(stack.telegram.server.requests.length).toBeGreaterThan(0);
    expect(JSON.stringify(stack.telegram.server.requests.map((r) => r.body))).not.toContain(LEAKED);
    expect(JSON.stringify(stack.plane.requests.map((r) => r.body))).not.toContain(LEAKED);
  });
});
