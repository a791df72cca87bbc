// Recall of the built-in rules on gitleaks' own rule samples (the literal
// strings of the `tps` and `fps` slices in cmd/generate/config/rules/*.go;
// samples built by Go helpers at run time are not counted). Reads a gitleaks
// checkout or mirror when present, skips otherwise; nothing of gitleaks is copied.
//   GITLEAKS_REPO=/path/to/gitleaks node --import tsx bench/gitleaks-recall.ts [--max-decode-depth N] [--by-file]
// --by-file lists each gitleaks rule file's samples found and flagged (the misses first).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  compileSecretsConfig,
  DEFAULT_MAX_DECODE_DEPTH,
  DEFAULT_SECRETS_CONFIG,
  scanText,
} from '../packages/gates/src/index.js';

const repo = process.env.GITLEAKS_REPO ?? '/work/.mirror/gitleaks+gitleaks/repo';
if (!existsSync(repo)) {
  console.log(`gitleaks-recall: skipped, no gitleaks repository at ${repo} (set GITLEAKS_REPO)`);
  process.exit(0);
}
const git = (...args: string[]) =>
  execFileSync('git', ['--git-dir', existsSync(`${repo}/.git`) ? `${repo}/.git` : repo, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
const files = git('ls-tree', '--name-only', 'HEAD', 'cmd/generate/config/rules/')
  .split('\n')
  .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'));

/** The Go string literals of every `tps`/`fps` slice literal in a file (interpreted and raw). */
function samples(src: string, name: 'tps' | 'fps'): string[] {
  const out: string[] = [];
  const re = new RegExp(`\\b${name}\\s*:?=\\s*(?:append\\(${name},\\s*)?\\[\\]string\\{`, 'g');
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let i = m.index + m[0].length;
    let depth = 1;
    while (i < src.length && depth > 0) {
      const c = src[i] as string;
      if (c === '"' || c === '`') {
        const end =
          c === '`'
            ? src.indexOf('`', i + 1)
            : (() => {
                let j = i + 1;
                while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
                return j;
              })();
        const raw = src.slice(i, end + 1);
        // a literal that is a whole element (not part of a Go expression)
        const before = src.slice(src.lastIndexOf('\n', i) + 1, i).trim();
        const after = src.slice(end + 1, src.indexOf('\n', end + 1)).trim();
        if (before === '' && (after === ',' || after.startsWith(', //') || after.startsWith(',//') || after === '')) {
          try {
            out.push(
              c === '`' ? raw.slice(1, -1) : (JSON.parse(raw.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string),
            );
          } catch {
            // an escape JSON does not read: not counted
          }
        }
        i = end + 1;
        continue;
      }
      if (c === '{') depth += 1;
      if (c === '}') depth -= 1;
      i += 1;
    }
  }
  return out;
}

const argv = process.argv.slice(2);
const depthAt = argv.indexOf('--max-decode-depth');
const maxDecodeDepth = depthAt >= 0 ? Number(argv[depthAt + 1]) : DEFAULT_MAX_DECODE_DEPTH;
const byFile = argv.includes('--by-file');
// --show: also print each missed true-positive and flagged false-positive sample (gitleaks' public samples)
const show = argv.includes('--show');
const compiled = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
if (!compiled.ok) throw compiled.error;
let tp = 0;
let tpHit = 0;
let fp = 0;
let fpHit = 0;
const rows: { file: string; tp: number; tpHit: number; fp: number; fpHit: number; flaggedBy: Set<string> }[] = [];
const found = (s: string) => scanText(compiled.value, s, { file: 'sample.txt' }, { maxDecodeDepth });
for (const f of files) {
  const src = git('show', `HEAD:${f}`);
  const row = { file: f.replace(/^.*\//, ''), tp: 0, tpHit: 0, fp: 0, fpHit: 0, flaggedBy: new Set<string>() };
  for (const s of samples(src, 'tps')) {
    row.tp += 1;
    if (found(s).length > 0) row.tpHit += 1;
    else if (show) console.log(`missed ${row.file}: ${JSON.stringify(s).slice(0, 200)}`);
  }
  for (const s of samples(src, 'fps')) {
    row.fp += 1;
    const flagged = found(s);
    if (flagged.length > 0) row.fpHit += 1;
    for (const x of flagged) row.flaggedBy.add(x.RuleID);
    if (show && flagged.length > 0) {
      console.log(
        `flagged ${row.file} by ${flagged.map((x) => x.RuleID).join(',')}: ${JSON.stringify(s).slice(0, 200)}`,
      );
    }
  }
  tp += row.tp;
  tpHit += row.tpHit;
  fp += row.fp;
  fpHit += row.fpHit;
  rows.push(row);
}
if (byFile) {
  rows.sort((a, b) => b.tp - b.tpHit - (a.tp - a.tpHit) || b.fpHit - a.fpHit);
  for (const r of rows) {
    if (r.tp === r.tpHit && r.fpHit === 0) continue;
    const by = r.flaggedBy.size > 0 ? ` (by ${[...r.flaggedBy].join(', ')})` : '';
    console.log(`${r.file}: found ${r.tpHit}/${r.tp}, flagged ${r.fpHit}/${r.fp}${by}`);
  }
}
const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
console.log(
  `gitleaks ${git('rev-parse', '--short', 'HEAD').trim()}: ${files.length} rule files, ${compiled.value.rules.length} built-in rules, max decode depth ${maxDecodeDepth}`,
);
console.log(`true positives (literal samples): ${tpHit}/${tp} found (${pct(tpHit, tp)})`);
console.log(`false positives (literal samples): ${fpHit}/${fp} flagged (${pct(fpHit, fp)})`);
