// Evaluates the few Go expressions gitleaks' rule files build their samples
// with: string literals, `+`, []string{…} and map[string]string{…} literals,
// append(…), fmt.Sprintf with %s, package functions of one file or of the
// utils package (their `return` expression, with their parameters bound),
// secrets.NewSecret(<regex>) and utils.GenerateSampleSecrets (its templates
// are read from the utils source). Anything else is "not evaluated": it is
// kept as a marker with its source text, never dropped.
import { regexGenerator } from './regex-gen.js';

type Tok = { k: 'id' | 'str' | 'num' | 'op'; v: string; src: string };

/** The value of a Go string literal (interpreted or raw). */
function goString(lit: string): string {
  if (lit.startsWith('`')) return lit.slice(1, -1).replace(/\r/g, '');
  let out = '';
  for (let i = 1; i < lit.length - 1; i += 1) {
    const c = lit[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = lit[++i] as string;
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
      '"': '"',
      "'": "'",
    };
    if (e in simple) out += simple[e];
    else if (e === 'x') {
      out += String.fromCharCode(Number.parseInt(lit.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      out += String.fromCodePoint(Number.parseInt(lit.slice(i + 1, i + 1 + n), 16));
      i += n;
    } else if (/[0-7]/.test(e)) {
      out += String.fromCharCode(Number.parseInt(lit.slice(i, i + 3), 8));
      i += 2;
    } else throw new Error(`bad escape \\${e}`);
  }
  return out;
}

/** Go tokens, comments dropped, newlines turned into `;` where Go inserts one. */
export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  const ends = (t: Tok | undefined) =>
    t !== undefined && (t.k === 'id' || t.k === 'str' || t.k === 'num' || [')', ']', '}', '++', '--'].includes(t.v));
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '\n') {
      if (ends(toks[toks.length - 1])) toks.push({ k: 'op', v: ';', src: '\n' });
      i += 1;
    } else if (c === ' ' || c === '\t' || c === '\r') i += 1;
    else if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      const lit = src.slice(i, j + 1);
      toks.push({ k: 'str', v: c === '"' ? goString(lit) : lit, src: lit });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      const lit = src.slice(i, j + 1);
      toks.push({ k: 'str', v: goString(lit), src: lit });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 200)) as RegExpExecArray;
      toks.push({ k: 'id', v: m[0], src: m[0] });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9][0-9a-fA-FxX._]*/.exec(src.slice(i, i + 100)) as RegExpExecArray;
      toks.push({ k: 'num', v: m[0], src: m[0] });
      i += m[0].length;
    } else {
      const op = ['...', ':=', '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-='].find((o) =>
        src.startsWith(o, i),
      );
      const v = op ?? c;
      toks.push({ k: 'op', v, src: v });
      i += v.length;
    }
  }
  return toks;
}

/** One sample: its text, and for path rules the file path it is scanned as. */
export type Sample = { text: string; path?: string };
/** A sample the evaluator could not build: the Go source, and how many samples it stands for when known. */
export type Unevaluated = { unevaluated: string; count: number };
export type Item = Sample | Unevaluated;
export type Val =
  | { k: 'str'; s: string }
  | { k: 'list'; items: Item[] }
  | { k: 'nil' }
  | { k: 'bad'; why: string }
  | { k: 'lists'; entries: [string, Item[]][] };

class GoEvalError extends Error {}
const fail = (why: string): never => {
  throw new GoEvalError(why);
};

type Fn = { params: string[]; body: Tok[] };
/** A package: its functions and its package-level `var`s (evaluated when first read). */
export type GoPackage = { fns: Map<string, Fn>; vars: Map<string, Tok[]>; values: Map<string, Val> };

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Index of the bracket that closes the one at `i`. */
function closing(toks: Tok[], i: number): number {
  let depth = 0;
  for (let j = i; j < toks.length; j += 1) {
    const v = (toks[j] as Tok).v;
    if ((toks[j] as Tok).k !== 'op') continue;
    if (v in OPEN) depth += 1;
    else if (v === ')' || v === ']' || v === '}') {
      depth -= 1;
      if (depth === 0) return j;
    }
  }
  return fail('unbalanced brackets');
}

