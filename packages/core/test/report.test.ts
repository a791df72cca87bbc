import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type GateOutcome, readReport, verdictFromReport, writeReport } from '../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-report-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SecurityReport = z.object({
  verdict: z.enum(['pass', 'fail']),
  findings: z.number().int().min(0),
  scanned: z.array(z.string()).default([]),
});

const decide = (fm: z.output<typeof SecurityReport>): GateOutcome =>
  fm.verdict === 'pass'
    ? { status: 'pass', summary: 'no secrets' }
    : { status: 'fail', summary: `${fm.findings} findings` };

let n = 0;
function file(content?: string): string {
  n += 1;
  const p = path.join(dir, `r${n}.md`);
  if (content !== undefined) fs.writeFileSync(p, content);
  return p;
}

describe('writeReport / readReport', () => {
  it('writes frontmatter + body (creating folders) and reads back exactly what was written', async () => {
    const p = path.join(dir, 'nested', 'deeper', 'security.md');
    const body = '# Security\n\nclean: 3 files\n';
    const written = await writeReport(
      p,
      { frontmatter: { verdict: 'pass', findings: 0, scanned: ['a.ts', 'b.ts'] }, body },
      SecurityReport,
    );
    expect(written.ok).toBe(true);
    expect(fs.readFileSync(p, 'utf8')).toBe(
      '---\nverdict: pass\nfindings: 0\nscanned:\n  - a.ts\n  - b.ts\n---\n# Security\n\nclean: 3 files\n',
    );
    const read = await readReport(p, SecurityReport);
    expect(read.ok && read.value).toEqual({
      frontmatter: { verdict: 'pass', findings: 0, scanned: ['a.ts', 'b.ts'] },
      body,
    });
    expect(fs.readdirSync(path.dirname(p))).toEqual(['security.md']);
  });

  it('writes schema defaults and overwrites atomically, leaving no temp file', async () => {
    const p = file();
    expect(
      (await writeReport(p, { frontmatter: { verdict: 'fail', findings: 2 }, body: 'old' }, SecurityReport)).ok,
    ).toBe(true);
    expect(
      (await writeReport(p, { frontmatter: { verdict: 'pass', findings: 0 }, body: 'new' }, SecurityReport)).ok,
    ).toBe(true);
    const read = await readReport(p, SecurityReport);
    expect(read.ok && read.value).toEqual({ frontmatter: { verdict: 'pass', findings: 0, scanned: [] }, body: 'new' });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to write a frontmatter that does not match its schema, and writes nothing', async () => {
    const p = file();
    const written = await writeReport(
      p,
      { frontmatter: { verdict: 'maybe', findings: -1 } as never, body: '' },
      SecurityReport,
    );
    expect(written.ok).toBe(false);
    expect(!written.ok && written.error.code).toBe('invalid_input');
    expect(!written.ok && written.error.message).toContain('verdict:');
    expect(!written.ok && written.error.message).toContain('findings:');
    expect(fs.existsSync(p)).toBe(false);
  });

  it('reports a write failure as an error (the parent is a file)', async () => {
    const blocker = file('i am a file');
    const written = await writeReport(
      path.join(blocker, 'x.md'),
      { frontmatter: { verdict: 'pass', findings: 0 }, body: '' },
      SecurityReport,
    );
    expect(written.ok).toBe(false);
    expect(!written.ok && written.error.message).toContain('cannot write');
  });

  it('accepts CRLF line endings and a BOM', async () => {
    const p = file('\uFEFF---\r\nverdict: pass\r\nfindings: 0\r\n---\r\nbody\r\n');
    const read = await readReport(p, SecurityReport);
    expect(read.ok && read.value.frontmatter).toEqual({ verdict: 'pass', findings: 0, scanned: [] });
  });
});

