#!/usr/bin/env node
// The demo's scripted "coding agent". A real host runs an LLM agent here; this
// one does the same git work deterministically so the demo needs no network.
//
// Environment (set by the demo's launcher):
//   DEMO_STAGE     analysis | development | deploy-staging | deploy
//   DEMO_ORIGIN    path of the bare origin repository
//   DEMO_WORKDIR   the task's checkout (cloned on first use)
//   DEMO_BRANCH    the task branch
//   DEMO_FINDINGS  findings of the gate that rolled the task back (empty on the first attempt)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) {
    process.stderr.write(`agent: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
};

const stage = env('DEMO_STAGE');
const origin = env('DEMO_ORIGIN');
const workdir = env('DEMO_WORKDIR');
const branch = env('DEMO_BRANCH');
const findings = process.env.DEMO_FINDINGS ?? '';

const git = (...args) =>
  execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], {
    cwd: workdir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Demo Agent',
      GIT_AUTHOR_EMAIL: 'agent@conveyor.invalid',
      GIT_COMMITTER_NAME: 'Demo Agent',
      GIT_COMMITTER_EMAIL: 'agent@conveyor.invalid',
    },
  }).trim();

const say = (line) => process.stdout.write(`[agent:${stage}] ${line}\n`);

if (stage === 'analysis') {
  say('read the task; plan: add farewell() next to greet(), with a test');
  process.exit(0);
}

if (stage === 'deploy-staging' || stage === 'deploy') {
  // Action stages deploy and commit nothing; the gates decide what happens next.
  say(`deployed ${branch} (${stage === 'deploy' ? 'production' : 'staging'})`);
  process.exit(0);
}

if (stage !== 'development') {
  process.stderr.write(`agent: unknown stage ${stage}\n`);
  process.exit(2);
}

if (!existsSync(join(workdir, '.git'))) {
  mkdirSync(workdir, { recursive: true });
  execFileSync('git', ['clone', '--quiet', origin, workdir]);
}
git('fetch', '--quiet', 'origin');
// Start every attempt from the current main: the retry rewrites the branch.
git('checkout', '--quiet', '-B', branch, 'origin/main');

writeFileSync(
  join(workdir, 'src', 'farewell.js'),
  "export function farewell(name) {\n  return 'Goodbye, ' + name + '!';\n}\n",
);
writeFileSync(
  join(workdir, 'test', 'farewell.test.js'),
  "import assert from 'node:assert/strict';\nimport { farewell } from '../src/farewell.js';\n\nassert.equal(farewell('Ada'), 'Goodbye, Ada!');\nconsole.log('farewell ok');\n",
);
git('add', 'src/farewell.js', 'test/farewell.test.js');
git('commit', '--quiet', '-m', 'Add farewell()');

if (findings === '') {
  // First attempt: the agent "helpfully" wires a notifier and pastes a token.
  // It is fake, assembled here so no token-shaped literal sits in this file.
  const token = ['ghp', '_', 'R8x2Lq9Vt4Zk7Wm1Np3Hs6Jd0Fc5Gb8Ya2Ue'].join(''); // gitleaks:allow (the demo's fake leak)
  writeFileSync(join(workdir, 'src', 'notify.js'), `export const GITHUB_TOKEN = '${token}';\n`);
  git('add', 'src/notify.js');
  git('commit', '--quiet', '-m', 'Wire release notifications');
  say('implemented farewell() and release notifications');
} else {
  say('the security gate rolled the task back; findings received:');
  for (const line of findings.split('\n').filter(Boolean)) say(`  ${line}`);
  say('rewrote the branch from main without the token');
}

git('push', '--quiet', '--force', 'origin', `${branch}:${branch}`);
say(`pushed ${branch} at ${git('rev-parse', '--short', 'HEAD')}`);
