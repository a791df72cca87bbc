// Translates an RE2 pattern into a V8 RegExp of the same meaning when that is
// provable, and only when V8's backtracking engine runs it in linear time.
//
// Same meaning: the pattern is parsed here (RE2 syntax) and emitted with every
// character class and every case-insensitive literal spelled out as explicit
// code point ranges (RE2's ASCII `\w`/`\d`/`\s`/`\b`, its simple case folding
// of `k`/`s` to U+212A/U+017F, `.` not matching `\n` only), under V8's `u`
// flag (code points, like RE2) and without its `i` or `m` flags. Constructs
// whose meaning differs between the engines are refused: a capture group
// inside a repetition (V8 resets it per iteration, RE2 keeps the last), a
// repetition of something that can match the empty string, `(?U)`, Unicode
// classes `\p{…}`, `\Q…\E`, case folding of non-ASCII letters.
//
// Linear time: only patterns without an unbounded repetition are accepted, and
// only when the number of ways the pattern can match from one start position
// (the paths a backtracking engine may try there) is at most MAX_PATHS. Work
// per start position is then bounded by a constant of the pattern, so a scan
// is linear in the text whatever the text holds. Everything refused runs on
// re2js.

/** The most paths from one start position a pattern run on V8 may have. */
export const MAX_PATHS = 1_000_000;

const MAX_CP = 0x10ffff;
type Ranges = [number, number][];

type Node =
  | { readonly t: 'class'; readonly ranges: Ranges }
  | { readonly t: 'cat'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  | { readonly t: 'group'; readonly capture: boolean; readonly node: Node }
  | { readonly t: 'rep'; readonly node: Node; readonly min: number; readonly max: number; readonly lazy: boolean }
  | { readonly t: 'assert'; readonly js: string };

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
}

class Refused extends Error {}

const refuse = (why: string): never => {
  throw new Refused(why);
};

