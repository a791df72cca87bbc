// Recall of the built-in rules on gitleaks' own rule samples: every `tps`/`fps`
// list handed to utils.Validate in cmd/generate/config/rules/*.go, built the way
// gitleaks builds them at run time (GenerateSampleSecrets' templates, read from
// the utils source; secrets.NewSecret(<regex>) from a seeded generator; string
// literals, `+`, fmt.Sprintf). Samples the evaluator cannot build are counted
// and listed as "not evaluated". As a check on the generator, gitleaks' own
// default config (config/gitleaks.toml) is run through our engine on the same
// samples: its recall should be near 100%.
// Reads a gitleaks checkout or mirror when present, skips otherwise; nothing of gitleaks is copied.
//   GITLEAKS_REPO=/path/to/gitleaks node --import tsx bench/gitleaks-recall.ts [--by-file] [--show] [--show-check] [--seed N]
//     [--max-decode-depth N]
// --by-file lists each rule file's figures (the most misses first); --show prints each missed
// true positive, true positive found only under another rule id, flagged false positive and
// not-evaluated expression; --show-check the true positives gitleaks' own config missed.
// Run from the repository root; the figures repeat for a given --seed (default 1).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  compileSecretsConfig,
  DEFAULT_MAX_DECODE_DEPTH,
  DEFAULT_SECRETS_CONFIG,
  parseSecretsConfig,
  type SecretsConfig,
  scanText,
} from '../packages/gates/src/index.js';
import { GoEvaluator, type Item, loadPackage, type Sample, sampleTemplates } from './gitleaks-samples/go-eval.js';
import { hashSeed, seededRandom } from './gitleaks-samples/regex-gen.js';

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
const goFiles = (dir: string) =>
  git('ls-tree', '--name-only', 'HEAD', `${dir}/`)
    .split('\n')
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'));

const argv = process.argv.slice(2);
const option = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const maxDecodeDepth = Number(option('--max-decode-depth') ?? DEFAULT_MAX_DECODE_DEPTH);
const seed = Number(option('--seed') ?? 1);
const byFile = argv.includes('--by-file');
// --show prints gitleaks' public samples that were missed or flagged
const show = argv.includes('--show');
// --show-check prints the true positives gitleaks' own config missed in our engine (a generator or engine gap)
const showCheck = argv.includes('--show-check');

const builtIn = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
if (!builtIn.ok) throw builtIn.error;
const gitleaksToml = await parseSecretsConfig(git('show', 'HEAD:config/gitleaks.toml'), 'config/gitleaks.toml');
if (!gitleaksToml.ok) throw gitleaksToml.error;

const utils = loadPackage('');
for (const f of goFiles('cmd/generate/config/utils')) loadPackage(git('show', `HEAD:${f}`), utils);
const templates = sampleTemplates(utils);

// gIn: samples whose rule is in config/gitleaks.toml (the rule files hold a few rules the config leaves out)
type Count = { n: number; any: number; same: number; gAny: number; gSame: number; gIn: number; gInSame: number };
const zero = (): Count => ({ n: 0, any: 0, same: 0, gAny: 0, gSame: 0, gIn: 0, gInSame: 0 });
const inGitleaksToml = new Set(gitleaksToml.value.rules.map((r) => r.id));
const notInGitleaksToml = new Set<string>();
type Row = { file: string; tp: Count; fp: Count; notEvaluated: number; flaggedBy: Set<string> };
const add = (into: Count, c: Count) => {
  for (const k of Object.keys(into) as (keyof Count)[]) into[k] += c[k];
};

const rules = (cfg: SecretsConfig, s: Sample) =>
  new Set(scanText(cfg, s.text, { file: s.path ?? 'sample.txt' }, { maxDecodeDepth }).map((f) => f.RuleID));

