import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSecretsConfig } from '../src/security/config.js';
import { DEFAULT_SECRETS_CONFIG, loadSecretsConfig, resolveSecurityRange, scanSecrets } from '../src/security/index.js';
import { scanTextFragments, type TextFacts } from '../src/security/scanner.js';
import type { SecretFinding } from '../src/security/types.js';
import { type ImportedCommit, importCommits, TempRepo } from './fixtures/security/git-repo.js';
import { gitleaksConfigText } from './fixtures/security/gitleaks-mirror.js';
import { chars, seededRandom, TRUE_POSITIVES } from './fixtures/security/samples.js';

// A new version of a file the history scan read is scanned around the lines
// it changed: a match that touches no changed line lies in text the parent
// version holds. These tests hold that scan to the whole-blob scan (option
// `wholeBlobs`) on random histories written to straddle the edges of the
// changes (keywords above an added value, a deletion that joins two lines,
// a private key finished far below its header, encoded text, U+017F in a
// keyword), and attack it with the edits a branch would make to slip a
// secret past it.

const repos: TempRepo[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
});

function repo(): { r: TempRepo; base: string } {
  const r = new TempRepo('conveyor-around-');
  repos.push(r);
  r.commit('base', { 'README.md': '# base\n' });
  return { r, base: r.git('rev-parse', 'HEAD') };
}

async function scan(
  r: TempRepo,
  base: string,
  head: string,
  extra: { configPath?: string; maxDecodeDepth?: number; wholeBlobs?: boolean; honourInlineAllow?: boolean } = {},
): Promise<SecretFinding[]> {
  const range = await resolveSecurityRange(r.dir, `${base}..${head}`);
  if (!range.ok) throw range.error;
  const result = await scanSecrets({ repoDir: r.dir, range: range.value, ...extra });
  if (!result.ok) throw result.error;
  return [...result.value.findings];
}

const pem = (seed: number) =>
  [
    '-----BEGIN RSA PRIVATE KEY-----',
    ...Array.from({ length: 4 }, (_, i) => chars(64, seed * 10 + i)),
    '-----END RSA PRIVATE KEY-----',
  ].join('\n');

/** Lines a random history is made of: plain code, keywords, values, samples, parts of keys, encoded text. */
function lineMaker(pick: (n: number) => number): () => string {
  const kinds: (() => string)[] = [
    () => `const v${pick(100)} = compute(${pick(1000)});`,
    () => '',
    () => '// a comment about nothing',
    () => 'api_key =',
    () => 'password:',
    () => `"${chars(24, pick(5000))}"`,
    () => `token = "${chars(20 + pick(20), pick(5000))}"`,
    () => (TRUE_POSITIVES[pick(TRUE_POSITIVES.length)] as readonly [string, string, string])[1],
    () => '-----BEGIN RSA PRIVATE KEY-----',
    () => chars(64, pick(5000)),
    () => '-----END RSA PRIVATE KEY-----',
    () => Buffer.from(`ghp_${chars(36, pick(5000))}`).toString('base64'),
    () => `escape U+00${(pick(200) + 16).toString(16).padStart(2, '0')}`,
    () => `\u017fecret_${chars(12, pick(5000)).toLowerCase()}`,
    () => 'secret_ mentioned here',
    () => `curl -u admin:${chars(12, pick(5000))} https://example.invalid`,
    () => `url = "https://example.invalid/?q=%74%6f%6b%65%6e%3d${chars(8, pick(5000))}"`,
    () => `export GITHUB_TOKEN=ghp_${chars(36, pick(5000))}`,
    () => 'key = "value" # gitleaks:allow',
  ];
  return () => (kinds[pick(kinds.length)] as () => string)();
}

