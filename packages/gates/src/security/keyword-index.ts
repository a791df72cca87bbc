// One Aho-Corasick automaton over every rule's keywords: a single pass over a
// fragment's lower-cased text tells which keywords occur in it, whatever the
// number of rules (gitleaks' default config has ~300 keywords; one `includes`
// per keyword was a pass each).

/** Which of a fixed set of keywords occur in a text. */
export interface KeywordIndex {
  /** the keywords (lower case, de-duplicated, none empty) */
  readonly keywords: readonly string[];
  /** the keywords of `keywords` that occur in `lower` (already lower-cased, as gitleaks compares) */
  present(lower: string): Set<string>;
  /**
   * which keywords occur in `text.toLowerCase()`, as one flag (0 or 1) per
   * index of `keywords`; the array is reused by the next call. When every
   * keyword is lower-case ASCII the text is folded while it is read, with no
   * lower-cased copy.
   */
  flagsIn(text: string): Uint8Array;
  /**
   * {@link KeywordIndex.flagsIn} plus where each keyword occurs, in code units
   * of `text` itself (no lower-cased copy, so offsets need no mapping); both
   * are reused by the next call. The places fold U+017F (LATIN SMALL LETTER
   * LONG S) to `s` as well, as RE2's case-insensitive `s` matches it, so a
   * pattern's match that holds a keyword case-insensitively holds one of
   * these places; the flags stay those of `text.toLowerCase()`. `undefined`
   * when some keyword is not lower-case ASCII (the text would have to be
   * lower-cased, which moves offsets).
   */
  occurrencesIn(text: string): { flags: Uint8Array; occurrences: KeywordOccurrences } | undefined;
  /**
   * Adds `sign` to `counts[k]` for every place of keyword `k` in `text` that
   * overlaps one of `ranges` (sorted, disjoint), reading only the text around
   * them: how a decoding pass keeps per-keyword counts without reading the
   * whole text again. `false` (and `counts` left half-updated) when the text
   * there holds U+017F, whose places and lower case disagree, or when the
   * keywords are not lower-case ASCII.
   */
  countNear(text: string, ranges: readonly { start: number; end: number }[], counts: Int32Array, sign: number): boolean;
}

/**
 * Where keywords occur in a text: keyword `k` (an index of
 * {@link KeywordIndex.keywords}) starts at the offsets
 * `starts[offsets[k]] .. starts[offsets[k + 1] - 1]`, in ascending order.
 */
export interface KeywordOccurrences {
  readonly offsets: Int32Array;
  readonly starts: Int32Array;
}

/**
 * Builds the automaton. Matching is one table step per code unit of the text,
 * plus, once per automaton state reached, the keywords ending there, so text
 * made of keywords costs no more than any other text.
 *
 * @example
 * ```ts
 * const index = createKeywordIndex(['ghp_', 'token']);
 * index.present('const token = "ghp_…"'); // Set { 'ghp_', 'token' }
 * ```
 */
