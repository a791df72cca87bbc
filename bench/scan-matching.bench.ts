// Matching alone, in-process: the `git log -p -U0` text of a real history
// (this repository's, and gitleaks' own when a mirror is present), parsed
// once, then scanned with the built-in rules and with gitleaks' default
// config (222 rules, read from the mirror or GITLEAKS_CONFIG). The first scan
// of a fresh process is what a command pays (code and patterns cold); the best
// of the next ones is the steady state. Goal (issue 16): >= 20 MB/s with
// gitleaks' config. `npm run bench -- scan-matching`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compileSecretsConfig,
  DEFAULT_SECRETS_CONFIG,
  parsePatchLog,
  parseSecretsConfig,
  type SecretsConfig,
  scanFragments,
} from '../packages/gates/src/index.js';
import { rangePatchArgs } from '../packages/gates/src/security/git-text.js';

const ROOT = join(import.meta.dirname, '..');
const GITLEAKS_MIRROR = process.env.GITLEAKS_REPO ?? '/work/.mirror/gitleaks+gitleaks/repo';
const gitDirOf = (repo: string) => (existsSync(join(repo, '.git')) ? join(repo, '.git') : repo);

function historyPatch(gitDir: string): string {
  return execFileSync('git', ['--git-dir', gitDir, '-c', 'core.quotePath=false', ...rangePatchArgs('HEAD')], {
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
}

function gitleaksConfigText(): string | undefined {
  if (process.env.GITLEAKS_CONFIG && existsSync(process.env.GITLEAKS_CONFIG)) {
    return readFileSync(process.env.GITLEAKS_CONFIG, 'utf8');
  }
  if (!existsSync(GITLEAKS_MIRROR)) return undefined;
  try {
    return execFileSync('git', ['--git-dir', gitDirOf(GITLEAKS_MIRROR), 'show', 'HEAD:config/gitleaks.toml'], {
      encoding: 'utf8',
    });
  } catch {
    return undefined;
  }
}

const histories: { name: string; text: string }[] = [{ name: 'this repository', text: historyPatch(gitDirOf(ROOT)) }];
if (existsSync(GITLEAKS_MIRROR)) histories.push({ name: 'gitleaks', text: historyPatch(gitDirOf(GITLEAKS_MIRROR)) });

const builtIn = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
if (!builtIn.ok) throw builtIn.error;
const configs: { name: string; config: SecretsConfig }[] = [{ name: 'built-in', config: builtIn.value }];
const glText = gitleaksConfigText();
if (glText !== undefined) {
  const gl = await parseSecretsConfig(glText, 'gitleaks.toml');
  if (!gl.ok) throw gl.error;
  configs.push({ name: `gitleaks (${gl.value.rules.length} rules)`, config: gl.value });
} else console.log(`no gitleaks config: no mirror at ${GITLEAKS_MIRROR} (set GITLEAKS_REPO or GITLEAKS_CONFIG)`);

for (const h of histories) {
  const mb = Buffer.byteLength(h.text) / 1e6;
  const fragments = parsePatchLog(h.text).fragments;
  for (const c of configs) {
    const times: number[] = [];
    let found = 0;
    for (let run = 0; run < 4; run += 1) {
      const t0 = performance.now();
      // one fragment per call, as a history scan calls it per blob
      found = 0;
      for (const f of fragments) found += scanFragments(c.config, [f]).length;
      times.push(performance.now() - t0);
    }
    const [first, ...rest] = times as [number, ...number[]];
    const best = Math.min(...rest);
    const mbs = (ms: number) => (mb / (ms / 1000)).toFixed(1);
    console.log(
      `${h.name} (${mb.toFixed(1)} MB of git log -p -U0), ${c.name}: first ${first.toFixed(0)} ms ${mbs(first)} MB/s, best ${best.toFixed(0)} ms ${mbs(best)} MB/s, ${found} findings`,
    );
  }
}