const rows: Row[] = [];
const notEvaluatedList: string[] = [];
// the rules package as Go sees it (one namespace over its files), and each file's own functions
const rulesPackage = loadPackage('');
const ruleFiles = goFiles('cmd/generate/config/rules').map((f) => {
  const src = git('show', `HEAD:${f}`);
  loadPackage(src, rulesPackage);
  return { file: f.replace(/^.*\//, ''), own: loadPackage(src) };
});
for (const { file, own: pkg } of ruleFiles) {
  const ev = new GoEvaluator(rulesPackage, utils, templates, seededRandom(hashSeed(file) ^ seed));
  const row: Row = { file, tp: zero(), fp: zero(), notEvaluated: 0, flaggedBy: new Set() };
  for (const [name, fn] of pkg.fns) {
    if (!fn.body.some((t) => t.v === 'Validate' || t.v === 'ValidateWithPaths')) continue;
    const at = fn.body.findIndex((t, j) => t.v === 'RuleID' && fn.body[j + 1]?.v === ':');
    const id = at >= 0 && fn.body[at + 2]?.k === 'str' ? (fn.body[at + 2]?.v as string) : `?${name}`;
    for (const { tps, fps } of ev.runRule(name)) {
      const each = (items: Item[], into: Count, positive: boolean) => {
        for (const item of items) {
          if ('unevaluated' in item) {
            row.notEvaluated += item.count;
            notEvaluatedList.push(`${file} ${id} ${positive ? 'tp' : 'fp'} ×${item.count}: ${item.unevaluated}`);
            continue;
          }
          const ours = rules(builtIn.value, item);
          const theirs = rules(gitleaksToml.value, item);
          into.n += 1;
          if (ours.size > 0) into.any += 1;
          if (ours.has(id)) into.same += 1;
          if (theirs.size > 0) into.gAny += 1;
          if (theirs.has(id)) into.gSame += 1;
          if (inGitleaksToml.has(id)) {
            into.gIn += 1;
            if (theirs.has(id)) into.gInSame += 1;
          } else notInGitleaksToml.add(id);
          if (!positive) for (const r of ours) row.flaggedBy.add(r);
          if (show && positive && ours.size > 0 && !ours.has(id)) {
            console.log(`other-id ${file} ${id} by ${[...ours].join(',')}: ${JSON.stringify(item.text).slice(0, 200)}`);
          }
          if (showCheck && positive && !theirs.has(id)) {
            console.log(`gitleaks config missed ${file} ${id}: ${JSON.stringify(item.text).slice(0, 300)}`);
          }
          if (show && positive && ours.size === 0)
            console.log(`missed ${file} ${id}: ${JSON.stringify(item.text).slice(0, 200)}`);
          if (show && !positive && ours.size > 0) {
            console.log(`flagged ${file} ${id} by ${[...ours].join(',')}: ${JSON.stringify(item.text).slice(0, 200)}`);
          }
        }
      };
      each(tps, row.tp, true);
      each(fps, row.fp, false);
    }
  }
  rows.push(row);
}

const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
const tp = zero();
const fp = zero();
let notEvaluated = 0;
for (const r of rows) {
  add(tp, r.tp);
  add(fp, r.fp);
  notEvaluated += r.notEvaluated;
}
if (byFile) {
  rows.sort((a, b) => b.tp.n - b.tp.any - (a.tp.n - a.tp.any) || b.fp.any - a.fp.any);
  console.log('file: tp found any/same-id of n (gitleaks config any) | fp flagged any/same-id of n | not evaluated');
  for (const r of rows) {
    const by = r.flaggedBy.size > 0 ? ` (by ${[...r.flaggedBy].join(', ')})` : '';
    console.log(
      `${r.file}: tp ${r.tp.any}/${r.tp.same} of ${r.tp.n} (gitleaks ${r.tp.gAny}) | fp ${r.fp.any}/${r.fp.same} of ${r.fp.n}${by}` +
        (r.notEvaluated > 0 ? ` | not evaluated ${r.notEvaluated}` : ''),
    );
  }
}
if (show) for (const line of notEvaluatedList) console.log(`not evaluated ${line}`);
console.log(
  `gitleaks ${git('rev-parse', '--short', 'HEAD').trim()}: ${rows.length} rule files, ${templates.length} sample templates, seed ${seed}, max decode depth ${maxDecodeDepth}`,
);
console.log(
  `built-in rules (${builtIn.value.rules.length}): true positives ${tp.any}/${tp.n} found (${pct(tp.any, tp.n)}), ` +
    `${tp.same} under gitleaks' rule id (${pct(tp.same, tp.n)}); false positives ${fp.any}/${fp.n} flagged (${pct(fp.any, fp.n)}), ` +
    `${fp.same} under the sample's rule id (${pct(fp.same, fp.n)})`,
);
console.log(
  `gitleaks default config (${gitleaksToml.value.rules.length} rules, our engine): true positives ${tp.gAny}/${tp.n} found (${pct(tp.gAny, tp.n)}), ` +
    `${tp.gSame} under the sample's rule id (${pct(tp.gSame, tp.n)}); false positives ${fp.gAny}/${fp.n} flagged (${pct(fp.gAny, fp.n)})`,
);
console.log(
  `  of the ${tp.gIn} true positives whose rule is in config/gitleaks.toml: ${tp.gInSame} found under that rule (${pct(tp.gInSame, tp.gIn)}); ` +
    `rules not in it: ${[...notInGitleaksToml].join(', ') || 'none'}`,
);
console.log(`not evaluated: ${notEvaluated} samples (${notEvaluatedList.length} expressions; --show lists them)`);