describe('fail-closed: every unreadable report is a failing verdict naming the cause', () => {
  const cases: [string, string | undefined, string, string][] = [
    ['missing file', undefined, 'not_found', 'the report is missing'],
    ['empty file', '', 'corrupt', 'the report has no YAML frontmatter'],
    ['no frontmatter', '# Security\nverdict: pass\n', 'corrupt', 'the report has no YAML frontmatter'],
    [
      'frontmatter not at the top',
      '\n---\nverdict: pass\nfindings: 0\n---\n',
      'corrupt',
      'the report has no YAML frontmatter',
    ],
    ['unterminated frontmatter', '---\nverdict: pass\nfindings: 0\n', 'corrupt', 'not terminated'],
    ['invalid YAML', '---\nverdict: [pass\nfindings: 0\n---\n', 'corrupt', 'not valid YAML'],
    ['duplicate keys', '---\nverdict: fail\nverdict: pass\nfindings: 0\n---\n', 'corrupt', 'not valid YAML'],
    ['a YAML list, not a mapping', '---\n- pass\n---\n', 'corrupt', 'not a YAML mapping'],
    ['an empty frontmatter', '---\n---\nbody', 'corrupt', 'not a YAML mapping'],
    ['a scalar frontmatter', '---\npass\n---\n', 'corrupt', 'not a YAML mapping'],
    ['schema mismatch', '---\nverdict: pass\nfindings: "0"\n---\n', 'corrupt', 'does not match its schema: findings'],
    ['a missing field', '---\nverdict: pass\n---\n', 'corrupt', 'does not match its schema: findings'],
    [
      'an unknown verdict value',
      '---\nverdict: PASS\nfindings: 0\n---\n',
      'corrupt',
      'does not match its schema: verdict',
    ],
  ];

  it.each(cases)('%s', async (_name, content, code, cause) => {
    const p = file(content);
    const read = await readReport(p, SecurityReport);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.error.code).toBe(code);
    expect(!read.ok && read.error.message).toContain(cause);
    expect(!read.ok && read.error.message).toContain(p);

    let decided = false;
    const outcome = await verdictFromReport(p, SecurityReport, (fm) => {
      decided = true;
      return decide(fm);
    });
    expect(decided).toBe(false);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(cause);
    expect(outcome.reportPath).toBe(p);
  });

  it('a directory where the report should be is a fail', async () => {
    const outcome = await verdictFromReport(dir, SecurityReport, decide);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('cannot read the report');
  });

  it('an invalid YAML error does not quote the report content', async () => {
    const p = file('---\ntoken: "sk_live_do_not_echo\nverdict: pass\n---\n');
    const outcome = await verdictFromReport(p, SecurityReport, decide);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).not.toContain('sk_live_do_not_echo');
  });

  it('a throwing decide is a fail naming it', async () => {
    const p = file('---\nverdict: pass\nfindings: 0\n---\n');
    const outcome = await verdictFromReport(p, SecurityReport, () => {
      throw new Error('bug in decide');
    });
    expect(outcome).toEqual({
      status: 'fail',
      summary: `report ${p}: deciding from the frontmatter failed: bug in decide`,
      reportPath: p,
    });
  });
});

describe('verdictFromReport: the read-back is the verdict', () => {
  it('pass and fail come from the frontmatter, with the report path', async () => {
    const good = file();
    await writeReport(good, { frontmatter: { verdict: 'pass', findings: 0 }, body: 'ok' }, SecurityReport);
    expect(await verdictFromReport(good, SecurityReport, decide)).toEqual({
      status: 'pass',
      summary: 'no secrets',
      reportPath: good,
    });
    const bad = file();
    await writeReport(bad, { frontmatter: { verdict: 'fail', findings: 3 }, body: 'bad' }, SecurityReport);
    expect(await verdictFromReport(bad, SecurityReport, decide)).toEqual({
      status: 'fail',
      summary: '3 findings',
      reportPath: bad,
    });
  });

  it('a report edited after writing decides by what is on disk', async () => {
    const p = file();
    await writeReport(p, { frontmatter: { verdict: 'pass', findings: 0 }, body: '' }, SecurityReport);
    fs.writeFileSync(
      p,
      fs.readFileSync(p, 'utf8').replace('verdict: pass', 'verdict: fail').replace('findings: 0', 'findings: 1'),
    );
    expect((await verdictFromReport(p, SecurityReport, decide)).status).toBe('fail');
  });
});
