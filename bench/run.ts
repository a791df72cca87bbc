// Runs every `bench/*.bench.ts` in its own process, one after the other, and
// prints their figures. A failing benchmark fails the run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of files) {
  process.stdout.write(`\n### ${file}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${file}`], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed += 1;
    process.stdout.write(`!! ${file} exited ${run.status ?? run.signal}\n`);
  }
}
if (files.length === 0) process.stdout.write('no benchmarks found\n');
process.exit(failed === 0 ? 0 : 1);
