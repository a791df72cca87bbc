// A small deterministic generator of strings matching an RE2-subset regex:
// literals and escapes, classes (ranges, negation, \d \w \s and [:alpha:]-style
// names), `.`, groups (capturing, (?:…), (?P<n>…), (?i:…)), flags (?i),
// alternation, and the quantifiers * + ? {n} {n,} {n,m} (lazy or not).
// Anchors and \b produce nothing. Unbounded repeats are generated with at
// most `limit` extra copies (gitleaks' generator uses a limit of 1).
// Throws on syntax it does not know, so the caller counts the sample as not evaluated.

/** A seeded PRNG (mulberry32): the same seed gives the same strings. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, for per-file seeds that do not depend on the file order. */
export function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

type Node =
  | { t: 'lit'; c: string }
  | { t: 'set'; chars: string }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; options: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number };

const range = (from: number, to: number) => {
  let s = '';
  for (let c = from; c <= to; c += 1) s += String.fromCharCode(c);
  return s;
};
const DIGIT = range(48, 57);
const WORD = `${range(65, 90)}${range(97, 122)}${DIGIT}_`;
const SPACE = ' \t\n\r\f\v';
const PRINTABLE = range(32, 126);
const POSIX: Record<string, string> = {
  alpha: `${range(65, 90)}${range(97, 122)}`,
  alnum: `${range(65, 90)}${range(97, 122)}${DIGIT}`,
  digit: DIGIT,
  upper: range(65, 90),
  lower: range(97, 122),
  xdigit: `${DIGIT}abcdefABCDEF`,
  space: SPACE,
  punct: PRINTABLE.replace(/[A-Za-z0-9 ]/g, ''),
  word: WORD,
};
const negate = (chars: string) => [...PRINTABLE].filter((c) => !chars.includes(c)).join('');

