import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_FILES, DEMO_MODEL_KEY } from '../src/claude-agent.js';
import { DEMO_PARTS, type DemoResult, demoChecks, runDemo, summarize } from '../src/demo.js';

// One full run (every part, English card) and one `--only card --locale ru` run.
describe('npm run demo: the whole story in one run', () => {
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({ print: () => undefined, keep: true, timeoutMs: 170_000 });
  }, 180_000);

  afterAll(() => {
    if (result) rmSync(result.dir, { recursive: true, force: true });
  });

  it('runs every part and every task ends done with no lease held', () => {
    expect(result.parts).toEqual(DEMO_PARTS);
    expect(Object.keys(result.tasks).sort()).toEqual([
      'DEMO-1',
      'DEMO-2',
      'DEMO-3',
      'DEMO-4',
      'DEMO-5',
      'DEMO-6',
      'DEMO-7',
      'DEMO-8',
    ]);
    for (const entry of Object.values(result.tasks)) expect(entry.task.snapshot.status).toBe('done');
    expect(result.leases).toEqual([]);
  });

  for (const part of [...DEMO_PARTS, 'all'] as const) {
    it(`every end-of-run check of the ${part} part holds`, () => {
      const checks = demoChecks(result).filter((c) => c.part === part);
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.filter((c) => !c.ok).map((c) => c.label)).toEqual([]);
    });
  }

  it('the gates ran in the host’s order on deploy-staging -> deploy: security, staging, merge, freshness', () => {
    const clean = result.tasks['DEMO-5'];
    const passes = (clean?.verdicts ?? []).filter((v) => v.edge === 'deploy-staging->deploy' && v.status === 'pass');
    expect(passes.slice(-4).map((v) => v.gate)).toEqual(['security', 'staging', 'merge', 'freshness']);
  });

  it('never lets the leaked token reach any commit reachable from main, nor the output', () => {
    const reachable = execFileSync('git', ['log', '-p', '--no-color', 'main'], {
      cwd: result.origin,
      encoding: 'utf8',
    });
    expect(reachable).not.toContain(result.leakedToken);
    expect(reachable).toContain('farewell');
    expect(result.printed.join('\n')).not.toContain(result.leakedToken);
    expect(result.printed.join('\n')).toContain('github-pat');
    expect(result.mainMovedTo).toBeDefined();
  });

  it('the reaped job and the replayed approval are in the store, as the checks say', () => {
    const reaped = result.tasks['DEMO-6']?.jobs.filter((j) => j.stage === 'analysis' && j.kind === 'agent') ?? [];
    expect(reaped.map((j) => `${j.attempt}:${j.status}`)).toEqual(['1:failed', '2:succeeded']);
    const replayed = result.tasks['DEMO-7']?.history.map((h) => h.cause) ?? [];
    expect(replayed).toContain('tracker.status_changed');
  });

  it("DEMO-8's developer was the real Claude Code CLI: its transcript, the runner's commit, the files on main", () => {
    const development =
      result.tasks['DEMO-8']?.jobs.filter((j) => j.stage === 'development' && j.kind === 'agent') ?? [];
    expect(development.map((j) => j.status)).toEqual(['succeeded']);
    expect(development[0]?.reason).toContain('Added hello(name)');
    expect(result.agent.transcriptBytes).toBeGreaterThan(0);
    const transcript = readFileSync(join(result.dir, 'agent-transcripts', `${development[0]?.id}.jsonl`), 'utf8');
    expect(transcript).toContain('src/hello.js');
    expect(transcript).not.toContain(DEMO_MODEL_KEY);
    expect(result.agent.commitAuthor).toBe('Claude Code (demo)');
    expect(result.agent.mainCommitAuthor).toBe('Claude Code (demo)');
    for (const [file, text] of Object.entries(AGENT_FILES)) {
      expect(result.mainFiles).toContain(file);
      expect(execFileSync('git', ['show', `main:${file}`], { cwd: result.origin, encoding: 'utf8' })).toBe(text);
    }
    expect(result.printed.join('\n')).toContain('[claude-code] succeeded');
    expect(result.printed.join('\n')).not.toContain(DEMO_MODEL_KEY);
  });

  it('the summary passes and the card is in English by default', () => {
    expect(summarize(result).ok).toBe(true);
    expect(result.locale).toBe('en');
    expect(result.cards.visible.every((c) => c.text.includes('Status'))).toBe(true);
  });
});

describe('npm run demo -- --only card --locale ru', () => {
  let result: DemoResult;

  beforeAll(async () => {
    result = await runDemo({ parts: ['card'], locale: 'ru', print: () => undefined, timeoutMs: 110_000 });
  }, 120_000);

  it('runs only the card part, with Russian labels in bump mode', () => {
    expect(Object.keys(result.tasks)).toEqual(['DEMO-5']);
    expect(demoChecks(result).filter((c) => !c.ok)).toEqual([]);
    expect(result.cards.visible).toHaveLength(1);
    expect(result.cards.visible[0]?.text).toContain('Статус');
    expect(result.cards.visible[0]?.text).not.toContain('Status');
    expect(result.cards.deleted).toBeGreaterThan(0);
  });
});
