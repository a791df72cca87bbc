import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GateContext, Logger, Task } from '@conveyor/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSecurityGate,
  readSecurityReport,
  resolveSecurityRange,
  SECURITY_REPORT_FILE,
  type SecretFinding,
  scanSecrets,
} from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const repos: TempRepo[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TOKEN = `ghp_${chars(36, 101)}`;
const TOKEN2 = `glpat-${chars(20, 102)}`;

/** main with one commit, a branch `task` off it; returns the repo. */
function repoWithBranch(): TempRepo {
  const r = new TempRepo();
  repos.push(r);
  r.commit('init', { 'README.md': '# app\n', 'src/app.ts': 'export const x = 1;\n' });
  r.git('checkout', '-q', '-b', 'task');
  return r;
}

async function scan(r: TempRepo, range = 'main..task') {
  const resolved = await resolveSecurityRange(r.dir, range);
  if (!resolved.ok) throw resolved.error;
  const res = await scanSecrets({ repoDir: r.dir, range: resolved.value });
  if (!res.ok) throw res.error;
  return res.value;
}

describe('secrets in a real git range', () => {
  it('finds a secret added in one commit of the range, with its commit and line', async () => {
    const r = repoWithBranch();
    r.commit('feature', { 'src/app.ts': 'export const x = 1;\n' });
    const sha = r.commit('add client', { 'src/client.ts': `// client\nconst token = "${TOKEN}";\n` });
    r.commit('more', { 'src/other.ts': 'export {};\n' });
    const res = await scan(r);
    expect(res.commitsScanned).toBe(3);
    expect(res.findings).toHaveLength(1);
    const f = res.findings[0] as SecretFinding;
    expect([f.RuleID, f.File, f.StartLine, f.Commit]).toEqual(['github-pat', 'src/client.ts', 2, sha]);
    expect(f.Fingerprint).toBe(`${sha}:src/client.ts:github-pat:2`);
    expect(f.Author).toBe('Test Author');
  });

  it('still finds a secret that was added and then removed inside the range', async () => {
    const r = repoWithBranch();
    const added = r.commit('oops', { 'config.env': `API=1\nGITLAB=${TOKEN2}\n` });
    r.commit('remove it', { 'config.env': 'API=1\n' });
    const res = await scan(r);
    expect(res.findings.map((f) => [f.RuleID, f.Commit])).toEqual([['gitlab-pat', added]]);
  });

  it('does not blame the branch for a secret only on main', async () => {
    const r = new TempRepo();
    repos.push(r);
    r.commit('init', { 'a.txt': 'a\n' });
    r.git('checkout', '-q', '-b', 'task');
    r.commit('task work', { 'b.txt': 'b\n' });
    r.git('checkout', '-q', 'main');
    r.commit('main leaks', { 'leak.txt': `t=${TOKEN}\n` });
    r.git('checkout', '-q', 'task');
    // the branch then merges main in: the merge must not be blamed either
    r.git('merge', '-q', '--no-edit', 'main');
    const res = await scan(r, 'main..task');
    expect(res.findings).toEqual([]);
  });

  it('reports a secret in a renamed file under its new name, and not the rename itself', async () => {
    const r = repoWithBranch();
    r.git('checkout', '-q', 'main');
    r.commit('old secret on main', {
      'old/name.ts': `const a = 1;\nconst b = 2;\nconst c = 3;\nconst t = "${TOKEN}";\n`,
    });
    r.git('checkout', '-q', 'task');
    r.git('merge', '-q', '--ff-only', 'main');
    r.git('mv', 'old/name.ts', 'renamed.ts');
    r.commit('rename');
    const renamedSha = r.commit('edit renamed', {
      'renamed.ts': `const a = 1;\nconst b = 2;\nconst c = 3;\nconst t = "${TOKEN}";\nconst u = "${TOKEN2}";\n`,
    });
    const res = await scan(r);
    expect(res.findings.map((f) => [f.RuleID, f.File, f.StartLine, f.Commit])).toEqual([
      ['gitlab-pat', 'renamed.ts', 5, renamedSha],
    ]);
  });

  it('scans binary-looking files too (a NUL byte hides nothing)', async () => {
    const r = repoWithBranch();
    const sha = r.commit('binary', { 'img.bin': Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(TOKEN)]) });
    const res = await scan(r);
    expect(res.findings.map((f) => [f.RuleID, f.File, f.Commit])).toEqual([['github-pat', 'img.bin', sha]]);
  });

  it("honours the base commit's allowlisted path and .gitleaksignore; a gitleaks:allow marker only by setting", async () => {
    const r = new TempRepo();
    repos.push(r);
    r.commit('init', { 'README.md': '# app\n' });
    r.git('checkout', '-q', '-b', 'task');
    const ignoredSha = r.commit('ignored', { 'src/ignored.ts': `const t = "${TOKEN2}";\n` });
    r.git('checkout', '-q', 'main');
    // the configuration lands on main first (a human reviewed it), then the branch is rebased onto it
    r.commit('config', {
      '.gitleaks.toml': "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''^test/''']\n",
      '.gitleaksignore': `${ignoredSha}:src/ignored.ts:gitlab-pat:1\n`,
    });
    r.git('checkout', '-q', 'task');
    r.git('merge', '-q', '--no-edit', 'main');
    r.commit('fixture', { 'test/fixture.ts': `const t = "${TOKEN}";\n` });
    const marked = r.commit('marked', { 'src/marked.ts': `const t = "${TOKEN}"; // gitleaks:allow\n` });
    const real = r.commit('real', { 'src/real.ts': `const t = "${TOKEN}";\n` });
    const res = await scan(r);
    expect(res.findings.map((f) => [f.File, f.Commit])).toEqual([
      ['src/marked.ts', marked],
      ['src/real.ts', real],
    ]);
    expect(res.notes.join('\n')).toContain('src/marked.ts:1');
    const resolved = await resolveSecurityRange(r.dir, 'main..task');
    if (!resolved.ok) throw resolved.error;
    const honoured = await scanSecrets({ repoDir: r.dir, range: resolved.value, honourInlineAllow: true });
    if (!honoured.ok) throw honoured.error;
    expect(honoured.value.findings.map((f) => f.File)).toEqual(['src/real.ts']);
  });

  it('treats an unresolvable range end as an error, never an empty pass', async () => {
    const r = repoWithBranch();
    const bad = await resolveSecurityRange(r.dir, 'origin/main..HEAD');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toContain("'origin/main' does not resolve");
    const badHead = await resolveSecurityRange(r.dir, 'main..nope');
    expect(badHead.ok).toBe(false);
    expect((await resolveSecurityRange(r.dir, 'not-a-range')).ok).toBe(false);
  });
});

