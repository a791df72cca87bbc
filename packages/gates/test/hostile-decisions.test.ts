// A decision is bound to commits (invariant 8), scans stop at their deadline
// (invariant 11), and every secret is redacted from every field (invariant 4).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecisionPin, GateContext, Logger, Task } from '@conveyor/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  confinedTreePath,
  createSecurityGate,
  formatSecurityOutcome,
  parseSecretsConfig,
  readSecurityReport,
  runSecurityScan,
  type SecurityReport,
  securityReportMismatch,
  securitySettingsSchema,
} from '../src/security/index.js';
import { TempRepo } from './fixtures/security/git-repo.js';
import { chars } from './fixtures/security/samples.js';

const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});

const TOKEN = `ghp_${chars(36, 801)}`;
const OTHER = `glpat-${chars(20, 802)}`;

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function newRepo(): TempRepo {
  const r = new TempRepo('conveyor-decide-');
  cleanup.push(() => r.cleanup());
  r.commit('init', { 'README.md': '# app\n' });
  return r;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function ctx(
  taskId: string,
  workdir: string,
  reportDir: string,
  extra: { decision?: DecisionPin; signal?: AbortSignal; logger?: Logger } = {},
): GateContext {
  return {
    task: { id: taskId, project: 'p', issueId: taskId, repo: 'o/r', branch: taskId } as unknown as Task,
    edge: 'deploy-staging->deploy',
    signal: extra.signal ?? new AbortController().signal,
    logger: extra.logger ?? silent,
    now: () => 1_700_000_000_000,
    readOnly: false,
    workdir,
    reportDir,
    ...(extra.decision ? { decision: extra.decision } : {}),
  };
}

describe('decision pinning (invariant 8)', () => {
  it('two decisions at once, one leaky and one clean branch, 24 times: always the right verdicts and reports', {
    timeout: 300_000,
  }, async () => {
    const r = newRepo();
    const mainSha = r.git('rev-parse', 'HEAD');
    r.git('checkout', '-q', '-b', 'leaky');
    const leakySha = r.commit('leak', { 'src/k.ts': `export const k = "${TOKEN}";\n` });
    r.git('checkout', '-q', '-b', 'clean', 'main');
    const cleanSha = r.commit('clean', { 'src/ok.ts': 'export const ok = 1;\n' });
    // the shared checkout points at neither branch: the pins decide what is judged
    r.git('checkout', '-q', 'main');
    const reportDir = tempDir('conveyor-decide-reports-');
    const gate = createSecurityGate({ securityDepAuditEnabled: false });
    const pin = (decisionId: string, headSha: string): DecisionPin => ({
      decisionId,
      step: 3,
      headSha,
      baseSha: mainSha,
      baseBranch: 'main',
    });
    const paths = new Set<string>();
    for (let i = 0; i < 24; i += 1) {
      const [a, b] = await Promise.all([
        gate.run(ctx('task-leaky', r.dir, reportDir, { decision: pin(`dec-${i}-a`, leakySha) })),
        gate.run(ctx('task-clean', r.dir, reportDir, { decision: pin(`dec-${i}-b`, cleanSha) })),
      ]);
      expect([a.status, b.status]).toEqual(['fail', 'pass']);
      for (const [out, task, sha] of [
        [a, 'task-leaky', leakySha],
        [b, 'task-clean', cleanSha],
      ] as const) {
        const path = out.reportPath as string;
        expect(paths.has(path)).toBe(false);
        paths.add(path);
        const fm = await readSecurityReport(path);
        if (!fm.ok) throw fm.error;
        expect([fm.value.taskId, fm.value.range.headSha]).toEqual([task, sha]);
      }
      expect(a.reportPath).toContain(join(reportDir, 'task-leaky', `dec-${i}-a`));
    }
  });

  it('judges the pinned head even when the branch has moved since (the sha is what gets merged)', {
    timeout: 120_000,
  }, async () => {
    const r = newRepo();
    const mainSha = r.git('rev-parse', 'HEAD');
    r.git('checkout', '-q', '-b', 'task');
    const leakySha = r.commit('leak', { 'src/k.ts': `export const k = "${TOKEN}";\n` });
    const reportDir = tempDir('conveyor-decide-reports-');
    // the branch is rewritten to a clean commit after the decision was pinned
    r.git('reset', '-q', '--hard', mainSha);
    const cleanSha = r.commit('clean', { 'src/ok.ts': 'export const ok = 1;\n' });
    const gate = createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditEnabled: false,
    });
    const pinned = (headSha: string, decisionId: string): DecisionPin => ({
      decisionId,
      step: 1,
      headSha,
      baseSha: mainSha,
      baseBranch: 'main',
    });
    const onLeak = await gate.run(ctx('t', r.dir, reportDir, { decision: pinned(leakySha, 'd1') }));
    expect(onLeak.status).toBe('fail');
    // and the other way round: the pin is clean, the branch now leaks on top of it
    r.commit('leak later', { 'src/k.ts': `export const k = "${TOKEN}";\n` });
    const onClean = await gate.run(ctx('t', r.dir, reportDir, { decision: pinned(cleanSha, 'd2') }));
    expect(onClean.status).toBe('pass');
    // a pinned head that does not exist in the checkout is an error, never a pass
    const missing = await gate.run(ctx('t', r.dir, reportDir, { decision: pinned('f'.repeat(40), 'd3') }));
    expect(missing.status).toBe('error');
  });

  it('the read-back refuses a report of another task, decision or head', () => {
    const report = {
      gate: 'security',
      verdict: 'pass',
      taskId: 'task-a',
      decisionId: 'd-1',
      range: { headSha: 'a'.repeat(40) },
    } as unknown as SecurityReport;
    expect(securityReportMismatch(report, { taskId: 'task-a', headSha: 'a'.repeat(40), decisionId: 'd-1' })).toBe(
      undefined,
    );
    expect(securityReportMismatch(report, { taskId: 'task-b', headSha: 'a'.repeat(40) })).toMatch(/task task-a/);
    expect(securityReportMismatch(report, { taskId: 'task-a', headSha: 'b'.repeat(40) })).toMatch(/judged head/);
    expect(securityReportMismatch(report, { taskId: 'task-a', headSha: 'a'.repeat(40), decisionId: 'd-2' })).toMatch(
      /decision d-1/,
    );
    expect(
      securityReportMismatch({ ...report, taskId: undefined } as SecurityReport, { taskId: 'task-a', headSha: '' }),
    ).toMatch(/task \(none\)/);
  });
});