/** Splits toks[a,b) at top-level `sep` tokens (empty trailing parts dropped). */
function split(toks: Tok[], a: number, b: number, sep: string): [number, number][] {
  const parts: [number, number][] = [];
  let start = a;
  for (let j = a; j < b; j += 1) {
    const t = toks[j] as Tok;
    if (t.k === 'op' && t.v in OPEN) j = closing(toks, j);
    else if (t.k === 'op' && t.v === sep) {
      parts.push([start, j]);
      start = j + 1;
    }
  }
  if (start < b) parts.push([start, b]);
  return parts;
}

const text = (toks: Tok[], a: number, b: number) =>
  toks
    .slice(a, b)
    .map((t) => t.src)
    .join(' ')
    .replace(/\s+/g, ' ')
    .slice(0, 300);

/** Reads a Go file's top-level functions and vars into `pkg`. */
export function loadPackage(src: string, pkg: GoPackage = { fns: new Map(), vars: new Map(), values: new Map() }) {
  const toks = tokenize(src);
  for (let i = 0; i < toks.length; i += 1) {
    const t = toks[i] as Tok;
    if (t.k === 'id' && t.v === 'func' && toks[i + 1]?.k === 'id') {
      const name = (toks[i + 1] as Tok).v;
      const pOpen = i + 2;
      const pClose = closing(toks, pOpen);
      const params = split(toks, pOpen + 1, pClose, ',').map(([a]) => (toks[a] as Tok).v);
      let bOpen = pClose + 1;
      while ((toks[bOpen] as Tok).v !== '{') {
        if ((toks[bOpen] as Tok).v in OPEN) bOpen = closing(toks, bOpen);
        bOpen += 1;
      }
      const bClose = closing(toks, bOpen);
      pkg.fns.set(name, { params, body: toks.slice(bOpen + 1, bClose) });
      i = bClose;
    } else if (t.k === 'id' && t.v === 'func') {
      i = closing(toks, i + 1); // a method: not read
    } else if (t.k === 'id' && (t.v === 'var' || t.v === 'const') && toks[i + 1]?.k === 'id') {
      const end = split(toks, i, toks.length, ';')[0]?.[1] ?? toks.length;
      const eq = toks.findIndex((x, j) => j > i && j < end && x.v === '=');
      if (eq > 0) pkg.vars.set((toks[i + 1] as Tok).v, toks.slice(eq + 1, end));
      i = end;
    } else if (t.k === 'op' && t.v in OPEN) i = closing(toks, i);
  }
  return pkg;
}

/** What one rule function handed to utils.Validate: its true- and false-positive samples. */
export type Validated = { tps: Item[]; fps: Item[] };

/** The evaluator of one rule file: its package, the utils package, the sample templates and a PRNG. */
export class GoEvaluator {
  private readonly secretGens = new Map<string, (r: () => number) => string>();
  constructor(
    private readonly pkg: GoPackage,
    private readonly utils: GoPackage,
    private readonly templates: readonly string[],
    private readonly random: () => number,
  ) {}

  /** Runs the package function `name` and returns what each utils.Validate call in it received. */
  runRule(name: string): Validated[] {
    const fn = this.pkg.fns.get(name);
    if (!fn) return [];
    const sink: Validated[] = [];
    this.exec(fn.body, new Map(), this.pkg, sink);
    return sink;
  }

  /** The value `name`'s `return` statement gives (a value it could not build is `bad`). */
  returnOf(name: string): Val {
    const fn = this.pkg.fns.get(name);
    return fn ? this.exec(fn.body, new Map(), this.pkg, []) : { k: 'bad', why: `no function ${name}` };
  }