function ctxFor(workdir: string, reportDir: string, lines: string[]): GateContext {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  const task = {
    id: 't1',
    project: 'p',
    issueId: '1',
    repo: 'o/r',
    branch: 'task',
    title: 'T',
    description: '',
  } as unknown as Task;
  return {
    task,
    edge: 'deploy-staging->deploy',
    signal: new AbortController().signal,
    logger,
    now: () => 1_700_000_000_000,
    readOnly: false,
    workdir,
    reportDir,
  };
}

describe('createSecurityGate', () => {
  it('fails with redacted findings; the secret is nowhere in the report, summary, findings or logs (invariant 4)', async () => {
    const r = repoWithBranch();
    const sha = r.commit('leak', {
      'src/k.ts': `export const k = "${TOKEN}";\n`,
      'src/p.py': `password = "${chars(18, 55)}"\n`,
    });
    const reportDir = mkdtempSync(join(tmpdir(), 'conveyor-sec-report-'));
    dirs.push(reportDir);
    const lines: string[] = [];
    const gate = createSecurityGate({ securityBaseRef: 'main', securityHeadRef: 'task' });
    expect(gate.id).toBe('security');
    const out = await gate.run(ctxFor(r.dir, reportDir, lines));
    expect(out.status).toBe('fail');
    expect(out.reportPath?.startsWith(join(reportDir, 't1', 'run-'))).toBe(true);
    expect(out.reportPath?.endsWith(SECURITY_REPORT_FILE)).toBe(true);
    const reportPath = out.reportPath as string;
    expect(out.findings?.map((f) => [f.rule, f.file, f.line, f.commit])).toEqual([
      ['github-pat', 'src/k.ts', 1, sha],
      ['generic-api-key', 'src/p.py', 1, sha],
    ]);
    const reportText = readFileSync(reportPath, 'utf8');
    for (const secret of [TOKEN, chars(18, 55)]) {
      expect(reportText).not.toContain(secret);
      expect(out.summary).not.toContain(secret);
      expect(JSON.stringify(out)).not.toContain(secret);
      expect(lines.join('\n')).not.toContain(secret);
    }
    expect(reportText).toContain(`${sha}:src/k.ts:github-pat:1`);
    expect(reportText).toContain('ghp_…');
    const fm = await readSecurityReport(reportPath);
    if (!fm.ok) throw fm.error;
    expect(fm.value.taskId).toBe('t1');
    expect(fm.value.verdict).toBe('fail');
    expect(fm.value.counts.secrets).toBe(2);
    expect(fm.value.range.headSha).toBe(sha);
    expect(fm.value.engine).toBe('builtin');
  });

  it('passes a clean branch and returns an error for an unresolvable base (default origin/main)', async () => {
    const r = repoWithBranch();
    r.commit('clean', { 'src/ok.ts': 'export const ok = true;\n' });
    const reportDir = mkdtempSync(join(tmpdir(), 'conveyor-sec-report-'));
    dirs.push(reportDir);
    const clean = await createSecurityGate({ securityBaseRef: 'main' }).run(ctxFor(r.dir, reportDir, []));
    expect(clean.status).toBe('pass');
    expect(clean.summary).toContain('0 secrets');
    const broken = await createSecurityGate().run(ctxFor(r.dir, reportDir, []));
    expect(broken.status).toBe('error');
    expect(broken.summary).toContain('origin/main');
    const fm = await readSecurityReport(broken.reportPath as string);
    expect(fm.ok && fm.value.verdict).toBe('error');
  });

  it('takes the verdict from the report read back: a tampered or missing frontmatter fails', async () => {
    const reportDir = mkdtempSync(join(tmpdir(), 'conveyor-sec-report-'));
    dirs.push(reportDir);
    const bare = join(reportDir, SECURITY_REPORT_FILE);
    expect((await readSecurityReport(bare)).ok).toBe(false);
    writeFileSync(bare, '# no frontmatter\n');
    expect((await readSecurityReport(bare)).ok).toBe(false);
    const r = repoWithBranch();
    r.commit('leak', { 'src/k.ts': `export const k = "${TOKEN}";\n` });
    const out = await createSecurityGate({ securityBaseRef: 'main' }).run(ctxFor(r.dir, reportDir, []));
    const path = out.reportPath as string;
    const tampered = readFileSync(path, 'utf8').replace('verdict: fail', 'verdict: pass');
    writeFileSync(path, tampered);
    const read = await readSecurityReport(path);
    expect(read.ok).toBe(false);
    expect(existsSync(path)).toBe(true);
  });

  it('the gate itself fails closed when its report cannot be written and read back, even on a clean branch', async () => {
    const r = repoWithBranch();
    r.commit('clean', { 'src/ok.ts': 'export const ok = true;\n' });
    const reportDir = mkdtempSync(join(tmpdir(), 'conveyor-sec-report-'));
    dirs.push(reportDir);
    // A file where the task's report folder should be: the write (and so the read-back) cannot succeed.
    writeFileSync(join(reportDir, 't1'), 'not a folder\n');
    const out = await createSecurityGate({ securityBaseRef: 'main' }).run(ctxFor(r.dir, reportDir, []));
    expect(out.status).toBe('error');
    expect(out.summary).toMatch(/security/);
  });
});