describe('hard deadline, off the main thread (invariant 11)', () => {
  const r = newRepo();
  r.git('checkout', '-q', '-b', 'task');
  // 24 MB of text every built-in rule must read: long enough that the scan outlives the deadline
  const line = `const password = "${chars(40, 3)}"; // token=${chars(30, 4)} eyJ-eyJ-\n`;
  r.commit('big', { 'data/huge.txt': line.repeat(Math.ceil(24_000_000 / line.length)) });

  it('the gate timeout kills the scan; the event loop keeps ticking meanwhile', { timeout: 120_000 }, async () => {
    const reportDir = tempDir('conveyor-decide-reports-');
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 5);
    const gate = createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditEnabled: false,
      securityTimeoutMs: 400,
    });
    const out = await gate.run(ctx('t', r.dir, reportDir));
    clearInterval(timer);
    expect(out.status).toBe('error');
    expect(out.summary).toMatch(/deadline of 400 ms/);
    expect(ticks).toBeGreaterThan(10);
  });

  it("the gate's AbortSignal kills the scan", { timeout: 120_000 }, async () => {
    const reportDir = tempDir('conveyor-decide-reports-');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const gate = createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditEnabled: false,
    });
    const out = await gate.run(ctx('t', r.dir, reportDir, { signal: abort.signal }));
    expect(out.status).toBe('error');
    expect(out.summary).toMatch(/aborted/);
  });
});

describe('redaction everywhere (invariant 4)', () => {
  it("a secret in a commit message is in no other finding's Message, in no format", { timeout: 120_000 }, async () => {
    const r = newRepo();
    r.git('checkout', '-q', '-b', 'task');
    r.write('src/a.ts', `export const t = "${OTHER}";\n`);
    r.git('add', '-A');
    r.git('commit', '-q', '-m', `add client\n\nthe deploy token is ${TOKEN}`);
    const outcome = await runSecurityScan({
      repoDir: r.dir,
      range: 'main..task',
      settings: securitySettingsSchema.parse({ securityDepAuditEnabled: false }),
    });
    expect(outcome.report.verdict).toBe('fail');
    expect(outcome.secrets.map((f) => f.RuleID).sort()).toEqual(['github-pat', 'gitlab-pat']);
    for (const f of outcome.secrets) expect(f.Message).toContain('the deploy token is ghp_…');
    for (const format of ['json', 'sarif', 'markdown'] as const) {
      const text = formatSecurityOutcome(outcome, format);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(OTHER);
    }
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    expect(JSON.stringify(outcome)).not.toContain(OTHER);
    const lines: string[] = [];
    const logger: Logger = {
      debug: (m, f) => lines.push(m + JSON.stringify(f)),
      info: (m, f) => lines.push(m + JSON.stringify(f)),
      warn: (m, f) => lines.push(m + JSON.stringify(f)),
      error: (m, f) => lines.push(m + JSON.stringify(f)),
      child: () => logger,
    };
    const reportDir = tempDir('conveyor-decide-reports-');
    const gate = createSecurityGate({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditEnabled: false,
    });
    const out = await gate.run(ctx('t', r.dir, reportDir, { logger }));
    const everything = JSON.stringify(out) + lines.join('\n') + readFileSync(out.reportPath as string, 'utf8');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(OTHER);
  });
});

describe('confined config loading (no content in errors)', () => {
  it('resolves [extend] paths only inside the tree', () => {
    expect(confinedTreePath('base.toml', 'config/.gitleaks.toml')).toEqual({ ok: true, value: 'config/base.toml' });
    expect(confinedTreePath('./a/b.toml', undefined)).toEqual({ ok: true, value: 'a/b.toml' });
    for (const bad of ['/proc/self/environ', '../x.toml', 'a/../../x', 'C:\\x.toml', '', 'a\\..\\..\\x']) {
      expect(confinedTreePath(bad, 'config/.gitleaks.toml').ok, bad).toBe(false);
    }
  });

  it('a TOML or regex error names file and field and quotes no content', async () => {
    const secret = `sk_live_${chars(30, 9)}`;
    const toml = await parseSecretsConfig(`title = "${secret}\n[[rules]\n`, 'cfg.toml');
    expect(toml.ok).toBe(false);
    if (!toml.ok) {
      expect(toml.error.message).toMatch(/cfg\.toml: TOML: not a valid TOML document at line \d+, column \d+/);
      expect(toml.error.message).not.toContain(secret);
    }
    const regex = await parseSecretsConfig(`[[rules]]\nid = "r"\nregex = "(${secret}"\n`, 'cfg.toml');
    expect(regex.ok).toBe(false);
    if (!regex.ok) {
      expect(regex.error.message).toContain("field 'regex'");
      expect(regex.error.message).not.toContain(secret);
    }
    const extend = await parseSecretsConfig('[extend]\npath = "/proc/self/environ"\n', 'cfg.toml');
    expect(!extend.ok && extend.error.message).toContain("field 'extend.path'");
  });
});