  private exec(body: Tok[], env: Map<string, Val>, pkg: GoPackage, sink: Validated[]): Val {
    for (const [a, b] of split(body, 0, body.length, ';')) {
      const first = body[a] as Tok;
      if (first.v === 'return') {
        return this.guard(() => this.expr(body, a + 1, b, env, pkg, sink));
      }
      let at = a;
      if (first.v === 'var' && body[a + 1]?.v === '(') {
        this.exec(body.slice(a + 2, closing(body, a + 1)), env, pkg, sink);
        continue;
      }
      if (first.v === 'var') at += 1;
      const assign = body.findIndex((t, j) => j > at && j < b && t.k === 'op' && (t.v === ':=' || t.v === '='));
      const names = assign > 0 ? split(body, at, assign, ',') : [];
      const isAssign =
        assign > 0 && names.length === 1 && names.every(([x, y]) => y - x <= 2 && (body[x] as Tok).k === 'id');
      if (isAssign) {
        const [x] = names[0] as [number, number];
        const v = this.guard(() => this.expr(body, assign + 1, b, env, pkg, sink));
        env.set((body[x] as Tok).v, v);
        continue;
      }
      if (first.k === 'id' && body[a + 1]?.v === '.' && body[a + 3]?.v === '(') {
        this.guard(() => this.expr(body, a, b, env, pkg, sink));
        continue;
      }
      if (first.v === 'for' && this.range(body, a, b, env, pkg, sink)) continue;
      if (first.v === 'var' && body[a + 1]?.k === 'id') {
        env.set((body[a + 1] as Tok).v, { k: 'nil' }); // `var x []string`
        continue;
      }
      // a statement not run (a loop, an if): each list it names gets a marker in place of what it would add
      const skippedText = text(body, a, b);
      for (const [name, v] of env) {
        if (v.k !== 'list' && v.k !== 'nil') continue;
        if (!new RegExp(`\\b${name}\\b`).test(skippedText)) continue;
        const marker = { unevaluated: `statement not run: ${skippedText}`, count: 1 };
        env.set(name, { k: 'list', items: [...(v.k === 'list' ? v.items : []), marker] });
      }
    }
    return { k: 'nil' };
  }

  /** `for k, v := range X { … }` over a list or a map[string][]string; false when it is another loop. */
  private range(body: Tok[], a: number, b: number, env: Map<string, Val>, pkg: GoPackage, sink: Validated[]): boolean {
    const m = /^for (\w+) , (\w+) := range /.exec(text(body, a, b));
    const open = body.findIndex((t, j) => j > a && j < b && t.v === '{');
    if (!m || open < 0 || closing(body, open) !== b - 1) return false;
    const over = this.guard(() => this.expr(body, a + 6, open, env, pkg, sink));
    const inner = body.slice(open + 1, b - 1);
    const bind = (k: string, v: Val) => {
      if (m[1] !== '_') env.set(m[1] as string, { k: 'str', s: k });
      if (m[2] !== '_') env.set(m[2] as string, v);
      this.exec(inner, env, pkg, sink);
    };
    if (over.k === 'lists') for (const [k, items] of over.entries) bind(k, { k: 'list', items });
    else if (over.k === 'list') {
      over.items.forEach((item, n) => {
        bind(String(n), 'text' in item ? { k: 'str', s: item.text } : { k: 'bad', why: item.unevaluated });
      });
    } else return false;
    return true;
  }

  /** The elements of a string list literal between its braces, each one evaluated on its own. */
  private strings(t: Tok[], a: number, b: number, env: Map<string, Val>, pkg: GoPackage, sink: Validated[]): Item[] {
    return split(t, a, b, ',').flatMap(([x, y]) =>
      this.items(
        this.guard(() => this.expr(t, x, y, env, pkg, sink)),
        text(t, x, y),
      ),
    );
  }

