import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSecretsConfig, type SecretFinding, scanText } from '../src/index.js';
import { createDecoder, type EncodedSegment } from '../src/security/decode.js';

// gitleaks' own expectations for decoding and composite rules, read from its
// detect/detect_test.go and testdata/config/ in a local mirror of
// gitleaks/gitleaks at test time (facts, not code). Without the mirror these
// cases are skipped: the hand-written cases in security-decode.test.ts and
// security-composite.test.ts always run.
const MIRROR = process.env.GITLEAKS_MIRROR ?? '/work/.mirror/gitleaks+gitleaks/repo';
const haveMirror = existsSync(MIRROR);
if (!haveMirror) console.warn(`gitleaks mirror not found at ${MIRROR}: gitleaks' detect cases are skipped`);

const show = (path: string): string =>
  execFileSync('git', ['--git-dir', MIRROR, 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 64 << 20 });

/** A Go backtick constant or variable of the test file. */
function goRawString(src: string, name: string): string {
  const m = new RegExp(`(?:const|var) ${name} = \`([^\`]*)\``).exec(src);
  if (!m) throw new Error(`${name} not found in detect_test.go`);
  return m[1] as string;
}

type GoValue = string | number | string[];

function goValue(v: string): GoValue {
  if (v.startsWith('"')) return JSON.parse(v) as string;
  if (v.startsWith('`')) return v.slice(1, -1);
  if (v.startsWith('[]string{')) {
    const inner = v.slice('[]string{'.length, -1).trim();
    return inner === '' ? [] : (JSON.parse(`[${inner}]`) as string[]);
  }
  return Number(v);
}

interface Expected {
  RuleID: string;
  Secret: string;
  Match: string;
  Tags: string[];
  StartLine: number;
  EndLine: number;
  StartColumn: number;
  EndColumn: number;
  Entropy: number;
}

/** The `expectedFindings` of one named case of TestDetect. */
function expectedFindings(src: string, caseName: string): Expected[] {
  const at = src.indexOf(`"${caseName}": {`);
  if (at < 0) throw new Error(`case ${caseName} not found`);
  const listAt = src.indexOf('expectedFindings: []report.Finding{', at);
  let i = src.indexOf('{', listAt + 'expectedFindings: []report.Finding'.length) + 1;
  const out: Expected[] = [];
  // each entry is a brace block at depth 1; fields are one per line
  for (;;) {
    while (/\s/.test(src[i] as string)) i += 1;
    if (src[i] === '}') break;
    if (src[i] !== '{') throw new Error(`unexpected ${src[i]} in ${caseName}`);
    const end = src.indexOf('\n\t\t\t\t},', i);
    const body = src.slice(i, end);
    const fields: Record<string, GoValue> = {};
    for (const line of body.split('\n').slice(1)) {
      const m = /^\s*(\w+):\s+(.*),\s*(?:\/\/.*)?$/.exec(line);
      if (m) fields[m[1] as string] = goValue((m[2] as string).trim());
    }
    out.push(fields as unknown as Expected);
    i = end + '\n\t\t\t\t},'.length;
  }
  return out;
}

/**
 * gitleaks' test fragments start at its line 0 (ours start at 1), and its
 * column arithmetic counts the newline before a line, so on any line but the
 * first its columns are one more than the character's 1-based column.
 */
function asGitleaksReports(f: SecretFinding) {
  return {
    RuleID: f.RuleID,
    Secret: f.Secret,
    Match: f.Match,
    Tags: f.Tags,
    StartLine: f.StartLine - 1,
    EndLine: f.EndLine - 1,
    StartColumn: f.StartColumn + (f.StartLine > 1 ? 1 : 0),
    EndColumn: f.EndColumn + (f.EndLine > 1 ? 1 : 0),
    Entropy: f.Entropy,
  };
}

const key = (f: { RuleID: string; StartLine: number; StartColumn: number; Secret: string }) =>
  `${f.StartLine}:${f.StartColumn}:${f.RuleID}:${f.Secret}`;

const goLiteral = (v: string): string => (v.startsWith('`') ? v.slice(1, -1) : (JSON.parse(v) as string));