/** A history of `commits` commits over a few files, each commit inserting, deleting, changing or appending lines. */
function randomHistory(seed: number, commits: number): ImportedCommit[] {
  const pick = seededRandom(seed);
  const line = lineMaker(pick);
  const paths = ['a/config.env', 'b/app.ts', 'c/keys.pem', 'd/notes.md', 'e/data.yaml'];
  const files = new Map(paths.map((p) => [p, Array.from({ length: 10 + pick(40) }, line)]));
  const out: ImportedCommit[] = [];
  for (let c = 0; c < commits; c += 1) {
    const written: [string, string][] = [];
    for (const p of new Set([paths[pick(paths.length)] as string, paths[pick(paths.length)] as string])) {
      const lines = files.get(p) as string[];
      const edits = 1 + pick(3);
      for (let e = 0; e < edits; e += 1) {
        const at = pick(lines.length + 1);
        const kind = pick(6);
        if (kind === 0) lines.splice(at, 0, line());
        else if (kind === 1) lines.splice(at, 1 + pick(3));
        else if (kind === 2 && at < lines.length) lines[at] = `${lines[at]}${line()}`;
        else if (kind === 3) lines.push(...Array.from({ length: 1 + pick(4) }, line));
        else if (kind === 4)
          lines.splice(
            at,
            0,
            ...pem(pick(1000))
              .split('\n')
              .slice(0, 1 + pick(6)),
          );
        else lines.splice(at, 0, line(), line());
      }
      // some versions end without a newline, some with a blank line
      const ending = ['\n', '', '\n\n'][pick(3)] as string;
      written.push([p, `${lines.join('\n')}${ending}`]);
    }
    out.push({ files: written });
  }
  return out;
}

const CUSTOM_TOML = `
[[rules]]
id = "generic-multiline"
description = "a keyword, then a value on a later line"
regex = '''(?i)(?:api_key|password)\\s{0,3}[=:]\\s{0,8}"([A-Za-z0-9]{20,})"'''
keywords = ["api_key", "password"]

[[rules]]
id = "long-s-secret"
description = "a rule whose keyword RE2 also matches with U+017F"
regex = '''(?i)secret_([a-z0-9]{12})'''
keywords = ["secret_"]

[[rules]]
id = "pem-anywhere"
description = "a private key, however long"
regex = '''-----BEGIN[ A-Z]*PRIVATE KEY-----[\\s\\S]*?-----END[ A-Z]*PRIVATE KEY-----'''
keywords = ["-----begin"]

[[rules]]
id = "not-holding"
description = "a keyword that need not be in the match"
regex = '''admin:([A-Za-z0-9]{12})'''
keywords = ["curl"]

[[rules]]
id = "no-keywords"
description = "runs on every text"
regex = '''ghp_[A-Za-z0-9]{36}'''
`;

describe('the history scan around the changed lines of a file it read before', () => {
  const cases: [string, () => string | undefined][] = [
    ['the built-in rules', () => undefined],
    ['a configuration of every kind of rule', () => CUSTOM_TOML],
    ["gitleaks' default configuration", gitleaksConfigText],
  ];
  for (const [name, text] of cases) {
    const toml = text();
    it.skipIf(toml === undefined && name.startsWith('gitleaks'))(
      `finds what the whole-blob scan finds, on random histories (${name}${toml === undefined && name.startsWith('gitleaks') ? ': skipped, no gitleaks mirror (GITLEAKS_REPO)' : ''})`,
      async () => {
        const { r, base } = repo();
        let configPath: string | undefined;
        if (toml !== undefined) {
          configPath = join(r.dir, '..', `${r.dir.split('/').pop()}.toml`);
          writeFileSync(configPath, toml);
        }
        let compared = 0;
        for (const seed of [1, 2, 3]) {
          importCommits(r, `h${seed}`, base, randomHistory(seed, 90));
          const head = r.git('rev-parse', `h${seed}`);
          for (const maxDecodeDepth of [0, 3]) {
            const options = { ...(configPath ? { configPath } : {}), maxDecodeDepth };
            const around = await scan(r, base, head, options);
            const whole = await scan(r, base, head, { ...options, wholeBlobs: true });
            expect(around).toEqual(whole);
            compared += whole.length;
          }
        }
        // the histories hold findings to compare (a scan that found nothing would agree trivially)
        expect(compared).toBeGreaterThan(50);
      },
      120_000,
    );
  }
});

