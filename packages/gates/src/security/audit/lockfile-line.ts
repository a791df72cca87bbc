/**
 * The 1-based line of a package's entry in a lockfile's text: the first line
 * naming the package together with its version, else the first line naming
 * the package (as a whole word), else `undefined`.
 *
 * @example
 * ```ts
 * lockfileLine('{\n  "node_modules/lodash": {\n    "version": "4.17.15"', 'lodash', '4.17.15'); // 2
 * ```
 */
export function lockfileLine(text: string, name: string, version: string): number | undefined {
  const lines = text.split('\n');
  const word = /[A-Za-z0-9_.-]/;
  const names = (l: string): boolean => {
    for (let i = l.indexOf(name); i !== -1; i = l.indexOf(name, i + 1)) {
      const before = l.slice(0, i);
      const prev = before.at(-1) ?? '';
      const next = l[i + name.length] ?? '';
      const prevOk =
        prev === '' || !(word.test(prev) || prev === '@' || prev === '/') || before.endsWith('node_modules/');
      if (prevOk && (next === '' || !word.test(next))) return true;
    }
    return false;
  };
  // package-lock.json, npm-shrinkwrap.json: the entry's key
  const key = lines.findIndex((l) => l.includes(`"node_modules/${name}"`));
  if (key !== -1) return key + 1;
  let named: number | undefined;
  for (const [i, l] of lines.entries()) {
    if (!names(l)) continue;
    if (l.includes(version)) return i + 1;
    // package-lock.json: the entry's key, its version on one of the next lines
    if (named === undefined) {
      if (lines.slice(i + 1, i + 4).some((n) => n.includes(`"${version}"`))) return i + 1;
      named = i + 1;
    }
  }
  return named;
}