/** Go's url.PathEscape: unreserved characters and `$&+:=@` stay, everything else is %XX (UTF-8 bytes). */
function goPathEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~$&+:=@]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes until a pass finds nothing more (gitleaks' fullDecode in decoder_test.go). */
function fullDecode(text: string): string {
  const decoder = createDecoder();
  let data = text;
  let segments: EncodedSegment[] = [];
  for (;;) {
    const next = decoder.next(data, segments);
    if (next.segments.length === 0) return data;
    data = next.text;
    segments = next.segments;
  }
}

describe.skipIf(!haveMirror)("gitleaks' decoder cases (detect/codec/decoder_test.go)", () => {
  const src = haveMirror ? show('detect/codec/decoder_test.go') : '';
  const lit = '(`[^`]*`|"(?:[^"\\\\]|\\\\.)*")';
  const re = new RegExp(`name:\\s+"([^"]*)",\\s*chunk:\\s+${lit},\\s*expected:\\s+${lit},`, 'g');
  const cases = [...src.matchAll(re)].map((m) => ({
    name: m[1] as string,
    chunk: goLiteral(m[2] as string),
    expected: goLiteral(m[3] as string),
  }));

  it('reads the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s: as is, percent-encoded and hex-encoded', (_n, c) => {
    expect(fullDecode(c.chunk)).toBe(c.expected);
    expect(fullDecode(goPathEscape(c.chunk))).toBe(c.expected);
    expect(fullDecode(Buffer.from(c.chunk, 'utf8').toString('hex'))).toBe(c.expected);
  });
});

describe.skipIf(!haveMirror)("gitleaks' detect cases (read from the gitleaks mirror)", () => {
  it('the maxDecodeDepth TestDetect uses is what our run below uses', () => {
    expect(/const maxDecodeDepth = (\d+)/.exec(show('detect/detect_test.go'))?.[1]).toBe('8');
  });

  it('"detect encoded": every finding gitleaks expects, at the same place with the same tags', async () => {
    const src = show('detect/detect_test.go');
    const cfg = await parseSecretsConfig(show('testdata/config/encoded.toml'), 'encoded.toml');
    if (!cfg.ok) throw cfg.error;
    const raw = goRawString(src, 'encodedTestValues');
    const ours = scanText(cfg.value, raw, { file: 'tmp.go' }, { maxDecodeDepth: 8 }).map(asGitleaksReports);
    const theirs = expectedFindings(src, 'detect encoded').map((e) => ({
      RuleID: e.RuleID,
      Secret: e.Secret,
      Match: e.Match,
      Tags: e.Tags,
      StartLine: e.StartLine,
      EndLine: e.EndLine,
      StartColumn: e.StartColumn,
      EndColumn: e.EndColumn,
      Entropy: e.Entropy,
    }));
    expect(theirs.length).toBeGreaterThan(10);
    const sort = <T extends Parameters<typeof key>[0]>(xs: T[]) => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const a = sort(ours);
    const b = sort(theirs);
    // gitleaks reports a float32 entropy, ours is rounded to 4 decimals
    expect(a.map(({ Entropy: _, ...f }) => f)).toEqual(b.map(({ Entropy: _, ...f }) => f));
    for (const [i, f] of a.entries()) expect(f.Entropy).toBeCloseTo((b[i] as Expected).Entropy, 3);
  });

  it('"fragment level composite": the primary finding only, the skipReport component never', async () => {
    const src = show('detect/detect_test.go');
    const cfg = await parseSecretsConfig(show('testdata/config/composite.toml'), 'composite.toml');
    if (!cfg.ok) throw cfg.error;
    const ours = scanText(cfg.value, goRawString(src, 'multili')).map(asGitleaksReports);
    const theirs = expectedFindings(src, 'fragment level composite');
    expect(ours.map((f) => [f.RuleID, f.Secret, f.StartLine, f.StartColumn, f.EndColumn])).toEqual(
      theirs.map((e) => [e.RuleID, e.Secret, e.StartLine, e.StartColumn, e.EndColumn]),
    );
    // its component, found only as a component: `Required: username-rule:1:admin`
    const aux = /expectedAuxOutput: "Required:\s+([\w-]+):(\d+):(\w+)\\n"/.exec(src);
    expect(aux?.[1]).toBe('username-rule');
    const far = scanText(cfg.value, 'password = "secret123"');
    expect(far).toHaveLength(0);
  });
});