describe('edits a branch makes to slip a secret past the scan around its changes', () => {
  const configPath = (r: TempRepo) => {
    const p = join(r.dir, '..', `${r.dir.split('/').pop()}-custom.toml`);
    writeFileSync(p, CUSTOM_TOML);
    return p;
  };
  const secret = chars(24, 77);
  // lines that keep each change a small part of its file (a change over most of a file is read whole)
  const pad = `${Array.from({ length: 80 }, (_, i) => `// line ${i}`).join('\n')}\n`;

  it('a copy of a file at a path where an allowlist changes what its scan learnt', async () => {
    // at docs/ the specific rule is allowlisted, so nothing hides the generic match there; at src/ the
    // specific match hides it. The branch writes both copies at once (one blob), then breaks the specific
    // match at src/: the generic value below the change is new there, and must be found
    const { r, base } = repo();
    const cfg = join(r.dir, '..', `${r.dir.split('/').pop()}-paths.toml`);
    writeFileSync(
      cfg,
      [
        '[[rules]]',
        'id = "spec-block"',
        'description = "a marker line, then the value"',
        `regex = '''BEGINSPEC\\nsecret = "([a-z0-9]{20})"'''`,
        'keywords = ["beginspec"]',
        '[[rules.allowlists]]',
        `paths = ['''^docs/''']`,
        '',
        '[[rules]]',
        'id = "generic-secret"',
        'description = "a value after secret ="',
        `regex = '''secret = "([a-z0-9]{20})"'''`,
        'keywords = ["secret"]',
        'tags = ["generic"]',
        '',
      ].join('\n'),
    );
    const value = chars(20, 31).toLowerCase();
    const text = (marker: string) => `${pad}${marker}\nsecret = "${value}"\n${pad}`;
    r.commit('two copies', { 'docs/a.txt': text('BEGINSPEC'), 'src/a.txt': text('BEGINSPEC') });
    const head = r.commit('the marker goes at src/', { 'src/a.txt': text('ENDED') });
    const around = await scan(r, base, head, { configPath: cfg });
    expect(around.filter((f) => f.Commit === head).map((f) => [f.RuleID, f.File, f.Secret])).toEqual([
      ['generic-secret', 'src/a.txt', value],
    ]);
    expect(around).toEqual(await scan(r, base, head, { configPath: cfg, wholeBlobs: true }));
  });

  it('a deletion that joins a keyword to a value below it', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    r.commit('value parked under a comment', {
      'app.env': `${pad}top = 1\napi_key =\n# parked\n# parked\n"${secret}"\nend = 2\n${pad}`,
    });
    const head = r.commit('the comments go', { 'app.env': `${pad}top = 1\napi_key =\n"${secret}"\nend = 2\n${pad}` });
    const found = await scan(r, base, head, { configPath: cfg });
    expect(found.map((f) => [f.RuleID, f.Secret, f.Commit])).toEqual([['generic-multiline', secret, head]]);
  });

  it('a value added below a keyword the parent already held', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    r.commit('a keyword', { 'app.env': `${pad}a = 1\npassword:\n` });
    const head = r.commit('its value', { 'app.env': `${pad}a = 1\npassword:\n\n  "${secret}"\n` });
    const found = await scan(r, base, head, { configPath: cfg });
    expect(found.map((f) => [f.RuleID, f.Secret, f.Commit])).toEqual([['generic-multiline', secret, head]]);
  });

  it('a header broken far above a private key that the parent matched from that header', async () => {
    // the parent's only match of the unbounded rule runs from the first header (a key without an end) to the
    // second key's end; breaking the first header leaves the second key a match of its own, away from the
    // change and unlike any match of the parent
    const { r, base } = repo();
    const cfg = configPath(r);
    const body = (seed: number) => Array.from({ length: 4 }, (_, i) => chars(64, seed + i)).join('\n');
    const second = `-----BEGIN RSA PRIVATE KEY-----\n${body(500)}\n-----END RSA PRIVATE KEY-----\n`;
    const text = (header: string) => `${pad}${header}\n${body(400)}\n${pad}${second}${pad}`;
    r.commit('a key without an end, then a key', { 'keys.txt': text('-----BEGIN RSA PRIVATE KEY-----') });
    const head = r.commit('the first header goes', { 'keys.txt': text('-----BEGIN RSA PUBLIC KEY-----') });
    const around = await scan(r, base, head, { configPath: cfg });
    expect(around.filter((f) => f.Commit === head).map((f) => [f.RuleID, f.Secret])).toEqual([
      ['pem-anywhere', second.trimEnd()],
    ]);
    expect(around).toEqual(await scan(r, base, head, { configPath: cfg, wholeBlobs: true }));
  });

  it('a private key finished many lines below the header the parent held', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    const body = Array.from({ length: 200 }, (_, i) => chars(64, 900 + i)).join('\n');
    r.commit('a header and a body', { 'key.pem': `-----BEGIN RSA PRIVATE KEY-----\n${body}\n` });
    const head = r.commit('the end line', {
      'key.pem': `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n`,
    });
    for (const config of [{ configPath: cfg }, {}]) {
      const found = await scan(r, base, head, config);
      expect(found.map((f) => [f.Commit, f.StartLine])).toContainEqual([head, 1]);
    }
  });

  it('a keyword written with U+017F next to a secret, the plain keyword elsewhere in the file', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    const filler = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    r.commit('the keyword far up', { 'notes.md': `secret_ policy\n${filler}\n` });
    const value = chars(12, 5).toLowerCase();
    const head = r.commit('a long-s secret', { 'notes.md': `secret_ policy\n${filler}\n\u017fecret_${value}\n` });
    const found = await scan(r, base, head, { configPath: cfg });
    expect(found.map((f) => [f.RuleID, f.Secret, f.Commit])).toEqual([['long-s-secret', value, head]]);
  });

  it('a value for a rule whose keyword lies far from its match', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    const filler = Array.from({ length: 60 }, (_, i) => `step ${i}`).join('\n');
    const pass = chars(12, 9);
    r.commit('curl named at the top', { 'run.sh': `# uses curl\n${filler}\n` });
    const head = r.commit('a password far below', { 'run.sh': `# uses curl\n${filler}\nlogin admin:${pass}\n` });
    const found = await scan(r, base, head, { configPath: cfg });
    expect(found.map((f) => [f.RuleID, f.Secret, f.Commit])).toEqual([['not-holding', pass, head]]);
  });

  it('an encoded token added to a file with nothing encoded', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    const token = `ghp_${chars(36, 10)}`;
    r.commit('plain', { 'run.sh': `${pad}echo hi\n` });
    const head = r.commit('encoded', {
      'run.sh': `${pad}echo hi\nblob = "${Buffer.from(token).toString('base64')}"\n`,
    });
    for (const config of [{ configPath: cfg }, {}]) {
      const found = await scan(r, base, head, { ...config, maxDecodeDepth: 2 });
      expect(found.map((f) => [f.Secret, f.Commit])).toContainEqual([token, head]);
    }
  });

  it('a private key whose header the parent held encoded, far above the end line added', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    const header = Buffer.from('-----BEGIN RSA PRIVATE KEY-----').toString('base64');
    // the header further up than any bounded rule reaches
    const body = Array.from({ length: 120 }, (_, i) => chars(64, 700 + i)).join('\n');
    r.commit('an encoded header and a body', { 'key.txt': `${header}\n${body}\n` });
    const head = r.commit('the end line', { 'key.txt': `${header}\n${body}\n-----END RSA PRIVATE KEY-----\n` });
    const found = await scan(r, base, head, { configPath: cfg, maxDecodeDepth: 1 });
    expect(found.map((f) => [f.RuleID, f.Commit, f.StartLine])).toEqual([['pem-anywhere', head, 1]]);
    expect(found).toEqual(await scan(r, base, head, { configPath: cfg, maxDecodeDepth: 1, wholeBlobs: true }));
  });

  it('the same key, for a rule without keywords (it runs on every decoding pass)', async () => {
    const { r, base } = repo();
    const cfg = join(r.dir, '..', `${r.dir.split('/').pop()}-keywordless.toml`);
    writeFileSync(
      cfg,
      `[[rules]]\nid = "pem-no-keywords"\nregex = '''-----BEGIN[ A-Z]*PRIVATE KEY-----[\\s\\S]*?-----END[ A-Z]*PRIVATE KEY-----'''\n`,
    );
    const header = Buffer.from('-----BEGIN RSA PRIVATE KEY-----').toString('base64');
    const body = Array.from({ length: 120 }, (_, i) => chars(64, 800 + i)).join('\n');
    r.commit('an encoded header and a body', { 'key.txt': `${header}\n${body}\n` });
    const head = r.commit('the end line', { 'key.txt': `${header}\n${body}\n-----END RSA PRIVATE KEY-----\n` });
    const found = await scan(r, base, head, { configPath: cfg, maxDecodeDepth: 1 });
    expect(found.map((f) => [f.RuleID, f.Commit, f.StartLine])).toEqual([['pem-no-keywords', head, 1]]);
  });

  it('a value added a few lines below a keyword the parent held encoded', async () => {
    const { r, base } = repo();
    const cfg = configPath(r);
    const keyword = Buffer.from('the note: api_key =').toString('base64');
    const filler = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    r.commit('an encoded keyword', { 'app.txt': `${filler}\nblob ${keyword}\n\n\n` });
    const head = r.commit('its value', { 'app.txt': `${filler}\nblob ${keyword}\n\n\n"${secret}"\n` });
    const whole = await scan(r, base, head, { configPath: cfg, maxDecodeDepth: 1, wholeBlobs: true });
    expect(whole.map((f) => [f.RuleID, f.Secret, f.Commit, f.Tags.includes('decoded:base64')])).toEqual([
      ['generic-multiline', secret, head, true],
    ]);
    expect(await scan(r, base, head, { configPath: cfg, maxDecodeDepth: 1 })).toEqual(whole);
  });

  it('a secret at the seam of an unchanged U+XXXX escape that ends the line above', async () => {
    const { r, base } = repo();
    const token = `ghp_${chars(36, 11)}`;
    r.commit('an escape at a line end', { 'a.txt': `${pad}x U+0041\ny\n` });
    const head = r.commit('a token below it', { 'a.txt': `${pad}x U+0041\nexport GITHUB_TOKEN=${token}\n` });
    const around = await scan(r, base, head);
    expect(around.map((f) => f.Secret)).toContain(token);
    expect(around).toEqual(await scan(r, base, head, { wholeBlobs: true }));
  });

  /** A configuration of the rules given (TOML), written next to the repository. */
  const rulesAt = (r: TempRepo, toml: string) => {
    const p = join(r.dir, '..', `${r.dir.split('/').pop()}-attack.toml`);
    writeFileSync(p, toml);
    return p;
  };
  /** The scan around changes, held to the whole-blob scan's answer. */
  const agreed = async (r: TempRepo, base: string, head: string, configPath: string) => {
    const around = await scan(r, base, head, { configPath });
    expect(around).toEqual(await scan(r, base, head, { configPath, wholeBlobs: true }));
    return around.map((f) => [f.RuleID, f.Secret, f.Commit, f.StartLine]);
  };
  const filler = Array.from({ length: 100 }, (_, i) => `filler line ${i}`).join('\n');

  it('an edit that frees a secret from a match the parent made of it and an allowlist let pass', async () => {
    const { r, base } = repo();
    // the parent's match runs from `alpha =` into the next line, takes `betabetabeta` as its value, and is allowed;
    // with `alpha =` gone, the search starts later on that line and finds the real value
    const cfg = rulesAt(
      r,
      `[[rules]]\nid = "kv"\nregex = '''(?:alpha|beta)\\s*=\\s*([a-z0-9]{8,20})'''\nkeywords = ["alpha", "beta"]\n[[rules.allowlists]]\nregexes = ['''^beta''']\n`,
    );
    r.commit('an allowed match', { 'f.txt': `${filler}\nalpha =\nbetabetabeta = 1234567890abc\n${filler}\n` });
    const head = r.commit('the line above changes', {
      'f.txt': `${filler}\ngamma\nbetabetabeta = 1234567890abc\n${filler}\n`,
    });
    expect(await agreed(r, base, head, cfg)).toEqual([['kv', '1234567890abc', head, 102]]);
  });

  it('a keyword added far from an old value, for a rule whose matches need not hold it', async () => {
    const { r, base } = repo();
    const cfg = rulesAt(r, `[[rules]]\nid = "gated"\nregex = '''[a-z]{3}_([0-9]{12})'''\nkeywords = ["alpha"]\n`);
    r.commit('a value, no keyword', { 'f.txt': `${filler}\nabc_123456789012\n${filler}\n` });
    const head = r.commit('the keyword at the top', { 'f.txt': `alpha\n${filler}\nabc_123456789012\n${filler}\n` });
    expect(await agreed(r, base, head, cfg)).toEqual([['gated', '123456789012', head, 102]]);
  });

  const hiding = (specific: string) =>
    `${specific}\n[[rules]]\nid = "generic-key"\nregex = '''[a-z]+_key\\s*=\\s*"([a-z0-9]{16})"'''\nkeywords = ["_key"]\ntags = ["generic"]\n`;
  const value = chars(16, 31).toLowerCase();

  it('a generic finding the parent hid behind a specific one, freed by an edit lines away', async () => {
    const { r, base } = repo();
    const cfg = rulesAt(
      r,
      hiding(
        `[[rules]]\nid = "token-block"\nregex = '''token:(?:[^\\n]*\\n){0,5}[^\\n]*?"([a-z0-9]{16})"'''\nkeywords = ["token:"]`,
      ),
    );
    const below = `a\nb\nc\nd\nmy_key = "${value}"`;
    r.commit('hidden', { 'f.txt': `${filler}\ntoken:\n${below}\n${filler}\n` });
    const head = r.commit('the block opener goes', { 'f.txt': `${filler}\nnothing\n${below}\n${filler}\n` });
    expect(await agreed(r, base, head, cfg)).toContainEqual(['generic-key', value, head, 106]);
  });

  it('the same, when the edit removes the keyword that gates the specific rule, far above', async () => {
    const { r, base } = repo();
    const cfg = rulesAt(
      r,
      hiding(`[[rules]]\nid = "gated-key"\nregex = '''my_key\\s*=\\s*"([a-z0-9]{16})"'''\nkeywords = ["curl"]`),
    );
    r.commit('hidden', { 'f.txt': `# uses curl\n${filler}\nmy_key = "${value}"\n` });
    const head = r.commit('curl goes', { 'f.txt': `# uses wget\n${filler}\nmy_key = "${value}"\n` });
    expect(await agreed(r, base, head, cfg)).toContainEqual(['generic-key', value, head, 102]);
  });
});

