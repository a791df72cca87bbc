// Security gate benchmark: a real git history with thousands of commits,
// `git log -p -U0` time for the range, the built-in scanner's throughput on
// that text, the blob engine (`scanSecrets`) on the same range, secretlint
// (recommended preset) on the same text; then a per-rule adversarial scaling
// table at 1, 2, 4 and 8 MB (time per doubling must stay ≤ 2.5×), and the
// host's maximum event-loop delay while an adversarial 8 MB branch is scanned
// (worker thread; the goal is < 100 ms), against the same scan on the main
// thread. Prints figures; fails when a scan errors or a rule is superlinear.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  compileSecretsConfig,
  DEFAULT_SECRETS_CONFIG,
  MAX_MATCHES_PER_RULE_AND_BLOB,
  parsePatchLog,
  type RawSecretRule,
  readRangePatch,
  resolveSecurityRange,
  runSecurityScan,
  type SecretsConfig,
  scanFragments,
  scanSecrets,
  scanText,
  securitySettingsSchema,
} from '@conveyor/gates';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';

const COMMITS = Number(process.env.SECURITY_BENCH_COMMITS ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'conveyor-sec-bench-'));

function rand(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s;
  };
}
const next = rand(42);
const words = [
  'const',
  'let',
  'return',
  'await',
  'user',
  'token',
  'config',
  'value',
  'result',
  'items',
  'map',
  'filter',
  'key',
  'id',
  'name',
  'secretName',
  'password',
  'options',
  'request',
  'response',
];
const alnum = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const randStr = (n: number) => Array.from({ length: n }, () => alnum[next() % alnum.length]).join('');
function codeLine(): string {
  const n = 3 + (next() % 6);
  const parts = Array.from({ length: n }, () => words[next() % words.length]);
  return `  ${parts.join(' ')}(${randStr(6)}, ${next() % 1000});`;
}

// 1. build the history with git fast-import
const t0 = performance.now();
const chunks: string[] = [];
let planted = 0;
for (let i = 1; i <= COMMITS; i += 1) {
  const files: string[] = [];
  for (let f = 0; f < 2; f += 1) {
    const lines = Array.from({ length: 25 }, codeLine);
    if (i % 500 === 0 && f === 0) {
      lines.push(`const gh = "ghp_${randStr(36)}";`);
      planted += 1;
    }
    const content = `${lines.join('\n')}\n`;
    files.push(`M 100644 inline src/mod${next() % 300}/file${f}.ts\ndata ${Buffer.byteLength(content)}\n${content}`);
  }
  const msg = `commit ${i}\n`;
  chunks.push(
    `commit refs/heads/main\nmark :${i}\ncommitter Bench <bench@example.invalid> ${1_700_000_000 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}${i > 1 ? `from :${i - 1}\n` : ''}${files.join('')}\n`,
  );
}
execFileSync('git', ['-c', 'init.defaultBranch=main', 'init', '-q', dir]);
const imported = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: chunks.join(''), maxBuffer: 1 << 30 });
if (imported.status !== 0) throw new Error(`fast-import failed: ${imported.stderr}`);
execFileSync('git', ['tag', 'start', ':1'.replace(':1', `main~${String(COMMITS - 1)}`)], { cwd: dir });
const buildMs = performance.now() - t0;

