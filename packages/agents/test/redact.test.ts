import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSecretsConfig, DEFAULT_SECRETS_CONFIG, scanText } from '@conveyor/gates';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAgentLauncher,
  createCommandRunner,
  createRedactor,
  createWorkspaces,
  isSecretEnvName,
  REDACTED,
  secretEnvValues,
} from '../src/index.js';
import { createFixture, git, storeWithJob } from './helpers.js';

// Opaque values (no known token shape): only their env names say they are secrets.
const PUSH_TOKEN = ['opaque', 'Q7w9E1r3T5y7', 'U9i1O3p5'].join('-');
const HOOK_VALUE = ['deploy', 'hook', 'c0ffee', 'b4d', 'f00d'].join('-');

let fixture: ReturnType<typeof createFixture>;
beforeEach(() => {
  fixture = createFixture('redact');
});
afterEach(() => fixture.cleanup());

describe('secret env values', () => {
  it('takes the values of secret-looking names, named ones and URLs with a password; not ids or branches', () => {
    const env = {
      GITEA_TOKEN: 'gitea-token-value',
      ANTHROPIC_API_KEY: 'anthropic-key-value',
      DB_PASSWORD: 'db-password-value',
      SENTRY_DSN: 'https://public@sentry.invalid/1',
      SESSION_COOKIE: 'cookie-value-123',
      DATABASE_URL: 'postgres://app:s3cret-pw@db.invalid/app',
      DEPLOY_HOOK: HOOK_VALUE,
      CONVEYOR_TASK_ID: 'task-0123456789abcdef',
      CONVEYOR_BRANCH: 'task/PLN-1234-login-page',
      GIT_AUTHOR_NAME: 'Conveyor agent',
      HOME: '/home/conveyor-agent',
      PUBLIC_URL: 'https://app.invalid/login',
    };
    const values = secretEnvValues(env, { names: ['DEPLOY_HOOK'] });
    expect(values).toEqual(
      expect.arrayContaining([
        'gitea-token-value',
        'anthropic-key-value',
        'db-password-value',
        'https://public@sentry.invalid/1',
        'cookie-value-123',
        'postgres://app:s3cret-pw@db.invalid/app',
        's3cret-pw',
        HOOK_VALUE,
      ]),
    );
    for (const kept of ['task-0123456789abcdef', 'task/PLN-1234-login-page', 'Conveyor agent', '/home/conveyor-agent'])
      expect(values).not.toContain(kept);
    expect(values).not.toContain('https://app.invalid/login');
    expect(isSecretEnvName('githubToken')).toBe(true);
    expect(isSecretEnvName('GIT_AUTHOR_EMAIL')).toBe(false);
  });

  it("hides what a given detector (the gates' secret rules) finds, and a value in its JSON-escaped form", () => {
    const quoted = 'pass"word\\with-escapes';
    const rules = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
    if (!rules.ok) throw rules.error;
    const detect = (text: string) => scanText(rules.value, text).map((f) => f.Secret);
    const redact = createRedactor({ values: [quoted], detect });
    // a shape only the gates' rules know (Stripe)
    const stripe = ['sk', 'live', 'Zq8Wm2Xn4Rb6Tc1Vd3Yf5Hg7'].join('_');
    expect(createRedactor({})(`key ${stripe} ok`)).toBe(`key ${stripe} ok`);
    expect(redact(`key ${stripe} ok`)).toBe(`key ${REDACTED} ok`);
    expect(redact(JSON.stringify({ text: `use ${quoted} now` }))).toBe(JSON.stringify({ text: `use ${REDACTED} now` }));
  });
});

describe('the agent launcher redacts secrets only', () => {
  it('keeps the task id and branch in the transcript and the commit message; hides the token (split across chunks) and a caller-named secret', async () => {
    const { store, task, job } = await storeWithJob('development', 'developer');
    const workspaces = createWorkspaces({ root: join(fixture.dir, 'workspaces'), remoteUrl: () => fixture.origin });
    // The token goes out in two writes with a pause between them: two stdout chunks, one line.
    const script = [
      'echo "notes for $CONVEYOR_TASK_ID" > NOTES.md',
      'printf "pushing with %s" "$(printf %s "$PUSH_TOKEN" | cut -c1-12)"',
      'sleep 0.3',
      'printf "%s and the hook\\n" "$(printf %s "$PUSH_TOKEN" | cut -c13-)"',
      'echo "done $CONVEYOR_TASK_ID on $CONVEYOR_BRANCH via $DEPLOY_HOOK"',
    ].join('\n');
    const runner = createCommandRunner({ command: 'sh', args: ['-c', script] });
    const launcher = createAgentLauncher({
      store,
      workspaces,
      runnerFor: () => runner,
      transcriptDir: join(fixture.dir, 'transcripts'),
      secretEnvNames: ['DEPLOY_HOOK'],
    });
    const launched = await launcher.launch({
      jobId: job.id,
      command: 'ignored',
      args: [],
      env: {
        CONVEYOR_TASK_ID: task.id,
        CONVEYOR_BRANCH: task.branch,
        PUSH_TOKEN,
        DEPLOY_HOOK: HOOK_VALUE,
      },
    });
    if (!launched.ok) throw launched.error;
    await launched.value.exited;
    const outcome = launcher.outcome(job.id);
    expect(outcome?.status).toBe('succeeded');
    expect(outcome?.summary).toBe(`done ${task.id} on ${task.branch} via ${REDACTED}`);

    const transcript = readFileSync(join(fixture.dir, 'transcripts', `${encodeURIComponent(job.id)}.jsonl`), 'utf8');
    expect(transcript).toContain(`pushing with ${REDACTED} and the hook`);
    expect(transcript).not.toContain(PUSH_TOKEN);
    expect(transcript).not.toContain(HOOK_VALUE);
    expect(transcript).toContain(task.id);

    const message = git(fixture.origin, 'log', '-1', '--format=%B', task.branch);
    expect(message).toContain(`Conveyor task ${task.id}`);
    expect(message).toContain(`done ${task.id} on ${task.branch} via ${REDACTED}`);
    expect(message).not.toContain(HOOK_VALUE);
  });
});