describe('the scanner with a changed region', () => {
  const compiled = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!compiled.ok) throw compiled.error;
  const config = compiled.value;
  const commit = { sha: 'c'.repeat(40), parents: [], author: '', email: '', date: '', message: '' };
  const tokenA = `ghp_${chars(36, 1)}`;
  const tokenB = `ghp_${chars(36, 2)}`;
  // (the lines between keep the first token out of every rule's window around the change)
  const parentText = `export GITHUB_TOKEN=${tokenA}\n${'x = 1\n'.repeat(20)}`;
  const text = `${parentText}export GITHUB_TOKEN=${tokenB}\n`;

  function parentFacts(depth: number): TextFacts {
    let facts: TextFacts | undefined;
    scanTextFragments(config, [{ commit, file: 'a.env', text: parentText }], {
      maxDecodeDepth: depth,
      onFacts: (f) => {
        facts = f;
      },
    });
    if (!facts) throw new Error('no facts');
    return facts;
  }

  it('stays around the changes when a rule without a bound of newlines matches only where the parent did', () => {
    const key = [
      '-----BEGIN RSA PRIVATE KEY-----',
      ...Array.from({ length: 4 }, (_, i) => chars(64, 40 + i)),
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    const before = `${key}\n${'x = 1\n'.repeat(20)}`;
    const after = `${before}y = 2\n`;
    let parent: TextFacts | undefined;
    expect(
      scanTextFragments(config, [{ commit, file: 'k.txt', text: before }], { onFacts: (f) => (parent = f) }).map(
        (f) => f.RuleID,
      ),
    ).toEqual(['private-key']);
    let facts: TextFacts | undefined;
    const found = scanTextFragments(
      config,
      [
        {
          commit,
          file: 'k.txt',
          text: after,
          region: {
            changed: [{ start: before.length, end: after.length - 1 }],
            parent: parent as TextFacts,
            parentText: before,
          },
        },
      ],
      { onFacts: (f) => (facts = f) },
    );
    // the key is the parent's finding, at the same place: nothing near the change, and the text was not read whole
    expect(found).toEqual([]);
    expect(facts?.touchingOnly).toBe(true);
  });

  it('lists only the findings near the changes, and says so', () => {
    const changedStart = parentText.length;
    let facts: TextFacts | undefined;
    const found = scanTextFragments(
      config,
      [
        {
          commit,
          file: 'a.env',
          text,
          region: {
            changed: [{ start: changedStart, end: text.length - 1 }],
            parent: parentFacts(0),
            parentText,
          },
        },
      ],
      { maxDecodeDepth: 0, onFacts: (f) => (facts = f) },
    );
    expect(found.map((f) => [f.Secret, f.StartLine])).toEqual([[tokenB, 22]]);
    expect(facts?.touchingOnly).toBe(true);
    // the whole text lists both
    expect(scanTextFragments(config, [{ commit, file: 'a.env', text }]).map((f) => f.Secret)).toEqual([tokenA, tokenB]);
  });

  it('reads the whole text when the parent held something decodable, or the configuration has a composite rule', async () => {
    const decodable = `${parentText}blob = "${Buffer.from(tokenA).toString('base64')}"\n`;
    let parent: TextFacts | undefined;
    scanTextFragments(config, [{ commit, file: 'a.env', text: decodable }], { onFacts: (f) => (parent = f) });
    expect(parent?.encoded).toBe(true);
    const changed = `${decodable}more = 1\n`;
    let facts: TextFacts | undefined;
    scanTextFragments(
      config,
      [
        {
          commit,
          file: 'a.env',
          text: changed,
          region: {
            changed: [{ start: decodable.length, end: changed.length - 1 }],
            parent: parent as TextFacts,
            parentText: decodable,
          },
        },
      ],
      { onFacts: (f) => (facts = f) },
    );
    expect(facts?.touchingOnly).toBe(false);

    const composite = await loadSecretsConfig({
      configPath: (() => {
        const { r } = repo();
        const p = join(r.dir, 'composite.toml');
        writeFileSync(
          p,
          `[[rules]]\nid = "part"\nregex = '''ghp_[A-Za-z0-9]{36}'''\n[[rules]]\nid = "whole"\nregex = '''GITHUB_TOKEN'''\n[[rules.required]]\nid = "part"\nwithinLines = 1\n`,
        );
        return p;
      })(),
    });
    if (!composite.ok) throw composite.error;
    let compositeFacts: TextFacts | undefined;
    scanTextFragments(composite.value, [{ commit, file: 'a.env', text: parentText }], {
      maxDecodeDepth: 0,
      onFacts: (f) => (compositeFacts = f),
    });
    let after: TextFacts | undefined;
    scanTextFragments(
      composite.value,
      [
        {
          commit,
          file: 'a.env',
          text,
          region: {
            changed: [{ start: parentText.length, end: text.length - 1 }],
            parent: compositeFacts as TextFacts,
            parentText,
          },
        },
      ],
      { maxDecodeDepth: 0, onFacts: (f) => (after = f) },
    );
    expect(after?.touchingOnly).toBe(false);
  });
});
