// Hostile task branches (issue #10, invariants 4, 7, 10): every branch adds a
// GitHub token plus one trick meant to get it past the security gate. Each runs
// twice, through `conveyor-scan` as a real child process and through a real
// pipeline (memory store, gate registry, the real security gate), and each must
// fail (or error) with a canary planted in the host's environment nowhere in
// any output, report, log line, card or finding handed to the next agent.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createGateRegistry,
  createPipeline,
  DEFAULT_STAGES,
  type LogFields,
  type Logger,
  ok,
  type TaskCard,
} from '@conveyor/core';
import { createMemoryStore } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecurityGate, type SecuritySettingsInput } from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const CANARY = `canary-${chars(24, 900)}`;
// planted before any scan starts: workers and child processes inherit it
process.env.CONVEYOR_CANARY = CANARY;

const TOKEN = `ghp_${chars(36, 901)}`;
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

interface Trick {
  readonly name: string;
  /** commits on `task` (branched off `main` after `onMain`) */
  readonly branch: (r: TempRepo) => void;
  /** commits on `main` before the branch forks (the trusted base) */
  readonly onMain?: (r: TempRepo) => void;
  readonly expect: 'fail' | 'error';
  /** a rule the failing report must name */
  readonly rule?: string;
  readonly cli?: readonly string[];
  readonly gate?: SecuritySettingsInput;
}

const leak = (file = 'src/client.ts') => ({ [file]: `export const token = "${TOKEN}";\n` });

