#!/usr/bin/env node
// Keeps what every published package must carry in one place: the root MIT
// LICENSE copied beside its package.json and listed in `files`, the
// `repository` (with `directory`), `homepage` and `bugs` fields, and "ESM only"
// on its README, and an entry point of named exports (no `export *`). `--write` fixes the packages; without it the script fails
// naming each package that is out of line (run by .ci/run).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The one place the project's public address lives: change it here and run `npm run meta:fix`.
const REPOSITORY = 'https://github.com/conveyor-sdk/conveyor';
const ESM_ONLY = 'ESM only';
const ESM_LINE = `> ${ESM_ONLY}: \`import\` it from Node.js 20.19 or later; there is no CommonJS build.`;

const write = process.argv.includes('--write');
const root = JSON.parse(readFileSync('package.json', 'utf8'));
const license = readFileSync('LICENSE', 'utf8');
const problems = [];

for (const dir of root.workspaces) {
  const pkgPath = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  if (pkg.private) continue;
  const want = {
    license: 'MIT',
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: dir },
    homepage: `${REPOSITORY}/tree/main/${dir}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
  };
  let changed = false;
  for (const [key, value] of Object.entries(want)) {
    if (JSON.stringify(pkg[key]) === JSON.stringify(value)) continue;
    problems.push(`${pkgPath}: ${key} should be ${JSON.stringify(value)}`);
    pkg[key] = value;
    changed = true;
  }
  const files = pkg.files ?? [];
  if (!files.includes('LICENSE')) {
    problems.push(`${pkgPath}: files does not list LICENSE`);
    pkg.files = [...files, 'LICENSE'];
    changed = true;
  }
  if (changed && write) writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);

  const licensePath = join(dir, 'LICENSE');
  if (!existsSync(licensePath) || readFileSync(licensePath, 'utf8') !== license) {
    problems.push(`${licensePath}: missing or not the root LICENSE`);
    if (write) copyFileSync('LICENSE', licensePath);
  }

  const indexPath = join(dir, 'src', 'index.ts');
  if (existsSync(indexPath) && /^export \*/m.test(readFileSync(indexPath, 'utf8'))) {
    problems.push(`${indexPath}: uses \`export *\`; name the exports (node --import tsx scripts/explicit-exports.ts)`);
  }

  const readmePath = join(dir, 'README.md');
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : `# ${pkg.name}\n`;
  if (!readme.includes(ESM_ONLY)) {
    problems.push(`${readmePath}: does not say "${ESM_ONLY}"`);
    if (write) {
      const [title, ...rest] = readme.split('\n');
      writeFileSync(readmePath, [title, '', ESM_LINE, ...rest].join('\n'));
    }
  }
}

if (problems.length > 0 && !write) {
  process.stderr.write(`${problems.join('\n')}\n\nrun \`npm run meta:fix\` to fix them\n`);
  process.exit(1);
}
process.stdout.write(
  write ? `package metadata: ${problems.length} fixes\n` : 'package metadata: every package in line\n',
);
