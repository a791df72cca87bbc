// Runs a pattern over the parts of a text that matter instead of the whole
// text, with the same answer: the matches the whole-text search finds that
// touch the given ranges.
//
// Why the answer is the same, for a pattern whose matches span at most L code
// units (`maxMatchLength`): whether a match starts at position p, and where it
// ends, depends only on the units p-1 .. p+L. A window [a, b) with a ≤ r.start
// - L - 2 and b ≥ r.end + L + 2 for every range r inside it therefore decides
// every start in [a+1, b-L-1] as the whole text does. The searches (leftmost
// first, each resuming where its last match ended) may disagree only while
// the whole-text search is inside a match that began before a; that match
// ends before a + L. If the window's first match starts at or after a + L + 1,
// the whole-text search cannot have started a match in between (the window
// would have found it), so both reach that match and agree from there on. If
// it starts earlier, the whole text is searched instead. A match that starts
// after b - L - 1 may be wrong, but it lies after every range of the window.
//
// When every match of the pattern holds a place of `ranges` (a keyword the
// pattern cannot match without), windows start 2L + 2 before their first
// range instead: a match starting in the window's first L + 1 units would end
// before that range and hold a place between two windows, where there is none,
// so the whole-text fallback is never taken.
import type { RegexMatch, SecretRegex } from './types.js';

/** A half-open range of a text (UTF-16 code units). */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Every match of `re` in `text` that touches one of `ranges` (sorted,
 * disjoint), as `re.findAll(text)` finds them, searching only windows around
 * the ranges; `maxLength` is the most units one match of `re` spans. Matches
 * that touch no range may be left out or added. With an unbounded
 * `maxLength` the whole text is searched. With `onlyTouching`, the matches
 * that touch no range are left out (then, when every match of `re` overlaps a
 * range, the answer is exactly `re.findAll(text, limit)`).
 *
 * @internal the scanner's; exported for its tests
 */
export function findAllNear(
  re: SecretRegex,
  text: string,
  ranges: readonly TextRange[],
  maxLength: number,
  limit = Number.POSITIVE_INFINITY,
  onlyTouching = false,
): RegexMatch[] {
  if (onlyTouching && ranges.length === 0) return [];
  const whole = (): RegexMatch[] => {
    const all = re.findAll(text, limit);
    return onlyTouching ? all.filter((m) => touchesAny(ranges, m)) : all;
  };
  if (!Number.isFinite(maxLength) || ranges.length === 0) return whole();
  const pad = maxLength + 2;
  const leftPad = onlyTouching ? 2 * maxLength + 2 : pad;
  const out: RegexMatch[] = [];
  let i = 0;
  while (i < ranges.length && out.length < limit) {
    const first = ranges[i] as TextRange;
    const a = Math.max(0, first.start - leftPad);
    let b = Math.min(text.length, first.end + pad);
    let j = i + 1;
    while (j < ranges.length && (ranges[j] as TextRange).start - leftPad <= b) {
      b = Math.min(text.length, (ranges[j] as TextRange).end + pad);
      j += 1;
    }
    if (a === 0 && b === text.length) return whole();
    const found = re.findAll(text.slice(a, b), limit - out.length);
    // the window's first match is too close to its start to be sure the searches agree
    if (a > 0 && found.length > 0 && (found[0] as RegexMatch).start < maxLength + 1) return whole();
    let r = i;
    for (const m of found) {
      const start = m.start + a;
      const end = m.end + a;
      if (onlyTouching) {
        // the ranges are sorted and disjoint, the matches in order: one walk over both
        while (r < j && (ranges[r] as TextRange).end < start) r += 1;
        if (r === j || (ranges[r] as TextRange).start > end) continue;
      }
      out.push(a === 0 ? m : { ...m, start, end });
    }
    i = j;
  }
  return out;
}

/**
 * Whether `m` touches one of `ranges` (sorted, disjoint): overlaps it or ends
 * where it starts (or the other way round), as the decoder counts a match
 * that takes part in a decoded value; by binary search.
 *
 * @internal the scanner's
 */
export function touchesAny(ranges: readonly TextRange[], m: TextRange): boolean {
  let lo = 0;
  let hi = ranges.length;
  // the first range that does not end before m starts
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as TextRange).end < m.start) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranges.length && (ranges[lo] as TextRange).start <= m.end;
}

/** Line arithmetic on a text: by its line starts when known (binary search), else by searching for newlines. */
interface Lines {
  /** where the line `count` lines before the one holding `at` starts */
  back(at: number, count: number): number;
  /** where the line `count` lines after the one holding `at` ends (its newline, or the text's end) */
  on(at: number, count: number): number;
}