  private guard(f: () => Val): Val {
    try {
      return f();
    } catch (e) {
      if (e instanceof GoEvalError || (e instanceof Error && e.message.startsWith('regex:'))) {
        return { k: 'bad', why: e.message };
      }
      throw e;
    }
  }

  /** A value as list items: a value that could not be built stands for one unevaluated sample. */
  private items(v: Val, src: string): Item[] {
    if (v.k === 'list') return v.items;
    if (v.k === 'nil') return [];
    if (v.k === 'str') return [{ text: v.s }];
    return [{ unevaluated: `${src} (${v.k === 'bad' ? v.why : 'a map where a list was wanted'})`, count: 1 }];
  }

  private str(v: Val): string {
    if (v.k === 'str') return v.s;
    return fail(v.k === 'bad' ? v.why : `not a string (${v.k})`);
  }

  private expr(t: Tok[], a: number, b: number, env: Map<string, Val>, pkg: GoPackage, sink: Validated[]): Val {
    const parts = split(t, a, b, '+');
    if (parts.length > 1) {
      return { k: 'str', s: parts.map(([x, y]) => this.str(this.expr(t, x, y, env, pkg, sink))).join('') };
    }
    if (b <= a) return fail('empty expression');
    const first = t[a] as Tok;
    // a string literal
    if (b - a === 1 && first.k === 'str') return { k: 'str', s: first.v };
    if (b - a === 1 && first.k === 'id') {
      if (first.v === 'nil') return { k: 'nil' };
      const local = env.get(first.v);
      if (local) return local;
      return this.packageVar(first.v, pkg, sink);
    }
    if (first.v === '(' && closing(t, a) === b - 1) return this.expr(t, a + 1, b - 1, env, pkg, sink);
    // []string{…} and map[string]string{…}
    if ((first.v === '[' || first.v === 'map') && (t[b - 1] as Tok).v === '}') {
      let open = a;
      while ((t[open] as Tok).v !== '{') open = (t[open] as Tok).v === '[' ? closing(t, open) + 1 : open + 1;
      if (closing(t, open) !== b - 1) return fail('not a composite literal');
      const type = text(t, a, open);
      const out: Item[] = [];
      let listsOut: [string, Item[]][] | undefined;
      for (const [x, y] of split(t, open + 1, b - 1, ',')) {
        if (type === 'map [ string ] string') {
          const colon = split(t, x, y, ':');
          if (colon.length !== 2) return fail('bad map element');
          const [[kx, ky], [vx, vy]] = colon as [[number, number], [number, number]];
          try {
            const path = this.str(this.expr(t, kx, ky, env, pkg, sink));
            out.push({ text: this.str(this.expr(t, vx, vy, env, pkg, sink)), path });
          } catch (e) {
            if (!(e instanceof GoEvalError || (e instanceof Error && e.message.startsWith('regex:')))) throw e;
            out.push({ unevaluated: `${text(t, x, y)} (${e.message})`, count: 1 });
          }
        } else if (type === 'map [ string ] [ ] string') {
          const [[kx, ky], [vx, vy]] = split(t, x, y, ':') as [[number, number], [number, number]];
          if ((t[vx] as Tok).v !== '{' || closing(t, vx) !== vy - 1) return fail('bad map element');
          const key = this.str(this.expr(t, kx, ky, env, pkg, sink));
          listsOut = [...(listsOut ?? []), [key, this.strings(t, vx + 1, vy - 1, env, pkg, sink)]];
        } else if (type === '[ ] string') {
          out.push(
            ...this.items(
              this.guard(() => this.expr(t, x, y, env, pkg, sink)),
              text(t, x, y),
            ),
          );
        } else return fail(`composite literal of ${type}`);
      }
      return listsOut ? { k: 'lists', entries: listsOut } : { k: 'list', items: out };
    }
    // a call: name(…) or pkg.name(…)
    if (text(t, a, a + 4) === '[ ] byte (' && closing(t, a + 3) === b - 1) {
      return this.expr(t, a + 4, b - 1, env, pkg, sink);
    }
    let callee = first.v;
    let open = a + 1;
    while (t[open]?.v === '.' && t[open + 1]?.k === 'id') {
      callee = `${callee}.${(t[open + 1] as Tok).v}`;
      open += 2;
    }
    if (first.k !== 'id' || t[open]?.v !== '(' || closing(t, open) !== b - 1) {
      return fail(`unsupported expression: ${text(t, a, b)}`);
    }
    const argSpans = split(t, open + 1, b - 1, ',');
    const argSrc = argSpans.map(([x, y]) => text(t, x, y));
    const arg = (n: number) => {
      const span = argSpans[n];
      if (!span) return fail(`${callee}: missing argument ${n}`);
      return this.expr(t, span[0], span[1], env, pkg, sink);
    };
    switch (callee) {
      case 'utils.Validate':
      case 'utils.ValidateWithPaths': {
        const list = (n: number): Item[] =>
          this.items(
            this.guard(() => arg(n)),
            argSrc[n] ?? '',
          );
        sink.push({ tps: list(1), fps: list(2) });
        return { k: 'nil' };
      }
      case 'append': {
        const out: Item[] = [
          ...this.items(
            this.guard(() => arg(0)),
            argSrc[0] ?? '',
          ),
        ];
        for (let n = 1; n < argSpans.length; n += 1) {
          const [x, y] = argSpans[n] as [number, number];
          const spread = (t[y - 1] as Tok).v === '...';
          const v = this.guard(() => this.expr(t, x, spread ? y - 1 : y, env, pkg, sink));
          const items = this.items(v, argSrc[n] ?? '');
          // a whole GenerateSampleSecrets call that failed stands for one sample per template
          if (v.k === 'bad' && /GenerateSampleSecrets\b/.test(argSrc[n] ?? '')) {
            out.push({ unevaluated: `${argSrc[n]} (${v.why})`, count: this.templates.length });
          } else out.push(...items);
        }
        return { k: 'list', items: out };
      }
      case 'secrets.NewSecret': {
        const re = this.str(arg(0));
        let gen = this.secretGens.get(re);
        if (!gen) {
          gen = regexGenerator(re);
          this.secretGens.set(re, gen);
        }
        return { k: 'str', s: gen(this.random) };
      }
      case 'utils.GenerateSampleSecrets': {
        const id = this.str(arg(0));
        const secret = this.str(arg(1));
        const by: Record<string, string> = { '{i}': id, '{I}': id.toUpperCase(), '{s}': secret };
        return {
          k: 'list',
          items: this.templates.map((tpl) => ({ text: tpl.replace(/\{[iIs]\}/g, (m) => by[m] as string) })),
        };
      }
      case 'fmt.Sprintf': {
        const format = this.str(arg(0));
        let n = 1;
        const s = format.replace(/%[%a-zA-Z]/g, (verb) => {
          if (verb === '%%') return '%';
          if (verb !== '%s') return fail(`fmt.Sprintf verb ${verb}`);
          return this.str(arg(n++));
        });
        return { k: 'str', s };
      }
      case 'base64.StdEncoding.EncodeToString':
      case 'b64.StdEncoding.EncodeToString':
        return { k: 'str', s: Buffer.from(this.str(arg(0)), 'latin1').toString('base64') };
      case 'base64.RawStdEncoding.EncodeToString':
      case 'b64.RawStdEncoding.EncodeToString':
        return {
          k: 'str',
          s: Buffer.from(this.str(arg(0)), 'latin1')
            .toString('base64')
            .replace(/=+$/, ''),
        };
      case 'base64.URLEncoding.EncodeToString':
      case 'b64.URLEncoding.EncodeToString':
        return {
          k: 'str',
          s: Buffer.from(this.str(arg(0)), 'latin1')
            .toString('base64')
            .replace(/\+/g, '-')
            .replace(/\//g, '_'),
        };
      case 'base64.RawURLEncoding.EncodeToString':
      case 'b64.RawURLEncoding.EncodeToString':
        return { k: 'str', s: Buffer.from(this.str(arg(0)), 'latin1').toString('base64url') };
      case 'newPlausibleSecret': {
        // generic.go's helper (a loop): NewSecret(regex) until the secret holds a digit 1-9 and no stop word
        const re = this.str(arg(0));
        const stop = this.packageVar('DefaultStopWords', pkg, sink);
        if (stop.k !== 'list') return fail('DefaultStopWords not read');
        const words = stop.items.map((w) => ('text' in w ? w.text : fail('stop word not read')));
        const gen = regexGenerator(re);
        for (let n = 0; n < 1000; n += 1) {
          const secret = gen(this.random);
          const lower = secret.toLowerCase();
          if (/[1-9]/.test(secret) && !words.some((w) => lower.includes(w))) return { k: 'str', s: secret };
        }
        return fail(`newPlausibleSecret(${re}): no plausible secret in 1000 tries`);
      }
      case 'strings.ToUpper':
        return { k: 'str', s: this.str(arg(0)).toUpperCase() };
      case 'strings.ToLower':
        return { k: 'str', s: this.str(arg(0)).toLowerCase() };
      case 'strings.Repeat':
        return { k: 'str', s: this.str(arg(0)).repeat(Number((t[(argSpans[1] as [number, number])[0]] as Tok).v)) };
    }
    // a function of this file, or of the utils package: its return value with the arguments bound
    const [space, name] = callee.includes('.') ? (callee.split('.') as [string, string]) : ['', callee];
    const target = space === '' ? pkg : space === 'utils' ? this.utils : undefined;
    const fn = target?.fns.get(name);
    if (!target || !fn) return fail(`unknown function ${callee}`);
    const inner = new Map<string, Val>();
    fn.params.forEach((p, n) => {
      inner.set(
        p,
        this.guard(() => arg(n)),
      );
    });
    const v = this.exec(fn.body, inner, target, sink);
    if (v.k === 'bad') return fail(`${callee}: ${v.why}`);
    return v;
  }

  private packageVar(name: string, pkg: GoPackage, sink: Validated[]): Val {
    const known = pkg.values.get(name);
    if (known) return known;
    const toks = pkg.vars.get(name);
    if (!toks) return fail(`unknown identifier ${name}`);
    const v = this.guard(() => this.expr(toks, 0, toks.length, new Map(), pkg, sink));
    pkg.values.set(name, v);
    return v;
  }
}

/** The templates of utils.GenerateSampleSecrets: the values of its `samples` map literal. */
export function sampleTemplates(utils: GoPackage): string[] {
  const fn = utils.fns.get('GenerateSampleSecrets');
  if (!fn) throw new Error('utils.GenerateSampleSecrets not found');
  const at = fn.body.findIndex((t, j) => t.v === 'samples' && fn.body[j + 1]?.v === ':=');
  if (at < 0) throw new Error('utils.GenerateSampleSecrets: no samples map');
  const end = split(fn.body, at, fn.body.length, ';')[0]?.[1] ?? fn.body.length;
  const pkg: GoPackage = { fns: new Map(), vars: new Map(), values: new Map() };
  pkg.fns.set('run', { params: [], body: [{ k: 'id', v: 'return', src: 'return' }, ...fn.body.slice(at + 2, end)] });
  const out = new GoEvaluator(pkg, utils, [], () => 0).returnOf('run');
  if (out.k !== 'list') throw new Error('utils.GenerateSampleSecrets: samples map not read');
  return out.items.map((i) => ('text' in i ? i.text : fail(`template not read: ${i.unevaluated}`)));
}
