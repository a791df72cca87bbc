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
 * `maxLength` the whole text is searched.
 *
 * @internal the scanner's; exported for its tests
 */
export function findAllNear(
  re: SecretRegex,
  text: string,
  ranges: readonly TextRange[],
  maxLength: number,
  limit = Number.POSITIVE_INFINITY,
): RegexMatch[] {
  if (!Number.isFinite(maxLength) || ranges.length === 0) return re.findAll(text, limit);
  const pad = maxLength + 2;
  const out: RegexMatch[] = [];
  let i = 0;
  while (i < ranges.length && out.length < limit) {
    const first = ranges[i] as TextRange;
    const a = Math.max(0, first.start - pad);
    let b = Math.min(text.length, first.end + pad);
    let j = i + 1;
    while (j < ranges.length && (ranges[j] as TextRange).start - pad <= b) {
      b = Math.min(text.length, (ranges[j] as TextRange).end + pad);
      j += 1;
    }
    if (a === 0 && b === text.length) return re.findAll(text, limit);
    const found = re.findAll(text.slice(a, b), limit - out.length);
    // the window's first match is too close to its start to be sure the searches agree
    if (a > 0 && found.length > 0 && (found[0] as RegexMatch).start < maxLength + 1) return re.findAll(text, limit);
    for (const m of found) out.push(a === 0 ? m : { ...m, start: m.start + a, end: m.end + a });
    i = j;
  }
  return out;
}