function linesOf(text: string, lineStarts: readonly number[] | undefined): Lines {
  if (lineStarts && lineStarts.length > 0) {
    const lineAt = (at: number): number => {
      let lo = 0;
      let hi = lineStarts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((lineStarts[mid] as number) <= at) lo = mid + 1;
        else hi = mid;
      }
      return lo - 1;
    };
    return {
      back: (at, count) => lineStarts[Math.max(0, lineAt(at) - count)] as number,
      on: (at, count) => {
        const k = lineAt(at) + count + 1;
        return k < lineStarts.length ? (lineStarts[k] as number) - 1 : text.length;
      },
    };
  }
  return { back: (at, count) => linesBack(text, at, count), on: (at, count) => linesOn(text, at, count) };
}

/**
 * Where the line `count` lines before the one holding `at` starts, by
 * searching for newlines.
 *
 * @internal the scanner's
 */
export function linesBack(text: string, at: number, count: number): number {
  // (at 0 the search would find a newline at 0 itself)
  let start = at <= 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
  for (let k = 0; k < count && start > 0; k += 1) start = start < 2 ? 0 : text.lastIndexOf('\n', start - 2) + 1;
  return start;
}

/**
 * Where the line `count` lines after the one holding `at` ends (its newline,
 * or the text's end), by searching for newlines.
 *
 * @internal the scanner's
 */
export function linesOn(text: string, at: number, count: number): number {
  let end = text.indexOf('\n', at);
  for (let k = 0; k < count && end !== -1; k += 1) end = text.indexOf('\n', end + 1);
  return end === -1 ? text.length : end;
}

/**
 * Every match of `re` in `text` that touches one of `ranges` (sorted,
 * disjoint), as `re.findAll(text)` finds them, for a pattern whose matches
 * hold at most `newlines` newlines, however long: only lines around the
 * ranges are searched, from `2 * newlines` lines before a range's line to
 * `newlines` lines after it, each window with the newline before and after
 * it, so `\b`, `(?m)^` and `$` see the same neighbours as in the whole text.
 *
 * Why the answer is the same: a match that touches a range starts at most
 * `newlines` lines before the range's line and ends at most `newlines` lines
 * after where it starts, so the window holds all it reads, and whether it
 * matches there is decided as in the whole text. A whole-text match begun
 * before the window ends within `newlines` lines of its start; so if the
 * window's first match starts on or after the line `newlines` lines before
 * the first range's, both searches reach it and agree from there on. If it
 * starts earlier, the whole text is searched instead. (With `newlines` 0 no
 * match crosses a line, and that never happens.) `lineStarts`, when given, is
 * where each line of `text` starts (0 first).
 *
 * @internal the scanner's; exported for its tests
 */
export function findAllInLines(
  re: SecretRegex,
  text: string,
  ranges: readonly TextRange[],
  newlines = 0,
  limit = Number.POSITIVE_INFINITY,
  lineStarts?: readonly number[],
): RegexMatch[] {
  if (ranges.length === 0) return [];
  const lines = linesOf(text, lineStarts);
  const whole = (): RegexMatch[] => re.findAll(text, limit).filter((m) => touchesAny(ranges, m));
  if (!Number.isFinite(newlines)) return whole();
  const out: RegexMatch[] = [];
  let i = 0;
  while (i < ranges.length && out.length < limit) {
    const first = ranges[i] as TextRange;
    // the first line a match touching this range may start on, and the window's first line
    const earliest = lines.back(first.start, newlines);
    const lineStart = lines.back(first.start, 2 * newlines);
    let lineEnd = lines.on(Math.max(first.start, first.end - 1), newlines);
    let j = i + 1;
    // the next ranges whose windows meet this one: one search for all
    while (j < ranges.length) {
      const next = ranges[j] as TextRange;
      if (lines.back(next.start, 2 * newlines) > lineEnd + 1) break;
      lineEnd = Math.max(lineEnd, lines.on(Math.max(next.start, next.end - 1), newlines));
      j += 1;
    }
    const a = Math.max(0, lineStart - 1);
    const b = Math.min(text.length, lineEnd + 1);
    if (a === 0 && b === text.length) return whole();
    const found = re.findAll(text.slice(a, b), limit - out.length);
    if (newlines > 0 && a > 0 && found.length > 0 && (found[0] as RegexMatch).start + a < earliest) return whole();
    let r = i;
    for (const m of found) {
      const start = m.start + a;
      const end = m.end + a;
      while (r < j && (ranges[r] as TextRange).end < start) r += 1;
      if (r === j || (ranges[r] as TextRange).start > end) continue;
      out.push(a === 0 ? m : { ...m, start, end });
    }
    i = j;
  }
  return out;
}
