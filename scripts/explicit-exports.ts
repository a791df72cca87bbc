// Rewrites every `export * from '…'` in a package's `src/index.ts` as the
// explicit list of names it re-exports (`export { a, type B } from '…'`), so
// the entry point says what the package exports. Run it after adding names to
// a folder's index (then `npx biome check --write` sorts them);
// `npm run meta:check` fails while an `export *` is left.
//
//   node --import tsx scripts/explicit-exports.ts          rewrite `export *`
//   node --import tsx scripts/explicit-exports.ts --sync   also re-list every `export { … } from './<folder>/index.js'`
//                                                          (a folder's index gained a name)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const sync = process.argv.includes('--sync');
const root = JSON.parse(readFileSync('package.json', 'utf8')) as { workspaces: string[] };
const entries = root.workspaces.map((dir) => join(dir, 'src', 'index.ts'));
const config = ts.getParsedCommandLineOfConfigFile(
  'tsconfig.json',
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!config) throw new Error('tsconfig.json could not be read');
const program = ts.createProgram(
  entries.filter((e) => ts.sys.fileExists(e)),
  { ...config.options, noEmit: true },
);
const checker = program.getTypeChecker();

for (const entry of entries) {
  const file = program.getSourceFile(entry);
  if (!file) continue;
  let text = file.getFullText();
  const edits: { start: number; end: number; replacement: string }[] = [];
  for (const statement of file.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier) continue;
    const folderIndex = /\/index\.js['"]$/.test(statement.moduleSpecifier.getText());
    if (statement.exportClause && !(sync && folderIndex)) continue;
    const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (!moduleSymbol) throw new Error(`${entry}: cannot resolve ${statement.moduleSpecifier.getText()}`);
    const names = checker.getExportsOfModule(moduleSymbol).map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
      return isValue ? symbol.getName() : `type ${symbol.getName()}`;
    });
    const specifier = statement.moduleSpecifier.getText();
    edits.push({
      start: statement.getStart(),
      end: statement.getEnd(),
      replacement: `export {\n${names.map((n) => `  ${n},`).join('\n')}\n} from ${specifier};`,
    });
  }
  if (edits.length === 0) continue;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    text = text.slice(0, edit.start) + edit.replacement + text.slice(edit.end);
  }
  writeFileSync(entry, text);
  process.stdout.write(`${entry}: ${edits.length} export list(s) written\n`);
}
