// Security gate benchmark: a real git history with thousands of commits,
// `git log -p -U0` time for the range, the built-in scanner's throughput on
// that text, secretlint (recommended preset) on the same text, and 1 MB
// adversarial lines. Prints figures; fails only if a scan errors.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileSecretsConfig,
  DEFAULT_SECRETS_CONFIG,
  parsePatchLog,
  readRangePatch,
  resolveSecurityRange,
  scanFragments,
  scanText,
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
    `scan / git time: ${(scanMs / gitMs).toFixed(2)}×; secretlint / scan time: ${(lintMs / scanMs).toFixed(1)}×`,
    `adversarial 1 MB lines (worst ${worst.toFixed(0)} ms): ${adv.join('; ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
};

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