class Parser {
  i = 0;
  constructor(readonly src: string) {}
  fail(why: string): never {
    throw new Error(`regex: ${why} at ${this.i} in ${this.src.slice(0, 120)}`);
  }
  peek(): string | undefined {
    return this.src[this.i];
  }
  alt(): Node {
    const options = [this.cat()];
    while (this.peek() === '|') {
      this.i += 1;
      options.push(this.cat());
    }
    return options.length === 1 ? (options[0] as Node) : { t: 'alt', options };
  }
  cat(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      const atom = this.atom();
      if (atom) items.push(this.quantified(atom));
    }
    return { t: 'cat', items };
  }
  quantified(node: Node): Node {
    let out = node;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        this.i += 1;
        [min, max] = c === '*' ? [0, -1] : c === '+' ? [1, -1] : [0, 1];
      } else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m) return out; // a literal '{'
        this.i += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
      } else return out;
      if (this.peek() === '?') this.i += 1; // lazy: the same strings
      out = { t: 'rep', node: out, min, max };
    }
  }
  escape(inClass: boolean): { chars: string } | { empty: true } {
    const c = this.src[this.i++];
    if (c === undefined) this.fail('trailing backslash');
    switch (c) {
      case 'd':
        return { chars: DIGIT };
      case 'D':
        return { chars: negate(DIGIT) };
      case 'w':
        return { chars: WORD };
      case 'W':
        return { chars: negate(WORD) };
      case 's':
        return { chars: SPACE };
      case 'S':
        return { chars: negate(SPACE) };
      case 'n':
        return { chars: '\n' };
      case 'r':
        return { chars: '\r' };
      case 't':
        return { chars: '\t' };
      case 'f':
        return { chars: '\f' };
      case 'v':
        return { chars: '\v' };
      case 'x': {
        const m = /^(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{2}))/.exec(this.src.slice(this.i));
        if (!m) this.fail('bad \\x');
        this.i += m[0].length;
        return { chars: String.fromCodePoint(Number.parseInt((m[1] ?? m[2]) as string, 16)) };
      }
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        if (inClass) this.fail(`\\${c} in a class`);
        return { empty: true };
      case 'p':
      case 'P':
        this.fail('unicode class');
        break;
      default:
        if (/[A-Za-z0-9]/.test(c)) this.fail(`unknown escape \\${c}`);
        return { chars: c };
    }
    return this.fail('unreachable');
  }
  klass(): Node {
    // at '[' already consumed
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i += 1;
    }
    let chars = '';
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) this.fail('unterminated class');
      if (c === ']' && !first) {
        this.i += 1;
        break;
      }
      first = false;
      if (c === '[' && this.src[this.i + 1] === ':') {
        const end = this.src.indexOf(':]', this.i + 2);
        const name = this.src.slice(this.i + 2, end);
        const set = POSIX[name];
        if (end < 0 || set === undefined) this.fail('unknown POSIX class');
        chars += set;
        this.i = end + 2;
        continue;
      }
      let lo: string;
      this.i += 1;
      if (c === '\\') {
        const e = this.escape(true);
        if ('empty' in e) this.fail('empty escape in class');
        if (e.chars.length > 1) {
          chars += e.chars;
          continue;
        }
        lo = e.chars;
      } else lo = c;
      if (this.peek() === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i += 1;
        let hi = this.src[this.i++] as string;
        if (hi === '\\') {
          const e = this.escape(true);
          if ('empty' in e || e.chars.length !== 1) this.fail('bad range end');
          hi = e.chars;
        }
        chars += range(lo.charCodeAt(0), hi.charCodeAt(0));
      } else chars += lo;
    }
    const set = negated ? negate(chars) : chars;
    if (set === '') this.fail('empty class');
    return { t: 'set', chars: set };
  }
  atom(): Node | undefined {
    const c = this.src[this.i++] as string;
    switch (c) {
      case '(': {
        if (this.peek() === '?') {
          const rest = this.src.slice(this.i);
          const flagsOnly = /^\?[imsU-]+\)/.exec(rest);
          if (flagsOnly) {
            this.i += flagsOnly[0].length;
            return undefined;
          }
          const prefix = /^\?(?:[imsU-]*:|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(rest);
          if (!prefix) this.fail('unknown group');
          this.i += prefix[0].length;
        }
        const inner = this.alt();
        if (this.src[this.i++] !== ')') this.fail('unterminated group');
        return inner;
      }
      case '[':
        return this.klass();
      case '.':
        return { t: 'set', chars: PRINTABLE };
      case '^':
      case '$':
        return undefined;
      case '\\': {
        const e = this.escape(false);
        if ('empty' in e) return undefined;
        return e.chars.length === 1 ? { t: 'lit', c: e.chars } : { t: 'set', chars: e.chars };
      }
      case '*':
      case '+':
      case '?':
        return this.fail('quantifier without an operand');
      default:
        return { t: 'lit', c };
    }
  }
}

/** Parses `source` once; the returned function generates a new matching string per call. */
export function regexGenerator(source: string, limit = 1): (random: () => number) => string {
  const p = new Parser(source);
  const root = p.alt();
  if (p.i !== source.length) p.fail('unbalanced )');
  const pick = (random: () => number, n: number) => Math.floor(random() * n);
  const gen = (node: Node, random: () => number, out: string[]) => {
    switch (node.t) {
      case 'lit':
        out.push(node.c);
        return;
      case 'set':
        out.push(node.chars[pick(random, node.chars.length)] as string);
        return;
      case 'cat':
        for (const item of node.items) gen(item, random, out);
        return;
      case 'alt':
        gen(node.options[pick(random, node.options.length)] as Node, random, out);
        return;
      case 'rep': {
        const max = node.max < 0 ? node.min + limit : node.max;
        const n = node.min + pick(random, max - node.min + 1);
        for (let k = 0; k < n; k += 1) gen(node.node, random, out);
      }
    }
  };
  return (random) => {
    const out: string[] = [];
    gen(root, random, out);
    return out.join('');
  };
}
