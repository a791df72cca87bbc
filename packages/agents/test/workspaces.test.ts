import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventBus, type Task } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachWorkspaceCleanup, createAgentLauncher, createCommandRunner, createWorkspaces } from '../src/index.js';
import { commitToMain, createFixture, git, storeWithJob } from './helpers.js';

let fixture: ReturnType<typeof createFixture>;
beforeEach(() => {
  fixture = createFixture('ws');
});
afterEach(() => fixture.cleanup());

const PASSWORD = 'push-token-that-must-not-leak-42';

function taskLike(id: string, branch = `task/${id}`): Task {
  return {
    id,
    project: 'shop',
    issueId: id,
    repo: 'acme/shop',
    branch,
    title: 't',
    description: 'd',
    snapshot: { stage: 'development', status: 'active', step: 1, developerRetries: 0, deferrals: 0, jobAttempts: 0 },
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

describe('workspaces', () => {
  it('creates a clone on the task branch from main, and reuses it for the next job', async () => {
    const workspaces = createWorkspaces({ root: join(fixture.dir, 'ws'), remoteUrl: () => fixture.origin });
    const first = await workspaces.prepare(taskLike('T1'));
    if (!first.ok) throw first.error;
    expect(first.value.created).toBe(true);
    expect(first.value.dir).toBe(join(fixture.dir, 'ws', 'T1'));
    expect(git(first.value.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('task/T1');
    expect(first.value.baseSha).toBe(git(fixture.seed, 'rev-parse', 'HEAD'));
    writeFileSync(join(first.value.dir, 'work.txt'), 'in progress\n');
    const moved = commitToMain(fixture.seed, 'other.txt', 'x\n');
    const second = await workspaces.prepare(taskLike('T1'));
    if (!second.ok) throw second.error;
    expect(second.value.created).toBe(false);
    expect(second.value.baseSha).toBe(moved);
    expect(readFileSync(join(second.value.dir, 'work.txt'), 'utf8')).toBe('in progress\n');
  });

  it('pushes with askpass credentials that appear in no URL, argument, file or config', async () => {
    const workspaces = createWorkspaces({
      root: join(fixture.dir, 'ws'),
      remoteUrl: () => fixture.origin,
      credentials: { username: 'conveyor-bot', password: PASSWORD },
    });
    const ws = await workspaces.prepare(taskLike('T2'));
    if (!ws.ok) throw ws.error;
    writeFileSync(join(ws.value.dir, 'a.txt'), 'a\n');
    const pushed = await workspaces.commitAndPush(taskLike('T2'), ws.value, 'T2: add a');
    if (!pushed.ok) throw pushed.error;
    expect(pushed.value).toMatchObject({ committed: true, changed: true, pushed: true });
    expect(git(fixture.origin, 'rev-parse', 'task/T2')).toBe(pushed.value.head);
    const askpass = join(fixture.dir, 'ws', '.conveyor', 'askpass.sh');
    expect(readFileSync(askpass, 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(join(ws.value.dir, '.git', 'config'), 'utf8')).not.toContain(PASSWORD);
    // git asks the helper; the helper answers from the environment only
    const answer = execFileSync(askpass, ["Password for 'https://conveyor-bot@git.example': "], {
      env: { CONVEYOR_GIT_PASSWORD: PASSWORD, CONVEYOR_GIT_USERNAME: 'conveyor-bot' },
      encoding: 'utf8',
    });
    expect(answer).toBe(`${PASSWORD}\n`);
    const user = execFileSync(askpass, ["Username for 'https://git.example': "], {
      env: { CONVEYOR_GIT_USERNAME: 'conveyor-bot' },
      encoding: 'utf8',
    });
    expect(user).toBe('conveyor-bot\n');
  });

  it('refuses a remote URL with credentials, and a protected branch', async () => {
    const withCreds = createWorkspaces({
      root: join(fixture.dir, 'ws'),
      remoteUrl: () => `https://bot:${PASSWORD}@git.example/acme/shop.git`,
    });
    const refused = await withCreds.prepare(taskLike('T3'));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.message).toMatch(/carries credentials/);
      expect(refused.error.message).not.toContain(PASSWORD);
    }
    const workspaces = createWorkspaces({
      root: join(fixture.dir, 'ws'),
      remoteUrl: () => fixture.origin,
      protectedBranches: ['release'],
    });
    for (const branch of ['main', 'release']) {
      const r = await workspaces.prepare(taskLike('T4', branch));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(/protected/);
    }
  });

  it('an agent cannot plant a hook or redirect the push the runner makes with credentials', async () => {
    const workspaces = createWorkspaces({
      root: join(fixture.dir, 'ws'),
      remoteUrl: () => fixture.origin,
      credentials: { username: 'bot', password: PASSWORD },
    });
    const ws = await workspaces.prepare(taskLike('T5'));
    if (!ws.ok) throw ws.error;
    const dir = ws.value.dir;
    const marker = join(fixture.dir, 'stolen.txt');
    const evil = join(fixture.dir, 'evil.git');
    git(fixture.dir, 'init', '--quiet', '--bare', evil);
    // what a hostile agent does inside its workspace
    mkdirSync(join(dir, 'myhooks'));
    mkdirSync(join(dir, '.git', 'hooks'), { recursive: true });
    for (const hook of ['pre-commit', 'pre-push', 'post-commit', 'reference-transaction']) {
      writeFileSync(join(dir, '.git', 'hooks', hook), `#!/bin/sh\necho "$CONVEYOR_GIT_PASSWORD" >> ${marker}\n`, {
        mode: 0o755,
      });
      writeFileSync(join(dir, 'myhooks', hook), `#!/bin/sh\necho "$CONVEYOR_GIT_PASSWORD" >> ${marker}\n`, {
        mode: 0o755,
      });
    }
    git(dir, 'config', 'core.hooksPath', join(dir, 'myhooks'));
    git(dir, 'config', `url.${evil}.insteadOf`, fixture.origin);
    git(dir, 'config', 'remote.origin.pushurl', evil);
    writeFileSync(join(dir, 'feature.txt'), 'feature\n');
    const pushed = await workspaces.commitAndPush(taskLike('T5'), ws.value, 'T5: feature');
    if (!pushed.ok) throw pushed.error;
    expect(existsSync(marker)).toBe(false);
    expect(git(fixture.origin, 'rev-parse', 'task/T5')).toBe(pushed.value.head);
    expect(git(evil, 'for-each-ref')).toBe('');
  });

  it('pushes with a lease: a branch moved by someone else is not overwritten', async () => {
    const workspaces = createWorkspaces({ root: join(fixture.dir, 'ws'), remoteUrl: () => fixture.origin });
    const task = taskLike('T6');
    const ws = await workspaces.prepare(task);
    if (!ws.ok) throw ws.error;
    writeFileSync(join(ws.value.dir, 'a.txt'), 'a\n');
    const first = await workspaces.commitAndPush(task, ws.value, 'T6: a');
    if (!first.ok) throw first.error;
    // someone else pushes to the task branch
    git(fixture.seed, 'fetch', '--quiet', 'origin');
    git(fixture.seed, 'checkout', '--quiet', '-b', 'intruder', 'origin/task/T6');
    writeFileSync(join(fixture.seed, 'b.txt'), 'b\n');
    git(fixture.seed, 'add', '-A');
    git(fixture.seed, 'commit', '--quiet', '-m', 'someone else');
    git(fixture.seed, 'push', '--quiet', 'origin', 'intruder:task/T6');
    const theirs = git(fixture.origin, 'rev-parse', 'task/T6');
    writeFileSync(join(ws.value.dir, 'c.txt'), 'c\n');
    const second = await workspaces.commitAndPush(task, ws.value, 'T6: c');
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.error.message).toMatch(/task\/T6 moved on the remote while the agent worked/);
    expect(git(fixture.origin, 'rev-parse', 'task/T6')).toBe(theirs);
  });

  it('fails clearly past the disk budget', async () => {
    const unlimited = createWorkspaces({ root: join(fixture.dir, 'ws'), remoteUrl: () => fixture.origin });
    expect((await unlimited.prepare(taskLike('T7'))).ok).toBe(true);
    const workspaces = createWorkspaces({
      root: join(fixture.dir, 'ws'),
      remoteUrl: () => fixture.origin,
      diskBudgetBytes: 1000,
    });
    const second = await workspaces.prepare(taskLike('T8'));
    expect(second.ok).toBe(false);
    if (!second.ok) {
      expect(second.error.code).toBe('too_large');
      expect(second.error.message).toMatch(/the workspace root .* uses [\d.]+ MB, over its disk budget of 0\.0 MB/);
    }
  });

  it('removes the workspace when the task is done and deletes the merged branch (a setting)', async () => {
    const { store, task, job } = await storeWithJob('development', 'developer');
    const workspaces = createWorkspaces({ root: join(fixture.dir, 'ws'), remoteUrl: () => fixture.origin });
    const runner = createCommandRunner({ command: 'sh', args: ['-c', 'echo hi > hi.txt; echo wrote hi.txt'] });
    const launcher = createAgentLauncher({
      store,
      workspaces,
      runnerFor: () => runner,
      transcriptDir: join(fixture.dir, 't'),
    });
    const launched = await launcher.launch({ jobId: job.id, command: '', args: [] });
    if (!launched.ok) throw launched.error;
    expect((await launched.value.exited).exitCode).toBe(0);
    expect(git(fixture.origin, 'show', 'task/SHOP-1:hi.txt')).toBe('hi');
    const events = createEventBus();
    const detach = attachWorkspaceCleanup({ events, store, workspaces, deleteBranchAfterMerge: true });
    events.emit('transition', {
      taskId: task.id,
      from: { stage: 'deploy', status: 'active' },
      to: { stage: 'done', status: 'done' },
      cause: 'gates.decided',
    } as never);
    for (let i = 0; i < 50 && existsSync(join(fixture.dir, 'ws', task.id)); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(fixture.dir, 'ws', task.id))).toBe(false);
    expect(git(fixture.origin, 'branch', '--list', 'task/SHOP-1')).toBe('');
    detach();
  });
});

describe('jobs whose changes are not kept', () => {
  let fixture2: ReturnType<typeof createFixture>;
  beforeEach(() => {
    fixture2 = createFixture('discard');
  });
  afterEach(() => fixture2.cleanup());

  it('an analysis job that edits files leaves nothing behind for the developer, and its plan is kept', async () => {
    const { store, job, task } = await storeWithJob('analysis', 'analyst');
    const workspaces = createWorkspaces({ root: join(fixture2.dir, 'ws'), remoteUrl: () => fixture2.origin });
    const runner = createCommandRunner({
      command: 'sh',
      args: ['-c', 'echo junk > junk.txt; echo tampered >> README.md; echo "PLAN: do it"'],
    });
    const comments: string[] = [];
    const launcher = createAgentLauncher({
      store,
      workspaces,
      runnerFor: () => runner,
      transcriptDir: join(fixture2.dir, 't'),
      tracker: {
        comment: async (_id, html) => {
          comments.push(html);
          return { ok: true, value: undefined } as never;
        },
      },
    });
    const launched = await launcher.launch({ jobId: job.id, command: '', args: [] });
    if (!launched.ok) throw launched.error;
    expect((await launched.value.exited).exitCode).toBe(0);
    const dir = join(fixture2.dir, 'ws', task.id);
    expect(existsSync(join(dir, 'junk.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# shop\n');
    expect(launcher.plan(task.id)).toBe('PLAN: do it\n');
    expect(comments).toEqual([`<p><strong>Plan</strong> (task ${task.id})</p><pre>PLAN: do it</pre>`]);
    expect(git(fixture2.origin, 'branch', '--list', 'task/SHOP-1')).toBe('');
    expect(readFileSync(join(fixture2.dir, 't', `${job.id}.prompt.md`), 'utf8')).toContain(
      '# Plan the work for Add farewell(name)',
    );
  });
});