const TRICKS: readonly Trick[] = [
  {
    name: 'the branch adds a .gitleaks.toml with no rules',
    branch: (r) => r.commit('cfg', { '.gitleaks.toml': 'title = "nothing"\n', ...leak() }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the branch adds a .gitleaks.toml that allowlists every path',
    branch: (r) =>
      r.commit('cfg', {
        '.gitleaks.toml': "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''.*''']\n",
        ...leak(),
      }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the branch disables the rule that would fire',
    branch: (r) =>
      r.commit('cfg', {
        '.gitleaks.toml': '[extend]\nuseDefault = true\ndisabledRules = ["github-pat", "generic-api-key"]\n',
        ...leak(),
      }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: "the branch edits main's own .gitleaks.toml to allow the token",
    onMain: (r) => r.commit('cfg', { '.gitleaks.toml': '[extend]\nuseDefault = true\n' }),
    branch: (r) =>
      r.commit('cfg', {
        '.gitleaks.toml': "[extend]\nuseDefault = true\n[[allowlists]]\nregexes = ['''ghp_''']\n",
        ...leak(),
      }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the change to the scan config alone fails (its own rule)',
    branch: (r) => r.commit('cfg', { '.gitleaks.toml': 'title = "nothing"\n' }),
    expect: 'fail',
    rule: 'conveyor-scan-config-changed',
  },
  {
    name: 'an inline gitleaks:allow marker on the secret line',
    branch: (r) => r.commit('marker', { 'src/a.ts': `const t = "${TOKEN}"; // gitleaks:allow\n` }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the branch adds a .gitleaksignore with the finding’s fingerprint',
    branch: (r) => {
      const sha = r.commit('leak', leak());
      r.commit('ignore', { '.gitleaksignore': `${sha}:src/client.ts:github-pat:1\nsrc/client.ts:github-pat:1\n` });
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the branch rewrites the baseline the host named',
    onMain: (r) => r.commit('baseline', { 'gitleaks-baseline.json': '[]\n' }),
    branch: (r) => {
      const sha = r.commit('leak', leak());
      const entry = {
        RuleID: 'github-pat',
        File: 'src/client.ts',
        Commit: sha,
        StartLine: 1,
        Secret: TOKEN,
        Fingerprint: `${sha}:src/client.ts:github-pat:1`,
      };
      r.commit('baseline', { 'gitleaks-baseline.json': `${JSON.stringify([entry])}\n` });
    },
    cli: ['--baseline', 'gitleaks-baseline.json'],
    gate: { securityBaselinePath: 'gitleaks-baseline.json' },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a .gitattributes with * -diff',
    branch: (r) => r.commit('attrs', { '.gitattributes': '* -diff\n', ...leak('src/a.js') }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a .gitattributes with *.js binary',
    branch: (r) => r.commit('attrs', { '.gitattributes': '*.js binary\n', ...leak('src/a.js') }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a nested .gitattributes deep in the tree',
    branch: (r) => r.commit('attrs', { 'src/deep/er/.gitattributes': '* -diff -text\n', ...leak('src/deep/er/x.js') }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a textconv driver and attributes planted in the checkout’s .git (config and info/attributes)',
    branch: (r) => {
      mkdirSync(join(r.dir, '.git', 'info'), { recursive: true });
      writeFileSync(join(r.dir, '.git', 'info', 'attributes'), '*.js diff=hide\n* -diff\n');
      writeFileSync(join(r.dir, 'attrs-elsewhere'), '* -diff\n');
      r.git('config', 'diff.hide.textconv', 'true');
      r.git('config', 'diff.hide.binary', 'true');
      r.git('config', 'core.attributesFile', join(r.dir, 'attrs-elsewhere'));
      r.git('config', 'core.bigFileThreshold', '1');
      r.commit('leak', leak('src/a.js'));
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret in a file that also holds a NUL byte',
    branch: (r) =>
      r.commit('bin', {
        'assets/blob.dat': Buffer.concat([Buffer.from([0, 1, 2, 0, 10]), Buffer.from(`k=${TOKEN}\n`)]),
      }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret in a UTF-16 text file',
    branch: (r) => r.commit('utf16', { 'config/settings.ini': utf16le(`[auth]\r\ntoken = ${TOKEN}\r\n`) }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a commit message holding 0x1e bytes and fake patch headers swallows nothing',
    branch: (r) => {
      r.write('src/client.ts', leak()['src/client.ts'] as string);
      r.git('add', '-A');
      r.git('commit', '-q', '-m', 'innocent\x1e\x1f\x1e\ndiff --git a/x b/x\n:100644 100644 0 0 M x');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret only in a commit message',
    branch: (r) => r.git('commit', '-q', '--allow-empty', '-m', `chore: rotate\n\nold token was ${TOKEN}`),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret only in the author name',
    branch: (r) => r.git('commit', '-q', '--allow-empty', '-m', 'x', `--author=${TOKEN} <a@example.invalid>`),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret in an evil merge commit',
    branch: (r) => {
      r.commit('work', { 'src/work.ts': 'export {};\n' });
      r.git('checkout', '-q', 'main');
      r.commit('main moves', { 'src/main.ts': 'export {};\n' });
      r.git('checkout', '-q', 'task');
      r.git('merge', '-q', '--no-commit', '--no-ff', 'main');
      r.write('src/work.ts', `export const t = "${TOKEN}";\n`);
      r.git('add', '-A');
      r.git('commit', '-q', '--no-edit');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a renamed file that gains the secret in the same commit',
    onMain: (r) => r.commit('file', { 'old/name.ts': 'const a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\n' }),
    branch: (r) => {
      mkdirSync(join(r.dir, 'new'), { recursive: true });
      r.git('mv', 'old/name.ts', 'new/place.ts');
      r.write('new/place.ts', `const a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\nconst t = "${TOKEN}";\n`);
      r.git('add', '-A');
      r.git('commit', '-q', '-m', 'move');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    // the scan reads whole blobs, not diffs: an exact rename has no changed line, and its secret is found
    name: "a secret parked under main's allowlisted path, then moved out by an exact rename",
    onMain: (r) =>
      r.commit('cfg', {
        '.gitleaks.toml': "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''^fixtures/''']\n",
      }),
    branch: (r) => {
      r.commit('park', { 'fixtures/sample.ts': `export const token = "${TOKEN}";\n` });
      mkdirSync(join(r.dir, 'src'), { recursive: true });
      r.git('mv', 'fixtures/sample.ts', 'src/client.ts');
      r.git('commit', '-q', '-m', 'move');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a file mode change together with the secret',
    onMain: (r) => r.commit('script', { 'run.sh': '#!/bin/sh\necho hi\n' }),
    branch: (r) => {
      r.write('run.sh', `#!/bin/sh\necho hi\nexport T=${TOKEN}\n`);
      chmodSync(join(r.dir, 'run.sh'), 0o755);
      r.git('add', '-A');
      r.git('commit', '-q', '-m', 'chmod');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret as a symlink target',
    branch: (r) => {
      symlinkSync(TOKEN, join(r.dir, 'link'));
      r.git('add', '-A');
      r.git('commit', '-q', '-m', 'link');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret at the end of a 2 MB line',
    branch: (r) => r.commit('long', { 'dist/bundle.min.js': `${'a=1;'.repeat(500_000)}var t="${TOKEN}";\n` }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret split across two commits on one line',
    branch: (r) => {
      r.commit('half', { 'src/split.ts': `const t = "${TOKEN.slice(0, 20)}` });
      r.commit('rest', { 'src/split.ts': `const t = "${TOKEN}";\n` });
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the secret added then deleted inside the range',
    branch: (r) => {
      r.commit('leak', leak());
      r.git('rm', '-q', 'src/client.ts');
      r.git('commit', '-q', '-m', 'remove');
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'a replace ref in the checkout that swaps the leaky commit for a clean one',
    branch: (r) => {
      const clean = r.commit('clean', { 'src/clean.ts': 'export {};\n' });
      const leaky = r.commit('leak', leak());
      r.git('replace', leaky, clean);
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the branch adds .gitleaks.toml as a symlink to /proc/self/environ',
    branch: (r) => {
      symlinkSync('/proc/self/environ', join(r.dir, '.gitleaks.toml'));
      r.commit('cfg', leak());
    },
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the branch adds an [extend] path to /proc/self/environ',
    branch: (r) => r.commit('cfg', { '.gitleaks.toml': '[extend]\npath = "/proc/self/environ"\n', ...leak() }),
    expect: 'fail',
    rule: 'github-pat',
  },
  {
    name: 'the base commit itself has an [extend] path to /proc/self/environ',
    onMain: (r) => r.commit('cfg', { '.gitleaks.toml': '[extend]\npath = "/proc/self/environ"\n' }),
    branch: (r) => r.commit('leak', leak()),
    expect: 'error',
  },
  {
    name: 'the base commit has an [extend] path climbing out with ../../etc',
    onMain: (r) =>
      r.commit('cfg', { 'config/.gitleaks.toml': '[extend]\npath = "../../../../../proc/self/environ"\n' }),
    branch: (r) => r.commit('leak', leak()),
    cli: ['--config', 'config/.gitleaks.toml'],
    gate: { securityConfigPath: 'config/.gitleaks.toml' },
    expect: 'error',
  },
  {
    name: 'the base commit has .gitleaks.toml as a symlink to /proc/self/environ',
    onMain: (r) => {
      symlinkSync('/proc/self/environ', join(r.dir, '.gitleaks.toml'));
      r.commit('cfg');
    },
    branch: (r) => r.commit('leak', leak()),
    expect: 'error',
  },
  {
    name: 'the base commit extends a file that is a symlink out of the tree',
    onMain: (r) => {
      symlinkSync('/proc/self/environ', join(r.dir, 'base.toml'));
      r.commit('cfg', { '.gitleaks.toml': '[extend]\npath = "base.toml"\n' });
    },
    branch: (r) => r.commit('leak', leak()),
    expect: 'error',
  },
  {
    name: 'the base commit has a .gitleaks.toml that is not TOML (its text must not be echoed)',
    onMain: (r) => r.commit('cfg', { '.gitleaks.toml': `CONVEYOR_CANARY=${CANARY}\n[[rules\n` }),
    branch: (r) => r.commit('leak', leak()),
    expect: 'error',
  },
];

function buildRepo(trick: Trick): TempRepo {
  const r = new TempRepo('conveyor-hostile-');
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'README.md': '# app\n', 'src/app.ts': 'export const x = 1;\n' });
  trick.onMain?.(r);
  r.git('checkout', '-q', '-b', 'task');
  trick.branch(r);
  return r;
}

function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

function readTree(dir: string): string {
  let out = '';
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out += readFileSync(join(entry.parentPath, entry.name), 'utf8');
  }
  return out;
}

function expectClean(where: string, text: string): void {
  expect(text.includes(CANARY), `${where} holds the canary`).toBe(false);
  expect(text.includes(TOKEN), `${where} holds the secret`).toBe(false);
}

function memoryLogger(lines: string[]): Logger {
  const make = (bindings: LogFields): Logger => {
    const log = (level: string) => (message: string, fields?: LogFields) => {
      lines.push(`${level} ${message} ${JSON.stringify({ ...bindings, ...fields })}`);
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}

describe('hostile task branches', () => {
  it.each(TRICKS.map((t) => [t.name, t] as const))('%s', { timeout: 180_000 }, async (_name, trick) => {
    const r = buildRepo(trick);
    const out = mkdtempSync(join(tmpdir(), 'conveyor-hostile-out-'));
    cleanup.push(() => rmSync(out, { recursive: true, force: true }));

    // 1. conveyor-scan, a real child process (JSON on stdout, the summary and warnings on stderr)
    const json = await runCli([
      '--repo',
      r.dir,
      '--range',
      'main..task',
      '--format',
      'json',
      '--no-audit',
      ...(trick.cli ?? []),
    ]);
    expect(json.code, json.stderr).toBe(trick.expect === 'fail' ? 1 : 2);
    expectClean('CLI stdout', json.stdout);
    expectClean('CLI stderr', json.stderr);
    if (trick.expect === 'error') expect(json.stderr).toMatch(/error: .*(\.toml|extend|symlink|TOML)/);
    if (trick.rule) {
      const findings = JSON.parse(json.stdout) as { RuleID: string }[];
      expect(findings.map((f) => f.RuleID)).toContain(trick.rule);
    }
    // 2. a real pipeline: the task finishes deploy-staging, the edge's security gate decides
    const lines: string[] = [];
    const cards: TaskCard[] = [];
    const now = 1_700_000_000_000;
    const clock = { now: () => now };
    const store = createMemoryStore({});
    const gates = createGateRegistry({ clock });
    const reportDir = join(out, 'reports');
    const gate = createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditEnabled: false,
      ...trick.gate,
    });
    const registered = gates.register('deploy-staging->deploy', gate);
    if (!registered.ok) throw registered.error;
    const pipeline = createPipeline({
      store,
      stages: DEFAULT_STAGES,
      gates,
      clock,
      logger: memoryLogger(lines),
      notifier: {
        upsertCard: async (card) => {
          cards.push(card);
          return ok();
        },
        removeCard: async () => ok(),
      },
      repo: 'acme/web',
      reportDir,
      workdirFor: () => r.dir,
    });
    const created = await store.createTaskIfAbsent({
      project: 'web',
      issueId: '1',
      repo: 'acme/web',
      branch: 'task',
      title: 'hostile',
      description: 'hostile branch',
      snapshot: {
        stage: 'deploy-staging',
        status: 'active',
        step: 3,
        developerRetries: 0,
        deferrals: 0,
        jobAttempts: 1,
      },
      now,
    });
    if (!created.ok) throw created.error;
    const taskId = created.value.task.id;
    const applied = await pipeline.apply(taskId, { type: 'job.finished', stage: 'deploy-staging', exitCode: 0 });
    if (!applied.ok) throw applied.error;
    // the edge's decision is a job: run it as the worker would
    const claimed = await store.claimJobs({ maxConcurrency: 1, now });
    if (!claimed.ok || claimed.value[0]?.kind !== 'decision') throw new Error('expected the decision job');
    const decided = await pipeline.runDecision(claimed.value[0]);
    if (!decided.ok) throw decided.error;
    const reread = await store.getTask(taskId);
    if (!reread.ok || reread.value === undefined) throw new Error('task gone');
    const task = reread.value;
    expect(task.snapshot.stage).not.toBe('deploy');
    expect(task.snapshot.stage).not.toBe('done');
    if (trick.expect === 'fail') expect(task.snapshot.stage).toBe('development');
    const jobs = await store.listJobs({ taskId });
    const history = await store.listHistory(taskId);
    if (!jobs.ok || !history.ok) throw new Error('store read failed');
    if (trick.expect === 'fail' && trick.rule) {
      const next = jobs.value.find((j) => j.stage === 'development');
      expect(JSON.stringify(next?.input ?? {})).toContain(trick.rule);
    }
    expectClean('jobs (findings for the next agent)', JSON.stringify(jobs.value));
    expectClean('history', JSON.stringify(history.value));
    expectClean('task', JSON.stringify(task));
    expectClean('log lines', lines.join('\n'));
    expectClean('cards', JSON.stringify(cards));
    expectClean('reports', readTree(reportDir));
  });
});