export function createKeywordIndex(words: Iterable<string>): KeywordIndex {
  const keywords = [...new Set(words)].filter((k) => k !== '');
  // the alphabet: every code unit in some keyword gets a symbol (1..); every other code unit is symbol 0
  const symbolOf = new Uint16Array(65_536);
  let symbols = 1;
  for (const k of keywords) {
    for (let i = 0; i < k.length; i += 1) {
      const c = k.charCodeAt(i);
      if (symbolOf[c] === 0) {
        symbolOf[c] = symbols;
        symbols += 1;
      }
    }
  }
  // the trie
  const children: Map<number, number>[] = [new Map()];
  const outputs: number[][] = [[]];
  for (const [id, k] of keywords.entries()) {
    let s = 0;
    for (let i = 0; i < k.length; i += 1) {
      const sym = symbolOf[k.charCodeAt(i)] as number;
      let next = children[s]?.get(sym);
      if (next === undefined) {
        next = children.length;
        children.push(new Map());
        outputs.push([]);
        children[s]?.set(sym, next);
      }
      s = next;
    }
    outputs[s]?.push(id);
  }
  // breadth first: failure links folded into a full transition table (a DFA)
  const states = children.length;
  const delta = new Int32Array(states * symbols);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (let sym = 1; sym < symbols; sym += 1) {
    const next = children[0]?.get(sym);
    if (next !== undefined) {
      delta[sym] = next;
      queue.push(next);
    }
  }
  for (let head = 0; head < queue.length; head += 1) {
    const s = queue[head] as number;
    const f = fail[s] as number;
    for (const k of outputs[f] ?? []) outputs[s]?.push(k);
    for (let sym = 1; sym < symbols; sym += 1) {
      const next = children[s]?.get(sym);
      if (next === undefined) delta[s * symbols + sym] = delta[f * symbols + sym] as number;
      else {
        fail[next] = delta[f * symbols + sym] as number;
        delta[s * symbols + sym] = next;
        queue.push(next);
      }
    }
  }
  // the matching table: rows of a power-of-two width, each entry the next state's row offset,
  // negated (minus one) when that state ends a keyword, so the inner loop does one load and one test
  let shift = 0;
  while (1 << shift < symbols) shift += 1;
  const table = new Int32Array(states << shift);
  for (let s = 0; s < states; s += 1) {
    for (let sym = 0; sym < symbols; sym += 1) {
      const next = delta[s * symbols + sym] as number;
      table[(s << shift) + sym] = (outputs[next]?.length ?? 0) > 0 ? -(next << shift) - 1 : next << shift;
    }
  }
  // per call: which output states were already reported (an epoch per call, no clearing)
  const seenAt = new Uint32Array(states);
  let epoch = 0;
  const flags = new Uint8Array(keywords.length);

  // Folding while reading: when every keyword is lower-case ASCII, the only code units whose
  // lower case holds a keyword character are A-Z, U+212A KELVIN SIGN ('k') and U+0130 (whose
  // lower case is 'i' then U+0307, a character no keyword holds); every other code unit's
  // lower case (surrogate pairs included) holds no ASCII character, so it can end no keyword.
  const foldable = keywords.every((k) => {
    for (let i = 0; i < k.length; i += 1) {
      const c = k.charCodeAt(i);
      if (c >= 0x80 || (c >= 0x41 && c <= 0x5a)) return false;
    }
    return true;
  });
  const folded = foldable ? symbolOf.slice() : symbolOf;
  if (foldable) {
    for (let c = 0x41; c <= 0x5a; c += 1) folded[c] = symbolOf[c + 32] as number;
    folded[0x212a] = symbolOf[0x6b] as number;
  }
  const I_WITH_DOT = 0x130;
  const LONG_S = 0x17f;
  const symI = symbolOf[0x69] as number;
  // the places' table: also U+017F as 's' (RE2 folds it with s; String#toLowerCase leaves it)
  const liberal = folded.slice();
  if (foldable) liberal[LONG_S] = symbolOf[0x73] as number;
  const lengths = Int32Array.from(keywords, (k) => k.length);
  // every (keyword, end) pair of the last call, grown as needed
  let hitKeyword = new Int32Array(256);
  let hitEnd = new Int32Array(256);
  const offsets = new Int32Array(keywords.length + 1);
  let starts = new Int32Array(256);

  /** Flags the keywords ending at state `s`, once per call; returns how many were new. */
  const mark = (s: number): number => {
    if (seenAt[s] === epoch) return 0;
    seenAt[s] = epoch;
    let added = 0;
    for (const k of outputs[s] as number[]) {
      if (flags[k] === 0) {
        flags[k] = 1;
        added += 1;
      }
    }
    return added;
  };

  /** Runs the automaton over `text` (folding it when `fold`), setting `flags`; returns how many were found. */
  const run = (text: string, fold: boolean): number => {
    flags.fill(0);
    if (keywords.length === 0) return 0;
    epoch += 1;
    if (epoch === 0xffffffff) {
      seenAt.fill(0);
      epoch = 1;
    }
    // locals, not the enclosing scope's variables: the loop reads them on every code unit
    const sym = fold ? folded : symbolOf;
    const tableHere = table;
    const shiftHere = shift;
    const all = keywords.length;
    const n = text.length;
    let found = 0;
    let row = 0;
    for (let i = 0; i < n; i += 1) {
      const c = text.charCodeAt(i);
      let v: number;
      if (fold && c === I_WITH_DOT) {
        // 'i', then U+0307 (symbol 0) once the keywords ending at the 'i' are counted
        v = tableHere[row + symI] as number;
        if (v < 0) {
          const s = (-v - 1) >> shiftHere;
          found += mark(s);
          row = -v - 1;
        } else row = v;
        v = tableHere[row] as number;
      } else v = tableHere[row + (sym[c] as number)] as number;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = -v - 1;
      const s = row >> shiftHere;
      found += mark(s);
      if (found === all) break;
    }
    return found;
  };

  /** Records every keyword ending at each offset of `text` (liberal folding); returns how many were recorded. */
  /** Stores one (keyword, end) pair at `at`, growing the arrays; returns `at + 1`. */
  const store = (at: number, keyword: number, end: number): number => {
    if (at === hitKeyword.length) {
      const grownKeyword = new Int32Array(at * 2);
      grownKeyword.set(hitKeyword);
      hitKeyword = grownKeyword;
      const grownEnd = new Int32Array(at * 2);
      grownEnd.set(hitEnd);
      hitEnd = grownEnd;
    }
    hitKeyword[at] = keyword;
    hitEnd[at] = end;
    return at + 1;
  };

  /**
   * Records every keyword ending at each offset of `text` from `from` to `to`
   * (read in place: a slice would be a string of another representation),
   * liberal folding; returns how many were recorded.
   */
  const record = (text: string, from = 0, to = text.length): number => {
    // locals, not the enclosing scope's variables: the loop reads them on every code unit
    const tableHere = table;
    const symHere = liberal;
    const shiftHere = shift;
    const n = to;
    let hits = 0;
    let row = 0;
    for (let i = from; i < n; i += 1) {
      const c = text.charCodeAt(i);
      let v: number;
      if (c === I_WITH_DOT) {
        v = tableHere[row + symI] as number;
        if (v < 0) {
          row = -v - 1;
          for (const k of outputs[row >> shiftHere] as number[]) hits = store(hits, k, i);
        } else row = v;
        v = tableHere[row] as number;
      } else v = tableHere[row + (symHere[c] as number)] as number;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = -v - 1;
      for (const k of outputs[row >> shiftHere] as number[]) hits = store(hits, k, i);
    }
    return hits;
  };

  return Object.freeze({
    keywords,
    present(lower: string): Set<string> {
      const found = new Set<string>();
      if (run(lower, false) === 0) return found;
      for (const [k, on] of flags.entries()) if (on === 1) found.add(keywords[k] as string);
      return found;
    },
    flagsIn(text: string): Uint8Array {
      if (foldable) run(text, true);
      else run(text.toLowerCase(), false);
      return flags;
    },
    countNear(
      text: string,
      ranges: readonly { start: number; end: number }[],
      counts: Int32Array,
      sign: number,
    ): boolean {
      if (!foldable) return false;
      if (keywords.length === 0 || ranges.length === 0) return true;
      const reach = Math.max(...lengths) - 1;
      const anyLongS = text.indexOf(String.fromCharCode(LONG_S)) !== -1;
      let i = 0;
      while (i < ranges.length) {
        const a = Math.max(0, (ranges[i] as { start: number }).start - reach);
        let b = Math.min(text.length, (ranges[i] as { end: number }).end + reach);
        let j = i + 1;
        while (j < ranges.length && (ranges[j] as { start: number }).start - reach <= b) {
          b = Math.min(text.length, (ranges[j] as { end: number }).end + reach);
          j += 1;
        }
        if (anyLongS) {
          for (let at = a; at < b; at += 1) if (text.charCodeAt(at) === LONG_S) return false;
        }
        const hits = record(text, a, b);
        for (let h = 0; h < hits; h += 1) {
          const k = hitKeyword[h] as number;
          const end = (hitEnd[h] as number) + 1;
          const start = end - (lengths[k] as number);
          // does [start, end) overlap one of ranges i..j-1? (binary search for the first that ends after start)
          let lo = i;
          let hi = j;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if ((ranges[mid] as { end: number }).end <= start) lo = mid + 1;
            else hi = mid;
          }
          if (lo < j && (ranges[lo] as { start: number }).start < end) counts[k] = (counts[k] as number) + sign;
        }
        i = j;
      }
      return true;
    },
    occurrencesIn(text: string) {
      if (!foldable) return undefined;
      const hits = keywords.length === 0 ? 0 : record(text);
      // the flags: every keyword recorded, unless a long s made one up (then as toLowerCase reads)
      if (text.indexOf(String.fromCharCode(LONG_S)) !== -1) run(text, true);
      else {
        flags.fill(0);
        for (let h = 0; h < hits; h += 1) flags[hitKeyword[h] as number] = 1;
      }
      // grouped by keyword, ascending within each (the hits are in order of their end)
      offsets.fill(0);
      for (let h = 0; h < hits; h += 1) {
        const at = (hitKeyword[h] as number) + 1;
        offsets[at] = (offsets[at] as number) + 1;
      }
      for (let k = 0; k < keywords.length; k += 1) offsets[k + 1] = (offsets[k + 1] as number) + (offsets[k] as number);
      if (starts.length < hits) starts = new Int32Array(hits * 2);
      const next = offsets.slice(0, keywords.length);
      for (let h = 0; h < hits; h += 1) {
        const k = hitKeyword[h] as number;
        const at = next[k] as number;
        starts[at] = (hitEnd[h] as number) - (lengths[k] as number) + 1;
        next[k] = at + 1;
      }
      return { flags, occurrences: { offsets, starts } };
    },
  });
}

const byConfig = new WeakMap<object, KeywordIndex>();

/**
 * The keyword index of a compiled configuration's rules, built once per configuration.
 *
 * @example
 * ```ts
 * const present = keywordIndexOf(config).present(text.toLowerCase());
 * ```
 */
export function keywordIndexOf(config: {
  readonly rules: readonly { readonly keywords: readonly string[] }[];
}): KeywordIndex {
  let index = byConfig.get(config);
  if (!index) {
    index = createKeywordIndex(config.rules.flatMap((r) => r.keywords));
    byConfig.set(config, index);
  }
  return index;
}
