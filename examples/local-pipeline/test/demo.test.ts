import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, runDemo, summarize } from '../src/demo.js';

describe('the local end-to-end pipeline (npm run demo)', () => {
  let result: DemoResult;
  const printed: string[] = [];

  beforeAll(async () => {
    result = await runDemo({ print: (line) => printed.push(line), keep: true, timeoutMs: 110_000 });
  }, 120_000);

  afterAll(() => {
    if (result) execFileSync('rm', ['-rf', result.dir]);
  });

  it('ends done with the feature and the teammate change on main', () => {
    expect(result.task.snapshot.stage).toBe('done');
    expect(result.task.snapshot.status).toBe('done');
    expect(result.mainFiles).toContain('src/farewell.js');
    expect(result.mainFiles).toContain('test/readme.test.js');
    expect(result.mainFiles).not.toContain('src/notify.js');
  });

  it('never lets the leaked token reach any commit reachable from main', () => {
    const reachable = execFileSync('git', ['log', '-p', '--no-color', 'main'], {
      cwd: result.origin,
      encoding: 'utf8',
    });
    expect(reachable).not.toContain(result.leakedToken);
    expect(reachable).toContain('farewell');
  });

  it('shows the rollback and the retry in the task history', () => {
    const moves = result.history.map((h) => `${h.fromStage}->${h.toStage}:${h.cause}`);
    const rollback = moves.indexOf('deploy-staging->development:gates.decided');
    expect(rollback).toBeGreaterThan(0);
    expect(moves.slice(rollback + 1)).toContain('development->deploy-staging:gates.decided');
    expect(moves.at(-1)).toBe('deploy->done:gates.decided');
    const rolledBack = result.history[rollback];
    expect(rolledBack?.verdictSummary).toMatch(/security/);
    expect(result.task.snapshot.developerRetries).toBe(1);
  });

  it('rebased onto the moved main and merged through the merge gate', () => {
    expect(result.mainMovedTo).toBeDefined();
    const gates = result.verdicts.map((v) => `${v.gate}:${v.status}`);
    expect(gates).toEqual(['security:fail', 'security:pass', 'merge:pass']);
    const firstParents = execFileSync('git', ['log', '--first-parent', '--format=%s', 'main'], {
      cwd: result.origin,
      encoding: 'utf8',
    });
    expect(firstParents).toContain('Document greet() and test the README');
  });

  it('leaves no lease held and never prints the token', () => {
    expect(result.leases).toEqual([]);
    expect(printed.join('\n')).not.toContain(result.leakedToken);
    expect(printed.join('\n')).toContain('github-pat');
    expect(summarize(result).ok).toBe(true);
  });
});