function normalise(r: Ranges): Ranges {
  const sorted = [...r].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function negate(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of normalise(r)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

const isCased = (cp: number): boolean => {
  const s = String.fromCodePoint(cp);
  return s.toLowerCase() !== s || s.toUpperCase() !== s;
};

/** RE2's simple case folding for ASCII letters (k and s have a third member); non-ASCII cased letters are refused. */
function fold(r: Ranges): Ranges {
  const out: Ranges = [...r];
  // every non-ASCII code point (`[\s\S]`, `[^a]`): folding adds no non-ASCII one, only the ASCII
  // partners of the Kelvin sign and the long s, and those of the ASCII letters below
  const allNonAscii = r.some(([lo, hi]) => lo <= 0x80 && hi >= MAX_CP);
  if (allNonAscii) out.push([0x4b, 0x4b], [0x6b, 0x6b], [0x53, 0x53], [0x73, 0x73]);
  for (const [lo, hi] of r) {
    if (allNonAscii && hi >= 0x80) {
      for (let cp = lo; cp <= 0x7f; cp += 1) out.push(...asciiFold(cp));
      continue;
    }
    if (hi >= 0x80) {
      const from = Math.max(lo, 0x80);
      // only ranges of a few thousand code points are checked; larger ones certainly hold cased letters
      if (hi - from > 0x3000) refuse('case folding of a large non-ASCII range');
      for (let cp = from; cp <= hi; cp += 1) if (isCased(cp)) refuse('case folding of a non-ASCII letter');
    }
    for (let cp = lo; cp <= Math.min(hi, 0x7f); cp += 1) out.push(...asciiFold(cp));
  }
  return normalise(out);
}

/** The code points an ASCII code point folds with, itself included (k and s have a third member). */
function asciiFold(cp: number): Ranges {
  const isUpper = cp >= 0x41 && cp <= 0x5a;
  const isLower = cp >= 0x61 && cp <= 0x7a;
  if (!isUpper && !isLower) return [[cp, cp]];
  const lower = isUpper ? cp + 32 : cp;
  const out: Ranges = [
    [lower, lower],
    [lower - 32, lower - 32],
  ];
  if (lower === 0x6b) out.push([0x212a, 0x212a]);
  if (lower === 0x73) out.push([0x17f, 0x17f]);
  return out;
}

const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: Ranges = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];
const POSIX: Record<string, Ranges> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const flags: Flags = { i: false, s: false, m: false };
    const node = this.alternation(flags);
    if (this.pos < this.src.length) refuse('unbalanced parenthesis');
    return node;
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  private cp(): number {
    const c = this.src.codePointAt(this.pos);
    if (c === undefined) return refuse('unexpected end');
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  /** `flags` is changed in place by `(?i)` and the like: they last to the end of the enclosing group. */
  private alternation(flags: Flags): Node {
    const items: Node[] = [this.concat(flags)];
    while (this.peek() === '|') {
      this.pos += 1;
      items.push(this.concat(flags));
    }
    return items.length === 1 ? (items[0] as Node) : { t: 'alt', items };
  }

  private concat(flags: Flags): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom(flags);
      if (atom === undefined) continue;
      items.push(this.quantified(atom));
    }
    return { t: 'cat', items };
  }

  private quantified(atom: Node): Node {
    let node = atom;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        this.pos += 1;
        min = c === '+' ? 1 : 0;
        max = c === '?' ? 1 : Number.POSITIVE_INFINITY;
      } else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
        if (!m) return node; // RE2 reads a `{` that opens no repeat as a literal
        this.pos += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      } else return node;
      let lazy = false;
      if (this.peek() === '?') {
        lazy = true;
        this.pos += 1;
      }
      if (node.t === 'rep') refuse('a repeated repetition');
      node = { t: 'rep', node, min, max, lazy };
    }
  }

  private atom(flags: Flags): Node | undefined {
    const c = this.peek();
    if (c === '(') return this.group(flags);
    if (c === '[') return this.charClass(flags);
    if (c === '.') {
      this.pos += 1;
      return { t: 'class', ranges: flags.s ? [[0, MAX_CP]] : negate([[0x0a, 0x0a]]) };
    }
    if (c === '^') {
      this.pos += 1;
      return { t: 'assert', js: flags.m ? '(?<![^\\n])' : '^' };
    }
    if (c === '$') {
      this.pos += 1;
      return { t: 'assert', js: flags.m ? '(?![^\\n])' : '$' };
    }
    if (c === '\\') return this.escape(flags);
    if (c === '*' || c === '+' || c === '?') refuse('missing argument to repetition operator');
    return this.literal(this.cp(), flags);
  }

  private literal(cp: number, flags: Flags): Node {
    const ranges: Ranges = [[cp, cp]];
    return { t: 'class', ranges: flags.i ? fold(ranges) : ranges };
  }

  private group(flags: Flags): Node | undefined {
    this.pos += 1; // (
    let capture = true;
    let inner: Flags = { ...flags };
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos);
      const named = /^\?P?<([A-Za-z0-9_]+)>/.exec(rest);
      if (named) this.pos += named[0].length;
      else {
        const m = /^\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
        if (!m) return refuse('unsupported group');
        this.pos += m[0].length;
        const target: Flags = m[3] === ')' ? flags : inner;
        for (const f of m[1] ?? '') this.setFlag(target, f, true);
        for (const f of m[2] ?? '') this.setFlag(target, f, false);
        if (m[3] === ')') return undefined; // the flags hold to the end of the enclosing group
        capture = false;
      }
    }
    inner = capture ? { ...flags } : inner;
    const node = this.alternation(inner);
    if (this.peek() !== ')') refuse('missing closing )');
    this.pos += 1;
    return { t: 'group', capture, node };
  }

  private setFlag(target: Flags, f: string, on: boolean): void {
    if (f === 'U') refuse('(?U)');
    if (f === 'i' || f === 's' || f === 'm') target[f] = on;
  }

  private perlClass(letter: string): Ranges | undefined {
    const base =
      letter.toLowerCase() === 'd'
        ? DIGIT
        : letter.toLowerCase() === 'w'
          ? WORD
          : letter.toLowerCase() === 's'
            ? SPACE
            : undefined;
    return base;
  }

  /** An escape outside a class: a class, an assertion or a literal. */
  private escape(flags: Flags): Node {
    this.pos += 1;
    const c = this.peek();
    const perl = this.perlClass(c);
    if (perl) {
      this.pos += 1;
      const folded = flags.i ? fold(perl) : perl;
      return { t: 'class', ranges: c === c.toUpperCase() ? negate(folded) : folded };
    }
    if (c === 'b' || c === 'B') {
      this.pos += 1;
      return { t: 'assert', js: `\\${c}` };
    }
    if (c === 'A') {
      this.pos += 1;
      return { t: 'assert', js: '^' };
    }
    if (c === 'z') {
      this.pos += 1;
      return { t: 'assert', js: '$' };
    }
    return this.literal(this.escapedChar(), flags);
  }

  /** The code point of a literal escape (`\x41`, `\x{1F600}`, `\n`, `\.`), the backslash already read. */
  private escapedChar(): number {
    const c = this.peek();
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (c in simple) {
      this.pos += 1;
      return simple[c] as number;
    }
    if (c === 'x') {
      const rest = this.src.slice(this.pos);
      const m = /^x(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(rest);
      if (!m) return refuse('bad \\x escape');
      this.pos += m[0].length;
      const v = Number.parseInt(m[1] ?? m[2] ?? '', 16);
      if (v > MAX_CP) refuse('escape beyond Unicode');
      return v;
    }
    // any punctuation may be escaped; letters and digits name something this translator leaves to RE2
    if (/^[!-/:-@[-`{-~]$/.test(c)) {
      this.pos += 1;
      return c.charCodeAt(0);
    }
    return refuse(`unsupported escape \\${c}`);
  }

  private charClass(flags: Flags): Node {
    this.pos += 1; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos += 1;
    }
    const ranges: Ranges = [];
    const negatedItems: Ranges[] = [];
    let first = true;
    while (this.peek() !== ']' || first) {
      if (this.pos >= this.src.length) refuse('missing closing ]');
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix) {
        const set = POSIX[posix[2] ?? ''];
        if (!set) refuse('unknown POSIX class');
        this.pos += posix[0].length;
        if (posix[1] === '^') negatedItems.push(set as Ranges);
        else ranges.push(...(set as Ranges));
        continue;
      }
      if (this.peek() === '\\') {
        const letter = this.src[this.pos + 1] ?? '';
        const perl = this.perlClass(letter);
        if (perl) {
          this.pos += 2;
          if (letter === letter.toUpperCase()) negatedItems.push(perl);
          else ranges.push(...perl);
          continue;
        }
      }
      const lo = this.classChar();
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos += 1;
        const hi = this.classChar();
        if (hi < lo) refuse('bad class range');
        ranges.push([lo, hi]);
      } else ranges.push([lo, lo]);
    }
    this.pos += 1; // ]
    // as RE2 folds a class: each item with its fold partners, and a negated item (`\\S`, `[:^alpha:]`)
    // as the negation of its folded group, so that no partner of what it leaves out comes back
    const folded = flags.i ? fold(normalise(ranges)) : normalise(ranges);
    const all = [...folded];
    for (const item of negatedItems) all.push(...negate(flags.i ? fold(normalise(item)) : item));
    const set = normalise(all);
    return { t: 'class', ranges: negated ? negate(set) : set };
  }

  private classChar(): number {
    if (this.peek() === '\\') {
      this.pos += 1;
      return this.escapedChar();
    }
    return this.cp();
  }
}

/** Whether a node can match the empty string. */
function nullable(n: Node): boolean {
  switch (n.t) {
    case 'class':
      return false;
    case 'assert':
      return true;
    case 'cat':
      return n.items.every(nullable);
    case 'alt':
      return n.items.some(nullable);
    case 'group':
      return nullable(n.node);
    case 'rep':
      return n.min === 0 || nullable(n.node);
  }
}

function hasCapture(n: Node): boolean {
  switch (n.t) {
    case 'group':
      return n.capture || hasCapture(n.node);
    case 'cat':
    case 'alt':
      return n.items.some(hasCapture);
    case 'rep':
      return hasCapture(n.node);
    default:
      return false;
  }
}

// The cost of a pattern on a backtracking engine. A repetition of one class C
// is deterministic when no character of C can begin what follows it: only one
// count can then lead on (the whole run of C, capped by the bound), so it adds
// no paths, only the run it reads. An unbounded repetition is accepted only
// when deterministic and entered at the start of a run of C (the character
// before it cannot be in C, and it is not at the start of the pattern): each
// maximal run is then read from a bounded number of (start, path) pairs, so
// the runs read add up to a constant times the text. Zero-width `\b`, `\B` and
// multi-line anchors are looked through; `^` and `$` (start and end of the
// text) stop a run.

/** Characters a node may begin (or end) with, and whether it may consume nothing. */
interface Edge {
  readonly chars: Ranges;
  readonly passable: boolean;
}

const isEdgeAssert = (n: Node) => n.t === 'assert' && (n.js === '^' || n.js === '$');

function edge(n: Node, side: 'first' | 'last'): Edge {
  switch (n.t) {
    case 'class':
      return { chars: n.ranges, passable: false };
    case 'assert':
      return { chars: [], passable: !isEdgeAssert(n) };
    case 'group':
      return edge(n.node, side);
    case 'rep': {
      const inner = edge(n.node, side);
      return { chars: n.max === 0 ? [] : inner.chars, passable: n.min === 0 || inner.passable };
    }
    case 'alt': {
      const all = n.items.map((x) => edge(x, side));
      return { chars: normalise(all.flatMap((e) => e.chars)), passable: all.some((e) => e.passable) };
    }
    case 'cat': {
      const items = side === 'first' ? n.items : [...n.items].reverse();
      const chars: Ranges = [];
      for (const x of items) {
        const e = edge(x, side);
        chars.push(...e.chars);
        if (!e.passable) return { chars: normalise(chars), passable: false };
      }
      return { chars: normalise(chars), passable: true };
    }
  }
}

/** What can come right after (follow) or right before (precede) a node; `start`: the node may begin a match. */
interface Context {
  readonly follow: Ranges;
  readonly precede: Ranges;
  readonly start: boolean;
}

function intersects(a: Ranges, b: Ranges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as [number, number];
    const y = b[j] as [number, number];
    if (x[1] < y[0]) i += 1;
    else if (y[1] < x[0]) j += 1;
    else return true;
  }
  return false;
}

const within = (a: Ranges, b: Ranges) => a.every(([lo, hi]) => b.some(([l, h]) => l <= lo && hi <= h));

/** The characters at each leading position every match of `n` has, as far as they are fixed. */
function prefixSets(n: Node): Ranges[] {
  return prefix(n).sets;
}

function prefix(n: Node): { sets: Ranges[]; complete: boolean } {
  switch (n.t) {
    case 'class':
      return { sets: [n.ranges], complete: true };
    case 'assert':
      return { sets: [], complete: !isEdgeAssert(n) };
    case 'group':
      return prefix(n.node);
    case 'cat': {
      const sets: Ranges[] = [];
      for (const x of n.items) {
        const p = prefix(x);
        sets.push(...p.sets);
        if (!p.complete) return { sets, complete: false };
      }
      return { sets, complete: true };
    }
    case 'alt': {
      const all = n.items.map(prefix);
      const len = Math.min(...all.map((p) => p.sets.length));
      const sets: Ranges[] = [];
      for (let k = 0; k < len; k += 1) sets.push(normalise(all.flatMap((p) => p.sets[k] as Ranges)));
      const complete = all.every((p) => p.complete && p.sets.length === len);
      return { sets, complete };
    }
    case 'rep': {
      const p = prefix(n.node);
      if (n.min === 0) return { sets: [], complete: n.max === 0 };
      if (!p.complete) return p;
      const sets: Ranges[] = [];
      for (let k = 0; k < n.min && sets.length < 64; k += 1) sets.push(...p.sets);
      return { sets, complete: n.min === n.max && sets.length === p.sets.length * n.min };
    }
  }
}

/** An upper bound of the paths a backtracking engine may try from one start position (infinite: refused). */
function cost(n: Node, ctx: Context): number {
  switch (n.t) {
    case 'class':
    case 'assert':
      return 1;
    case 'group':
      return cost(n.node, ctx);
    case 'alt': {
      const costs = n.items.map((x) => cost(x, ctx));
      const heads = n.items.map(prefixSets);
      // branches that cannot match at the same position (they differ in some leading character): one leads on
      const firsts = n.items.map((x) => edge(x, 'first'));
      const apart = (i: number, j: number): boolean => {
        const [e, f] = [firsts[i] as Edge, firsts[j] as Edge];
        if (!e.passable && !f.passable && !intersects(e.chars, f.chars)) return true;
        const [a, b] = [heads[i] as Ranges[], heads[j] as Ranges[]];
        return a.some((set, k) => k < b.length && !intersects(set, b[k] as Ranges));
      };
      const exclusive = heads.every((_, i) => heads.every((__, j) => j <= i || apart(i, j)));
      return exclusive ? Math.max(...costs) : costs.reduce((a, b) => a + b, 0);
    }
    case 'cat': {
      const items = n.items;
      // what follows and precedes each item inside this concatenation
      const follows: Ranges[] = [];
      const precedes: { chars: Ranges; start: boolean }[] = [];
      let after: Ranges = ctx.follow;
      for (let i = items.length - 1; i >= 0; i -= 1) {
        follows[i] = after;
        const e = edge(items[i] as Node, 'first');
        after = e.passable ? normalise([...e.chars, ...after]) : e.chars;
      }
      let before = { chars: ctx.precede, start: ctx.start };
      for (let i = 0; i < items.length; i += 1) {
        precedes[i] = before;
        const item = items[i] as Node;
        const e = edge(item, 'last');
        const nextFirst = i + 1 < items.length ? edge(items[i + 1] as Node, 'first') : undefined;
        if (
          item.t === 'assert' &&
          item.js === '\\b' &&
          nextFirst &&
          !nextFirst.passable &&
          within(nextFirst.chars, WORD)
        ) {
          // a word boundary before a word character: the character before is not a word character
          before = { chars: negate(WORD), start: false };
          continue;
        }
        before = e.passable
          ? { chars: normalise([...e.chars, ...before.chars]), start: before.start }
          : { chars: e.chars, start: false };
      }
      let total = 1;
      for (let i = 0; i < items.length; i += 1) {
        const item = items[i] as Node;
        const p = precedes[i] as { chars: Ranges; start: boolean };
        const here: Context = { follow: follows[i] as Ranges, precede: p.chars, start: p.start };
        if (item.t === 'rep' && item.node.t === 'class' && item.max === Number.POSITIVE_INFINITY) {
          const c = item.node.ranges;
          if (intersects(c, here.follow)) return Number.POSITIVE_INFINITY;
          // entered at the start of a run of c: directly, or after single characters of c
          let j = i;
          const inC = (x: Node): boolean =>
            (x.t === 'class' && within(x.ranges, c)) ||
            (x.t === 'rep' && x.node.t === 'class' && x.min >= 1 && Number.isFinite(x.max) && within(x.node.ranges, c));
          while (j > 0 && inC(items[j - 1] as Node)) {
            j -= 1;
          }
          const entry = precedes[j] as { chars: Ranges; start: boolean };
          if (entry.start || intersects(entry.chars, c)) return Number.POSITIVE_INFINITY;
          continue;
        }
        total *= cost(item, here);
      }
      return total;
    }
    case 'rep': {
      if (n.node.t === 'class') {
        if (n.max === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY; // only accepted inside a concatenation
        return intersects(n.node.ranges, ctx.follow) ? n.max - n.min + 1 : 1;
      }
      if (n.max === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
      const first = edge(n.node, 'first');
      const last = edge(n.node, 'last');
      // a second iteration puts the node after (and before) itself
      const again = n.max > 1;
      const inner: Context = {
        follow: again ? normalise([...first.chars, ...ctx.follow]) : ctx.follow,
        precede: again ? normalise([...last.chars, ...ctx.precede]) : ctx.precede,
        start: ctx.start,
      };
      const p = cost(n.node, inner);
      let total = 0;
      for (let k = n.min; k <= n.max && total <= MAX_PATHS; k += 1) total += p ** k;
      return total;
    }
  }
}

function check(n: Node): void {
  if (n.t === 'rep') {
    if (n.max > 1 && hasCapture(n.node)) refuse('a capture group inside a repetition');
    if (nullable(n.node)) refuse('a repetition of something that may match nothing');
    check(n.node);
  } else if (n.t === 'cat' || n.t === 'alt') n.items.forEach(check);
  else if (n.t === 'group') check(n.node);
}

const hex = (cp: number) => `\\u{${cp.toString(16)}}`;

function emit(n: Node): string {
  switch (n.t) {
    case 'class': {
      const r = n.ranges;
      const [only] = r;
      if (r.length === 1 && only && only[0] === only[1]) return hex(only[0]);
      if (r.length === 1 && only && only[0] === 0 && only[1] === MAX_CP) return '[\\s\\S]';
      return `[${r.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')}]`;
    }
    case 'assert':
      return n.js;
    case 'cat':
      return n.items.map((x) => (x.t === 'alt' ? `(?:${emit(x)})` : emit(x))).join('');
    case 'alt':
      return n.items.map(emit).join('|');
    case 'group':
      return n.capture ? `(${emit(n.node)})` : `(?:${emit(n.node)})`;
    case 'rep': {
      const inner = n.node.t === 'class' || n.node.t === 'group' ? emit(n.node) : `(?:${emit(n.node)})`;
      const count = n.max === n.min ? `{${n.min}}` : `{${n.min},${n.max === Number.POSITIVE_INFINITY ? '' : n.max}}`;
      return `${inner}${count}${n.lazy ? '?' : ''}`;
    }
  }
}

/** The most UTF-16 code units a node may match. */
function maxWidth(n: Node): number {
  switch (n.t) {
    case 'class':
      return n.ranges.some(([, hi]) => hi > 0xffff) ? 2 : 1;
    case 'assert':
      return 0;
    case 'group':
      return maxWidth(n.node);
    case 'cat':
      return n.items.reduce((a, x) => a + maxWidth(x), 0);
    case 'alt':
      return Math.max(0, ...n.items.map(maxWidth));
    case 'rep': {
      const w = n.max === 0 ? 0 : maxWidth(n.node);
      return w === 0 ? 0 : n.max * w;
    }
  }
}

/**
 * The most UTF-16 code units one match of a pattern may span, read from its
 * syntax; `Infinity` when a repetition is unbounded or the pattern uses what
 * the parser does not read. A bound lets a scan run the pattern on a window of
 * a text instead of the whole text (see `windowed.ts`).
 *
 * @example
 * ```ts
 * maxMatchLength('key=([a-z0-9]{8})'); // 12
 * maxMatchLength('key=.+'); // Infinity
 * ```
 */
export function maxMatchLength(pattern: string): number {
  try {
    const w = maxWidth(new Parser(pattern).parse());
    return Number.isFinite(w) ? w : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The most strings {@link exactStrings} keeps for one node before it gives up. */
const MAX_EXACT = 64;

/**
 * A code point as the keyword places read it (`keyword-index.ts`): A-Z, the
 * Kelvin sign and the long s as their ASCII lower case, every other code
 * point as itself.
 */
const placeFold = (cp: number): number =>
  cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp === 0x212a ? 0x6b : cp === 0x17f ? 0x73 : cp;

const exactCache = new WeakMap<Node, { readonly strings: string[] | undefined }>();

/** Every string a node can match, folded as the keyword places read text, when there are at most MAX_EXACT. */
function exactStrings(n: Node): string[] | undefined {
  const known = exactCache.get(n);
  if (known) return known.strings;
  const strings = exactStringsOf(n);
  exactCache.set(n, { strings });
  return strings;
}

function exactStringsOf(n: Node): string[] | undefined {
  switch (n.t) {
    case 'class': {
      const out = new Set<string>();
      for (const [lo, hi] of n.ranges) {
        if (hi - lo >= MAX_EXACT) return undefined;
        for (let cp = lo; cp <= hi; cp += 1) out.add(String.fromCodePoint(placeFold(cp)));
        if (out.size > MAX_EXACT) return undefined;
      }
      return [...out];
    }
    case 'assert':
      return [''];
    case 'group':
      return exactStrings(n.node);
    case 'alt': {
      const out = new Set<string>();
      for (const item of n.items) {
        const e = exactStrings(item);
        if (!e) return undefined;
        for (const x of e) out.add(x);
        if (out.size > MAX_EXACT) return undefined;
      }
      return [...out];
    }
    case 'cat':
      return product(n.items);
    case 'rep': {
      if (n.max === 0) return [''];
      if (n.max > 8) return undefined;
      const one = exactStrings(n.node);
      if (!one) return undefined;
      const out = new Set<string>();
      let level: string[] = [''];
      for (let k = 0; k <= n.max; k += 1) {
        if (k >= n.min) for (const x of level) out.add(x);
        if (out.size > MAX_EXACT) return undefined;
        if (k === n.max) break;
        const next = cross(level, one);
        if (!next) return undefined;
        level = next;
      }
      return out.size > MAX_EXACT ? undefined : [...out];
    }
  }
}

function cross(left: readonly string[], right: readonly string[]): string[] | undefined {
  if (left.length * right.length > MAX_EXACT) return undefined;
  const out = new Set<string>();
  for (const a of left) for (const b of right) out.add(a + b);
  return [...out];
}

/** The strings a concatenation of `items` can match, or `undefined` (an item unknown, or too many). */
function product(items: readonly Node[]): string[] | undefined {
  let out: string[] | undefined = [''];
  for (const item of items) {
    const e = exactStrings(item);
    out = e && out ? cross(out, e) : undefined;
    if (!out) return undefined;
  }
  return out;
}

/** Whether every match of `n` holds one of `keywords` (folded as the keyword places read text). */
function holdsKeyword(n: Node, keywords: readonly string[]): boolean {
  const every = (strings: readonly string[] | undefined) =>
    strings !== undefined && strings.length > 0 && strings.every((x) => keywords.some((k) => x.includes(k)));
  if (every(exactStrings(n))) return true;
  switch (n.t) {
    case 'class':
    case 'assert':
      return false;
    case 'group':
      return holdsKeyword(n.node, keywords);
    case 'alt':
      return n.items.every((item) => holdsKeyword(item, keywords));
    case 'rep':
      return n.min >= 1 && holdsKeyword(n.node, keywords);
    case 'cat': {
      if (n.items.some((item) => holdsKeyword(item, keywords))) return true;
      // a run of items with few strings: a keyword may span several of them (`api[_.-]?key`)
      for (let from = 0; from < n.items.length; from += 1) {
        let strings = exactStrings(n.items[from] as Node);
        for (let to = from + 1; strings && to < n.items.length; to += 1) {
          const next = exactStrings(n.items[to] as Node);
          strings = next ? cross(strings, next) : undefined;
          if (strings && every(strings)) return true;
        }
      }
      return false;
    }
  }
}

/** The most strings a set of {@link requiredFactors} may hold. */
const MAX_FACTORS = 32;
/** The shortest string a set of {@link requiredFactors} may hold: a single character is in most texts. */
const MIN_FACTOR = 2;

const usable = (set: readonly string[] | undefined): set is string[] =>
  set !== undefined && set.length > 0 && set.length <= MAX_FACTORS && set.every((x) => x.length >= MIN_FACTOR);

/** The shortest string of a set: the set that is longest there is the rarest to meet. */
const shortest = (set: readonly string[]): number => Math.min(...set.map((x) => x.length));

/**
 * Sets of strings, every match of `n` holding (as a substring, folded as the
 * keyword places read text) one string of each set.
 */
function factorsOf(n: Node): string[][] {
  const exact = exactStrings(n);
  if (usable(exact)) return [exact];
  switch (n.t) {
    case 'class':
    case 'assert':
      return [];
    case 'group':
      return factorsOf(n.node);
    case 'rep':
      return n.min >= 1 ? factorsOf(n.node) : [];
    case 'alt': {
      // one string of some branch's best set: the sets' union
      const union = new Set<string>();
      for (const item of n.items) {
        const sets = factorsOf(item);
        if (sets.length === 0) return [];
        const best = sets.reduce((a, b) => (shortest(b) > shortest(a) ? b : a));
        for (const x of best) union.add(x);
        if (union.size > MAX_FACTORS) return [];
      }
      return [[...union]];
    }
    case 'cat': {
      const out: string[][] = [];
      for (const item of n.items) out.push(...factorsOf(item));
      // a run of items with few strings spells longer ones (`[ \t](?:-u|--user)`): the longest run from each item
      for (let from = 0; from < n.items.length; from += 1) {
        let strings = exactStrings(n.items[from] as Node);
        let best: string[] | undefined;
        for (let to = from + 1; strings && to < n.items.length; to += 1) {
          const next = exactStrings(n.items[to] as Node);
          strings = next ? cross(strings, next) : undefined;
          if (strings && strings.length > MAX_FACTORS) strings = undefined;
          if (usable(strings)) best = strings;
        }
        if (best) out.push(best);
      }
      return out;
    }
  }
}

/**
 * Sets of strings that every match of an RE2 pattern holds one of each, as
 * substrings of the match, compared as the keyword places read text (A-Z,
 * the Kelvin sign and the long s as their ASCII lower case): a text that
 * holds no string of some set, from where a search starts, holds no match
 * there. Only sets of at most 32 strings of 2 or more characters; none when
 * nothing is provable (or the pattern uses what the parser does not read).
 *
 * @example
 * ```ts
 * requiredFactors('\\bcurl\\b.*[ \\t](?:-u|--user)'); // [['curl'], ['\t-u', '\t--user', ' -u', ' --user']]
 * ```
 */
export function requiredFactors(pattern: string): string[][] {
  let tree: Node;
  try {
    tree = new Parser(pattern).parse();
  } catch {
    return [];
  }
  // the strongest first (longest shortest string, then fewest strings); a set another implies is left out
  // (every string of the other holds one of its strings: `curl` implies `url`, ` -u` implies `-u`)
  const sets = factorsOf(tree).sort((a, b) => shortest(b) - shortest(a) || a.length - b.length);
  const out: string[][] = [];
  for (const set of sets) {
    if (out.some((kept) => kept.every((x) => set.some((y) => x.includes(y))))) continue;
    out.push(set);
  }
  return out;
}

/** What a scan reads off a rule's pattern, parsed once: see {@link maxMatchLength}, {@link matchNewlines}, {@link matchesHoldKeyword}. */
export interface PatternFacts {
  readonly maxLength: number;
  readonly newlines: number;
  readonly holdsKeyword: boolean;
}

/**
 * {@link maxMatchLength}, {@link matchNewlines} and
 * {@link matchesHoldKeyword} of one pattern, from one parse.
 *
 * @example
 * ```ts
 * patternFacts('(?i)key=[a-z]{8}', ['key']); // { maxLength: 12, newlines: 0, holdsKeyword: true }
 * ```
 */
export function patternFacts(pattern: string, keywords: readonly string[]): PatternFacts {
  let tree: Node;
  try {
    tree = new Parser(pattern).parse();
  } catch {
    return { maxLength: Number.POSITIVE_INFINITY, newlines: Number.POSITIVE_INFINITY, holdsKeyword: false };
  }
  const width = maxWidth(tree);
  return {
    maxLength: Number.isFinite(width) ? width : Number.POSITIVE_INFINITY,
    newlines: maxNewlines(tree),
    holdsKeyword: keywords.length > 0 && holdsKeyword(tree, keywords),
  };
}

/**
 * Whether every match of an RE2 pattern holds one of `keywords` (lower-case
 * ASCII), read from its syntax: where a keyword occurs in a text is then
 * where a match can be. `false` when that is not provable (or the pattern
 * uses what the parser does not read), which only costs speed.
 *
 * @example
 * ```ts
 * matchesHoldKeyword('(?i)api[_.-]?key=([a-z0-9]{8})', ['api']); // true
 * matchesHoldKeyword('[a-z]+_key', ['token']); // false
 * ```
 */
export function matchesHoldKeyword(pattern: string, keywords: readonly string[]): boolean {
  if (keywords.length === 0) return false;
  try {
    return holdsKeyword(new Parser(pattern).parse(), keywords);
  } catch {
    return false;
  }
}

/** The most newlines one match of a node may hold. */
function maxNewlines(n: Node): number {
  switch (n.t) {
    case 'class':
      return n.ranges.some(([lo, hi]) => lo <= 0x0a && hi >= 0x0a) ? 1 : 0;
    case 'assert':
      return 0;
    case 'group':
      return maxNewlines(n.node);
    case 'cat':
      return n.items.reduce((a, x) => a + maxNewlines(x), 0);
    case 'alt':
      return Math.max(0, ...n.items.map(maxNewlines));
    case 'rep': {
      const inner = n.max === 0 ? 0 : maxNewlines(n.node);
      return inner === 0 ? 0 : n.max * inner;
    }
  }
}

/**
 * The most newlines one match of an RE2 pattern may hold (`Infinity` when
 * unbounded, or when the parser does not read the pattern). A pattern with a
 * bound is searched on the lines around what matters (see `windowed.ts`),
 * however long its matches may be.
 *
 * @example
 * ```ts
 * matchNewlines('key=[a-z]+'); // 0
 * matchNewlines('key=(?s:.){0,3}'); // 3
 * matchNewlines('key=\\s+'); // Infinity
 * ```
 */
export function matchNewlines(pattern: string): number {
  try {
    return maxNewlines(new Parser(pattern).parse());
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Every character a node may consume. */
function consumable(n: Node): Ranges {
  switch (n.t) {
    case 'class':
      return n.ranges;
    case 'assert':
      return [];
    case 'group':
      return consumable(n.node);
    case 'cat':
    case 'alt':
      return normalise(n.items.flatMap(consumable));
    case 'rep':
      return n.max === 0 ? [] : consumable(n.node);
  }
}

/** The first part of a top-level concatenation that must consume, after a bounded lead-in of at least one unit. */
function anchorOf(tree: Node): { source: string; lead: number; leadChars: Ranges } | undefined {
  if (tree.t === 'group') return anchorOf(tree.node);
  if (tree.t !== 'cat') return undefined;
  let lead = 0;
  const leadChars: Ranges = [];
  for (const item of tree.items) {
    const e = edge(item, 'first');
    if (!e.passable) {
      if (item.t === 'assert' || lead === 0 || !Number.isFinite(lead)) return undefined;
      return { source: emit(item), lead, leadChars: normalise(leadChars) };
    }
    lead += maxWidth(item);
    leadChars.push(...consumable(item));
  }
  return undefined;
}

/** What {@link translateRe2} decided. */
export type Re2Translation =
  | {
      readonly ok: true;
      readonly source: string;
      readonly paths: number;
      /**
       * a part every match holds within `lead` code units of its start (a
       * keyword after a lazy lead-in such as `[\w.-]{0,50}?`): the matcher
       * looks for it first and tries the whole pattern only at the `lead + 1`
       * positions before each occurrence
       */
      readonly anchor?: {
        readonly source: string;
        readonly lead: number;
        /** every character the lead-in may consume: a match starts only where a run of them reaches the anchor */
        readonly leadChars: readonly (readonly [number, number])[];
      };
    }
  | { readonly ok: false; readonly reason: string };

/**
 * The V8 source (to compile with the `u` flag) of an RE2 pattern, when it has
 * provably the same matches and groups and a bounded cost per start position;
 * otherwise why not. The pattern must already be valid RE2.
 *
 * @example
 * ```ts
 * translateRe2('(?i)key=([a-z0-9]{8})'); // { ok: true, source: '…', paths: 1 }
 * translateRe2('(a+)+$'); // { ok: false, reason: '…' }
 * ```
 */
export function translateRe2(pattern: string): Re2Translation {
  try {
    const tree = new Parser(pattern).parse();
    check(tree);
    // an empty match makes the engines step on differently (code unit or code point)
    if (nullable(tree)) return { ok: false, reason: 'the pattern may match nothing' };
    const p = cost(tree, { follow: [], precede: [], start: true });
    if (p === Number.POSITIVE_INFINITY)
      return { ok: false, reason: 'an unbounded repetition that may read a run twice' };
    if (p > MAX_PATHS) return { ok: false, reason: `more than ${MAX_PATHS} paths from one position` };
    const anchor = anchorOf(tree);
    return { ok: true, source: emit(tree), paths: p, ...(anchor ? { anchor } : {}) };
  } catch (thrown) {
    if (thrown instanceof Refused) return { ok: false, reason: thrown.message };
    throw thrown;
  }
}

/** The most leading positions {@link necessaryPrefix} spells out. */
const MAX_PREFIX_SETS = 32;

const unit = (c: number): string => `\\u${c.toString(16).padStart(4, '0')}`;

/**
 * A V8 source (to compile without flags: code units) that matches at every
 * position where some match of an RE2 pattern starts: the characters every
 * match has at its first positions, as far as they are fixed and below the
 * surrogates (one code unit each). A search may skip to its occurrences
 * without missing a match. `undefined` when fewer than two positions are fixed
 * (or the pattern uses what the translator does not parse).
 *
 * @example
 * ```ts
 * necessaryPrefix('\\b(ey[a-zA-Z0-9]{17,}\\.ey…)'); // 'ey[0-9A-Za-z]{17}', as code-unit ranges
 * ```
 */
export function necessaryPrefix(pattern: string): string | undefined {
  let tree: Node;
  try {
    tree = new Parser(pattern).parse();
  } catch (thrown) {
    if (thrown instanceof Refused) return undefined;
    throw thrown;
  }
  const sets: Ranges[] = [];
  for (const s of prefixSets(tree)) {
    if (s.length === 0 || s.some(([, hi]) => hi >= 0xd800) || sets.length >= MAX_PREFIX_SETS) break;
    sets.push(s);
  }
  if (sets.length < 2) return undefined;
  const spell = (r: Ranges): string => {
    const [only] = r;
    if (r.length === 1 && only && only[0] === only[1]) return unit(only[0]);
    return `[${r.map(([lo, hi]) => (lo === hi ? unit(lo) : `${unit(lo)}-${unit(hi)}`)).join('')}]`;
  };
  let out = '';
  for (let i = 0; i < sets.length; ) {
    const here = spell(sets[i] as Ranges);
    let j = i + 1;
    while (j < sets.length && spell(sets[j] as Ranges) === here) j += 1;
    out += j - i > 1 ? `${here}{${j - i}}` : here;
    i = j;
  }
  return out;
}
