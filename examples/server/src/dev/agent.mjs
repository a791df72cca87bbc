#!/usr/bin/env node
// The local stack's scripted coding agent: it does the git work a real agent
// does (clone over the forge's smart HTTP, change, commit, push the task
// branch), deterministically, so the stack needs no model. A task whose
// description contains "LEAK" leaks a token on its first attempt, so the
// security gate has something to roll back.
//
// Environment: CONVEYOR_* from the host; DEV_CLONE_URL (the repository's
// clone URL), DEV_GIT_TOKEN (sent as an HTTP header through git's config
// environment, never in a URL or an argument), DEV_WORK_ROOT.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const need = (name) => {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`dev agent: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
};
const stage = need('CONVEYOR_STAGE');
const say = (line) => process.stdout.write(`[dev-agent:${stage}] ${line}\n`);

if (stage === 'analysis') {
  say(`plan for ${need('CONVEYOR_ISSUE_ID')}: add features/${need('CONVEYOR_ISSUE_ID')}.md describing the change`);
  process.exit(0);
}
if (stage !== 'development') {
  say('deployed');
  process.exit(0);
}

const branch = need('CONVEYOR_BRANCH');
const issue = need('CONVEYOR_ISSUE_ID');
const dir = join(need('DEV_WORK_ROOT'), need('CONVEYOR_TASK_ID'));
const basic = Buffer.from(`conveyor:${need('DEV_GIT_TOKEN')}`).toString('base64');
const env = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'http.extraHeader',
  GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  GIT_AUTHOR_NAME: 'Dev Agent',
  GIT_AUTHOR_EMAIL: 'agent@conveyor.invalid',
  GIT_COMMITTER_NAME: 'Dev Agent',
  GIT_COMMITTER_EMAIL: 'agent@conveyor.invalid',
};
const git = (...args) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();

if (!existsSync(join(dir, '.git'))) {
  mkdirSync(dir, { recursive: true });
  git('clone', '--quiet', need('DEV_CLONE_URL'), '.');
}
git('fetch', '--quiet', '--prune', 'origin');
const findings = process.env.CONVEYOR_FINDINGS ?? '';
const description = process.env.CONVEYOR_TASK_DESCRIPTION ?? '';
// A retry after a gate's findings starts again from main: the leaked commit
// must leave the branch's history, not only its tree.
const remoteHas = git('ls-remote', '--heads', 'origin', branch) !== '';
git('checkout', '--quiet', '-B', branch, remoteHas && findings === '' ? `origin/${branch}` : 'origin/main');
mkdirSync(join(dir, 'features'), { recursive: true });
writeFileSync(join(dir, 'features', `${issue}.md`), `# ${issue}\n\n${description}\n`);
if (description.includes('LEAK') && findings === '') {
  mkdirSync(join(dir, 'config'), { recursive: true });
  // a token-shaped fake, assembled so this file itself holds no token
  writeFileSync(
    join(dir, 'config', 'deploy.env'),
    `GITHUB_TOKEN=${['ghp', '_', 'R8fV2kLq9ZtX4wB7nM3pC6yH1dJ5sG0aE2uQ'].join('')}\n`,
  );
  say('wrote the deploy config (with a token in it, as agents sometimes do)');
} else if (findings !== '') {
  say(`redid the change from main after the gate said: ${findings.split('\n')[0]}`);
}
git('add', '-A');
git('commit', '--quiet', '-m', `${issue}: ${findings === '' ? 'implement' : 'fix what the gate found'}`);
git('push', '--quiet', '--force-with-lease', 'origin', `HEAD:refs/heads/${branch}`);
say(`pushed ${git('rev-parse', 'HEAD')} to ${branch}`);