const main = async () => {
  const range = await resolveSecurityRange(dir, 'start..main');
  if (!range.ok) throw range.error;
  // 2. git's own output time
  const g0 = performance.now();
  const patch = await readRangePatch(dir, range.value);
  const gitMs = performance.now() - g0;
  if (!patch.ok) throw patch.error;
  const text = patch.value;
  if (process.env.SECURITY_BENCH_DUMP) (await import('node:fs')).writeFileSync(process.env.SECURITY_BENCH_DUMP, text);
  const mb = Buffer.byteLength(text) / 1e6;

  // 3. the built-in scanner on that text
  const cfg = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!cfg.ok) throw cfg.error;
  const s0 = performance.now();
  const parsed = parsePatchLog(text);
  const findings = scanFragments(cfg.value, parsed.fragments);
  const scanMs = performance.now() - s0;

  // 3b. the blob engine (what the gate runs, here in process) on the same range
  const b0 = performance.now();
  const blobScan = await scanSecrets({ repoDir: dir, range: range.value });
  const blobMs = performance.now() - b0;
  if (!blobScan.ok) throw blobScan.error;

  // 4. secretlint on the same text (per commit, as separate sources)
  const perCommit = text.split('\x1e').filter((c) => c.length > 0);
  const l0 = performance.now();
  let secretlintFindings = 0;
  for (const [i, content] of perCommit.entries()) {
    const res = await lintSource({
      source: { filePath: `/bench/commit-${i}.diff`, content, contentType: 'text' },
      options: {
        config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] },
        maskSecrets: true,
      },
    });
    secretlintFindings += res.messages.length;
  }
  const lintMs = performance.now() - l0;

  // 5. adversarial 1 MB lines through every built-in rule
  const adversarial: Record<string, string> = {
    'a×1M': 'a'.repeat(1_000_000),
    'password=a×1M': `password=${'a'.repeat(1_000_000)}`,
    'key×333k': 'key'.repeat(333_334),
    'secret_ repeated': 'secret_'.repeat(142_858),
    'eyJ.× repeated': 'eyJabc.'.repeat(142_858),
    'ghp_ repeated': 'ghp_'.repeat(250_000),
    '-----BEGIN repeated': '-----BEGIN '.repeat(90_910),
    'gitea=× repeated': 'gitea='.repeat(166_667),
  };
  const adv: string[] = [];
  let worst = 0;
  for (const [name, line] of Object.entries(adversarial)) {
    const a0 = performance.now();
    scanText(cfg.value, line);
    const ms = performance.now() - a0;
    worst = Math.max(worst, ms);
    adv.push(`${name} ${ms.toFixed(0)} ms`);
  }

  const out = [
    `history: ${COMMITS} commits built with git fast-import in ${(buildMs / 1000).toFixed(1)} s; range ${parsed.commits.length} commits, ${mb.toFixed(1)} MB of git log -p -U0 text`,
    `git log -p -U0: ${gitMs.toFixed(0)} ms (${(mb / (gitMs / 1000)).toFixed(1)} MB/s)`,
    `built-in scan (parse + ${cfg.value.rules.length} rules): ${scanMs.toFixed(0)} ms (${(mb / (scanMs / 1000)).toFixed(1)} MB/s), ${findings.length} findings (${planted} planted)`,
    `secretlint 11 recommended preset: ${lintMs.toFixed(0)} ms (${(mb / (lintMs / 1000)).toFixed(1)} MB/s), ${secretlintFindings} findings`,
    `blob engine (git cat-file + message + blob scan, ${(blobScan.value.bytesScanned / 1e6).toFixed(1)} MB of objects): ${blobMs.toFixed(0)} ms, ${blobScan.value.findings.length} findings`,
    `scan / git time: ${(scanMs / gitMs).toFixed(2)}×; secretlint / scan time: ${(lintMs / scanMs).toFixed(1)}×`,
    `adversarial 1 MB lines (worst ${worst.toFixed(0)} ms): ${adv.join('; ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  const superlinear = scalingTable(cfg.value);
  await eventLoopDelay();
  if (superlinear.length > 0) {
    process.stdout.write(`!! superlinear rules (time per doubling > 2.5×): ${superlinear.join(', ')}\n`);
    process.exitCode = 1;
  }
};

// 6. per-rule adversarial inputs at 1, 2, 4, 8 MB
const SIZES_MB = [1, 2, 4, 8];
const fill = (unit: string, bytes: number) => unit.repeat(Math.max(1, Math.ceil(bytes / unit.length)));
function familiesFor(rule: RawSecretRule): Record<string, (bytes: number) => string> {
  const kw = rule.keywords?.[0] ?? rule.id;
  const KW = kw.toUpperCase();
  const out: Record<string, (bytes: number) => string> = {
    'keyword×n': (n) => fill(kw, n),
    'KEYWORD×n': (n) => fill(KW, n),
    'keyword+run': (n) => `${kw}${'A'.repeat(n)}`,
    'keyword+digits': (n) => `${kw}${'1'.repeat(n)}`,
    'keyword- fragments': (n) => fill(`${kw}-`, n),
    'keyword = "tok" ×n (many matches)': (n) => fill(`${kw} = "${randStr(40)}" `, n),
  };
  if (rule.id === 'private-key') {
    out['BEGIN without END'] = (n) => fill('-----BEGIN RSA PRIVATE KEY-----\n', n);
    out['BEGIN + endless body'] = (n) =>
      `-----BEGIN RSA PRIVATE KEY-----\n${fill('QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n', n)}`;
    out['BEGIN END pairs'] = (n) =>
      fill(`-----BEGIN RSA PRIVATE KEY-----\n${'QUJD'.repeat(20)}\n-----END RSA PRIVATE KEY-----\n`, n);
  }
  if (rule.id === 'jwt') {
    out['eyJ- fragments'] = (n) => fill('eyJ-', n);
    out['eyJabc. repeated'] = (n) => fill('eyJabc.', n);
    out['eyJ….eyJ no third part'] = (n) => fill(`eyJ${'a'.repeat(16)}.eyJ${'b'.repeat(16)}.`, n);
  }
  if (rule.id === 'generic-api-key') {
    out['password=a×n'] = (n) => `password=${'a'.repeat(n)}`;
    out['token=secret= chains'] = (n) => fill('token=secret=', n);
  }
  if (rule.id === 'slack-token') out['xoxb-digits-'] = (n) => fill('xoxb-123456-', n);
  if (rule.id === 'telegram-bot-token') out['digits:AA'] = (n) => fill('12345678:AA', n);
  return out;
}

// as the gate scans a blob: at most MAX_MATCHES_PER_RULE_AND_BLOB matches of one rule are listed
function timeScan(cfg: SecretsConfig, text: string): number {
  const t0 = performance.now();
  scanText(cfg, text, {}, { maxMatchesPerRule: MAX_MATCHES_PER_RULE_AND_BLOB });
  return performance.now() - t0;
}

function scalingTable(all: SecretsConfig): string[] {
  const bad: string[] = [];
  const rows: string[] = [
    '',
    'per-rule adversarial scaling (worst family per size, ms; per doubling = (t8/t1)^(1/3), worst family with t1 ≥ 20 ms, best of 2 runs)',
    `${'rule'.padEnd(26)} ${SIZES_MB.map((m) => `${m} MB`.padStart(8)).join(' ')}  per doubling  worst family (8 MB)`,
  ];
  for (const raw of DEFAULT_SECRETS_CONFIG.rules ?? []) {
    const one = compileSecretsConfig({ rules: [raw] });
    if (!one.ok) throw one.error;
    const worst = SIZES_MB.map(() => 0);
    let worstFamily = '';
    let ratio = 0;
    for (const [family, make] of Object.entries(familiesFor(raw))) {
      timeScan(one.value, make(256_000)); // warm-up
      // the better of two runs: a loaded machine's pauses are not the rule's cost
      const times = SIZES_MB.map((mb) => {
        const text = make(mb * 1_000_000);
        return Math.min(timeScan(one.value, text), timeScan(one.value, text));
      });
      for (const [i, t] of times.entries()) {
        if (t > (worst[i] as number)) {
          worst[i] = t;
          if (i === SIZES_MB.length - 1) worstFamily = family;
        }
      }
      // time per doubling: the geometric mean over the three doublings (one noisy sample cannot fake it)
      const first = times[0] as number;
      const last = times[times.length - 1] as number;
      if (first >= 20) ratio = Math.max(ratio, (last / first) ** (1 / (times.length - 1)));
    }
    if (ratio > 2.5) bad.push(raw.id);
    rows.push(
      `${raw.id.padEnd(26)} ${worst.map((t) => t.toFixed(0).padStart(8)).join(' ')}  ${(ratio === 0 ? '-' : `${ratio.toFixed(2)}×`).padStart(12)}  ${worstFamily}`,
    );
  }
  // every rule at once on a mixed adversarial text
  const mixed = (n: number) =>
    [
      fill('-----BEGIN RSA PRIVATE KEY-----\n', n / 4),
      fill('eyJ-', n / 4),
      `password=${'a'.repeat(n / 4)}\n`,
      fill(`token = "ghp_${randStr(36)}" `, n / 4),
    ].join('\n');
  timeScan(all, mixed(256_000));
  const allTimes = SIZES_MB.map((mb) => timeScan(all, mixed(mb * 1_000_000)));
  const allRatio = ((allTimes[3] as number) / (allTimes[0] as number)) ** (1 / 3);
  rows.push(
    `${'(all rules, mixed)'.padEnd(26)} ${allTimes.map((t) => t.toFixed(0).padStart(8)).join(' ')}  ${`${allRatio.toFixed(2)}×`.padStart(12)}`,
  );
  if (allRatio > 2.5) bad.push('all rules');
  process.stdout.write(`${rows.join('\n')}\n`);
  return bad;
}

// 7. the host's event loop while an adversarial 8 MB branch is scanned
async function eventLoopDelay(): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), 'conveyor-sec-bench-adv-'));
  try {
    const g = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=b@example.invalid', ...args], { cwd: repo });
    g('-c', 'init.defaultBranch=main', 'init', '-q');
    writeFileSync(join(repo, 'README.md'), '# bench\n');
    g('add', '-A');
    g('commit', '-q', '-m', 'init');
    g('checkout', '-q', '-b', 'task');
    const mb = 1_000_000;
    const files: Record<string, string> = {
      'a/pem.txt': fill('-----BEGIN RSA PRIVATE KEY-----\n', mb),
      'a/begin.txt': fill('-----BEGIN', mb),
      'a/jwt.txt': fill('eyJ-', 2 * mb),
      'a/generic.txt': `password=${'a'.repeat(2 * mb)}\n`,
      'a/tokens.txt': fill(`token = "ghp_${randStr(36)}"\n`, 2 * mb),
    };
    for (const [p, c] of Object.entries(files)) {
      execFileSync('mkdir', ['-p', join(repo, 'a')]);
      writeFileSync(join(repo, p), c);
    }
    g('add', '-A');
    g('commit', '-q', '-m', 'adversarial 8 MB');
    const settings = securitySettingsSchema.parse({
      securityBaseRef: 'main',
      securityHeadRef: 'task',
      securityDepAuditEnabled: false,
    });
    const measure = async (label: string, run: () => Promise<unknown>) => {
      const h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      const t0 = performance.now();
      await run();
      const ms = performance.now() - t0;
      h.disable();
      return `${label}: ${ms.toFixed(0)} ms, max event-loop delay ${(h.max / 1e6).toFixed(1)} ms (p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms)`;
    };
    const range = await resolveSecurityRange(repo, 'main..task');
    if (!range.ok) throw range.error;
    const lines = [
      '',
      'adversarial 8 MB branch (1 MB PEM BEGIN lines without END, 1 MB of -----BEGIN, 2 MB each of eyJ- fragments, password=a…, tokens)',
      await measure('gate scan in a worker thread (runSecurityScan)', async () => {
        const o = await runSecurityScan({ repoDir: repo, settings });
        if (o.report.verdict !== 'fail') throw new Error(`expected fail, got ${o.report.verdict}: ${o.report.error}`);
      }),
      await measure('same scan on the main thread (scanSecrets, for contrast)', async () => {
        const o = await scanSecrets({ repoDir: repo, range: range.value });
        if (!o.ok) throw o.error;
      }),
      await measure('gate scan with a 300 ms deadline (killed)', async () => {
        const o = await runSecurityScan({ repoDir: repo, settings: { ...settings, securityTimeoutMs: 300 } });
        if (o.report.verdict !== 'error') throw new Error('the deadline did not stop the scan');
      }),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`security bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    rmSync(dir, { recursive: true, force: true });
    // secretlint leaves handles open; the figures are printed, so leave now
    process.exit();
  });
