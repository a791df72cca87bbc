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
  const symI = symbolOf[0x69] as number;

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
    const sym = fold ? folded : symbolOf;
    let found = 0;
    let row = 0;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      let v: number;
      if (fold && c === I_WITH_DOT) {
        // 'i', then U+0307 (symbol 0) once the keywords ending at the 'i' are counted
        v = table[row + symI] as number;
        if (v < 0) {
          const s = (-v - 1) >> shift;
          found += mark(s);
          row = -v - 1;
        } else row = v;
        v = table[row] as number;
      } else v = table[row + (sym[c] as number)] as number;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = -v - 1;
      const s = row >> shift;
      found += mark(s);
      if (found === keywords.length) break;
    }
    return found;
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
