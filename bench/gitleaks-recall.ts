// Recall of the built-in rules on gitleaks' own rule samples (the literal
// strings of the `tps` and `fps` slices in cmd/generate/config/rules/*.go;
// samples built by Go helpers at run time are not counted). Reads a gitleaks
// checkout or mirror when present, skips otherwise; nothing of gitleaks is copied.
//   GITLEAKS_REPO=/path/to/gitleaks node --import tsx bench/gitleaks-recall.ts
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { compileSecretsConfig, DEFAULT_SECRETS_CONFIG, scanText } from '../packages/gates/src/index.js';

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

const compiled = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
if (!compiled.ok) throw compiled.error;
let tp = 0;
let tpHit = 0;
let fp = 0;
let fpHit = 0;
for (const f of files) {
  const src = git('show', `HEAD:${f}`);
  for (const s of samples(src, 'tps')) {
    tp += 1;
    if (scanText(compiled.value, s, { file: 'sample.txt' }).length > 0) tpHit += 1;
  }
  for (const s of samples(src, 'fps')) {
    fp += 1;
    if (scanText(compiled.value, s, { file: 'sample.txt' }).length > 0) fpHit += 1;
  }
}
const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
console.log(
  `gitleaks ${git('rev-parse', '--short', 'HEAD').trim()}: ${files.length} rule files, ${compiled.value.rules.length} built-in rules`,
);
console.log(`true positives (literal samples): ${tpHit}/${tp} found (${pct(tpHit, tp)})`);
console.log(`false positives (literal samples): ${fpHit}/${fp} flagged (${pct(fpHit, fp)})`);
