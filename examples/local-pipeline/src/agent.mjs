#!/usr/bin/env node
// The demo's scripted "coding agent". A real host runs an LLM agent here; this
// one does the same git work deterministically so the demo needs no network.
//
// Environment (set by the demo's launcher):
//   DEMO_STAGE     analysis | development | deploy-staging | deploy
//   DEMO_SCENARIO  plain | leak | staging | reaper (what this task shows)
//   DEMO_FEATURE   the function the task adds (e.g. farewell)
//   DEMO_ATTEMPT   the job's attempt (1, 2, …)
//   DEMO_ORIGIN    path of the bare origin repository
//   DEMO_WORKDIR   the task's checkout (cloned on first use)
//   DEMO_BRANCH    the task branch
//   DEMO_FINDINGS  findings of the gate that rolled the task back (empty on the first attempt)
//   CONVEYOR_STAGING_CHECKS  where the deploy-staging stage reports its staging checks
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) {
    process.stderr.write(`agent: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
};

const stage = env('DEMO_STAGE');
const scenario = env('DEMO_SCENARIO');
const feature = env('DEMO_FEATURE');
const attempt = Number(env('DEMO_ATTEMPT'));
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
  if (scenario === 'reaper' && attempt === 1) {
    // This run is killed mid-job together with the host that started it.
    say('analysing… (this run will be killed mid-job)');
    setTimeout(() => process.exit(0), 60_000);
  } else {
    say(`read the task; plan: add ${feature}() with a test`);
    process.exit(0);
  }
} else if (stage === 'deploy-staging') {
  // Deploys to staging and reports the staging checks where the host reads them.
  const counter = `${workdir}.staging-runs`;
  const run = (existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0) + 1;
  writeFileSync(counter, String(run));
  const checks =
    scenario === 'staging'
      ? [
          run === 1
            ? { id: 'e2e', state: 'failure', detail: `${feature}() returned the wrong total on staging` }
            : { id: 'e2e', state: 'success' },
          { id: 'sandbox-dns', state: 'failure', detail: 'getaddrinfo EAI_AGAIN db.staging.internal' },
        ]
      : [
          { id: 'e2e', state: 'success' },
          { id: 'smoke', state: 'success' },
        ];
  const file = env('CONVEYOR_STAGING_CHECKS');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(checks));
  say(`deployed ${branch} to staging; checks: ${checks.map((c) => `${c.id}=${c.state}`).join(', ')}`);
  process.exit(0);
} else if (stage === 'deploy') {
  say(`deployed ${branch} to production`);
  process.exit(0);
} else if (stage === 'development') {
  if (!existsSync(join(workdir, '.git'))) {
    mkdirSync(workdir, { recursive: true });
    execFileSync('git', ['clone', '--quiet', origin, workdir]);
  }
  git('fetch', '--quiet', 'origin');
  // Start every attempt from the current main: the retry rewrites the branch.
  git('checkout', '--quiet', '-B', branch, 'origin/main');
  writeFileSync(
    join(workdir, 'src', `${feature}.js`),
    `export function ${feature}(name) {\n  return '${feature}, ' + name + '!';\n}\n`,
  );
  writeFileSync(
    join(workdir, 'test', `${feature}.test.js`),
    `import assert from 'node:assert/strict';\nimport { ${feature} } from '../src/${feature}.js';\n\nassert.equal(${feature}('Ada'), '${feature}, Ada!');\n`,
  );
  git('add', '-A');
  git('commit', '--quiet', '-m', `Add ${feature}()`);
  if (scenario === 'leak' && findings === '') {
    // First attempt: the agent "helpfully" wires a notifier and pastes a token.
    // It is fake, assembled here so no token-shaped literal sits in this file.
    const token = ['ghp', '_', 'R8x2Lq9Vt4Zk7Wm1Np3Hs6Jd0Fc5Gb8Ya2Ue'].join(''); // gitleaks:allow (the demo's fake leak)
    writeFileSync(join(workdir, 'src', 'notify.js'), `export const GITHUB_TOKEN = '${token}';\n`);
    git('add', 'src/notify.js');
    git('commit', '--quiet', '-m', 'Wire release notifications');
    say(`implemented ${feature}() and release notifications`);
  } else if (findings !== '') {
    say('a gate rolled the task back; findings received:');
    for (const line of findings.split('\n').filter(Boolean)) say(`  ${line}`);
    say('rewrote the branch from main with the fix');
  } else {
    say(`implemented ${feature}()`);
  }
  git('push', '--quiet', '--force', 'origin', `${branch}:${branch}`);
  say(`pushed ${branch} at ${git('rev-parse', '--short', 'HEAD')}`);
} else {
  process.stderr.write(`agent: unknown stage ${stage}\n`);
  process.exit(2);
}
