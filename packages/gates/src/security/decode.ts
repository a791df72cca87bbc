// Finds encoded segments (percent, unicode escapes, hex, base64) in a text and
// decodes them in place, one pass per depth, keeping the offsets that map a
// match in a decoded pass back to the encoded text it came from. The facts
// (patterns, precedence, which decodings count, tags) follow gitleaks 8's
// detect/codec; the code is ours.

/** How many decoding passes gitleaks runs by default (`--max-decode-depth`). */
export const DEFAULT_MAX_DECODE_DEPTH = 5;

/**
 * The deepest decoding a scan accepts, whatever it is asked: each pass
 * rescans the fragment, and percent escapes of percent escapes
 * (`%252525…41`) would otherwise buy one full pass per two characters.
 */
export const MAX_DECODE_DEPTH = 32;

/**
 * The most characters decoding may produce for one fragment, all passes
 * together: beyond it the fragment is scanned with what was decoded so far.
 * Each pass is no longer than the one before, so a fragment costs at most
 * (depth + 1) scans of its own length and this many decoded characters.
 */
export const MAX_DECODED_CHARS_PER_FRAGMENT = 4 * 1024 * 1024;

/** The encodings, in gitleaks' precedence order (highest first); the bit of each is its index's power of 2. */
export const DECODE_ENCODINGS = ['percent', 'unicode', 'hex', 'base64'] as const;
/** One of the encodings the decoder understands. */
export type DecodeEncoding = (typeof DECODE_ENCODINGS)[number];

/** A half-open range of offsets (UTF-16 code units). */
interface Range {
  readonly start: number;
  readonly end: number;
}

/** One decoded segment of one pass. */
export interface EncodedSegment {
  /** the range in the fragment's own text */
  readonly original: Range;
  /** the range in the previous pass's text */
  readonly encoded: Range;
  /** the range of the decoded value in this pass's text */
  readonly decoded: Range;
  /** bit set of {@link DECODE_ENCODINGS} that led to this value */
  readonly encodings: number;
  /** the pass that decoded it (1 = decoded once) */
  readonly depth: number;
  /** the previous pass's segments (sorted by `decoded.start`) */
  readonly predecessors: readonly EncodedSegment[];
}

// gitleaks' overlap test counts touching ranges as overlapping
const overlaps = (a: Range, b: Range): boolean => b.start <= a.end && b.end >= a.start;
const containsRange = (outer: Range, inner: Range): boolean => outer.start <= inner.start && inner.end <= outer.end;

/**
 * The segments whose decoded range overlaps `r`: segments are sorted and
 * disjoint, so a binary search finds the first and the rest follow.
 */
export function segmentsOverlapping(segments: readonly EncodedSegment[], r: Range): EncodedSegment[] {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((segments[mid] as EncodedSegment).decoded.end < r.start) lo = mid + 1;
    else hi = mid;
  }
  const out: EncodedSegment[] = [];
  for (let i = lo; i < segments.length; i += 1) {
    const s = segments[i] as EncodedSegment;
    if (s.decoded.start > r.end) break;
    if (overlaps(s.decoded, r)) out.push(s);
  }
  return out;
}

/**
 * Maps a range of one pass's text to the fragment's own text. A range inside
 * one decoded value maps to that value's whole encoded origin; a range that
 * runs past a decoded value keeps the overrun on the encoded side, one level
 * up at a time.
 */
export function toOriginalRange(segments: readonly EncodedSegment[], r: Range): Range {
  let range = r;
  let level = segments;
  for (;;) {
    if (level.length === 0) return range;
    const hit = segmentsOverlapping(level, range);
    if (hit.length === 0) return range;
    const whole = hit.find((s) => containsRange(s.decoded, range));
    if (whole) return whole.original;
    let up: Range | undefined;
    for (const s of hit) {
      const start = s.encoded.start + (Math.min(s.decoded.start, range.start) - s.decoded.start);
      const end = s.encoded.end + (Math.max(s.decoded.end, range.end) - s.decoded.end);
      up = up ? { start: Math.min(up.start, start), end: Math.max(up.end, end) } : { start, end };
    }
    range = up as Range;
    level = (level[0] as EncodedSegment).predecessors;
  }
}

/** `decoded:<encoding>` for each encoding of the segments, then `decode-depth:<n>` (gitleaks' tags). */
export function decodeTags(segments: readonly EncodedSegment[]): string[] {
  const first = segments[0];
  if (!first) return [];
  let bits = 0;
  for (const s of segments) bits |= s.encodings;
  const tags = DECODE_ENCODINGS.filter((_, i) => (bits & (1 << i)) !== 0).map((e) => `decoded:${e}`);
  tags.push(`decode-depth:${first.depth}`);
  return tags;
}

// gitleaks' printable set: TAB .. '~'
const printable = (b: number): boolean => b > 0x08 && b < 0x7f;

/** Each ASCII code unit's value in the alphabets (its index in each), -1 for the others. */
const digitTable = (...alphabets: string[]): Int8Array => {
  const t = new Int8Array(128).fill(-1);
  for (const alphabet of alphabets) for (let i = 0; i < alphabet.length; i += 1) t[alphabet.charCodeAt(i)] = i;
  return t;
};
const HEX_DIGITS = digitTable('0123456789abcdef', '0123456789ABCDEF');
/** The value of the hex digit at `value[i]`, -1 when it is none (or `i` is past the end). */
const hexDigit = (value: string, i: number): number => {
  const c = value.charCodeAt(i);
  return c < 128 ? (HEX_DIGITS[c] as number) : -1;
};

function decodePercent(value: string): string {
  // the text between escapes is copied a stretch at a time, and the parts joined once (see bytesText)
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < value.length) {
    if (value[i] === '%' && i + 2 < value.length) {
      const hi = hexDigit(value, i + 1);
      const lo = hexDigit(value, i + 2);
      if (hi >= 0 && lo >= 0) {
        const b = (hi << 4) | lo;
        if (!printable(b)) return '';
        if (copied < i) parts.push(value.slice(copied, i));
        parts.push(String.fromCharCode(b));
        i += 3;
        copied = i;
        continue;
      }
    }
    i += 1;
  }
  if (copied < value.length) parts.push(value.slice(copied));
  return parts.join('');
}

/**
 * The first `n` bytes as a string of the same code units (each byte below 256). A decoded value is built in
 * bytes and turned into a string once: appending one character at a time made a rope of a node per byte,
 * which a megabyte-long encoded run turned into seconds of garbage collection.
 */
const bytesText = (bytes: Uint8Array, n: number): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('latin1');

function decodeHex(value: string): string {
  if (value.length % 2 !== 0 || !/[0-9]/.test(value)) return '';
  const bytes = new Uint8Array(value.length / 2);
  for (let i = 0; i < value.length; i += 2) {
    const h = hexDigit(value, i);
    const l = hexDigit(value, i + 1);
    // (the value is a run of hex digits, the hex alternative of ENCODED)
    if (h < 0 || l < 0) return '';
    const b = (h << 4) | l;
    if (!printable(b)) return '';
    bytes[i / 2] = b;
  }
  return bytesText(bytes, bytes.length);
}

const B64_STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD = digitTable(B64_STD);
const URL_SAFE = digitTable(B64_URL);

/**
 * Base64 of `value[0..end)` in one alphabet, or '' as soon as a character is
 * outside it or a decoded byte is not printable (most identifiers fail on
 * their first bytes, so a scan does not pay a whole decoding per candidate).
 */
function decodeBase64With(value: string, end: number, table: Int8Array): string {
  const bytes = new Uint8Array(Math.floor((end * 6) / 8));
  let n = 0;
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < end; i += 1) {
    const c = value.charCodeAt(i);
    const v = c < 128 ? (table[c] as number) : -1;
    if (v < 0) return '';
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      const b = (acc >> bits) & 0xff;
      if (!printable(b)) return '';
      bytes[n] = b;
      n += 1;
    }
  }
  return bytesText(bytes, n);
}

function decodeBase64(value: string): string {
  if (!/[0-9+/_-]/.test(value)) return '';
  // standard alphabet with its padding, as Go's StdEncoding reads it
  if (value.length % 4 === 0) {
    let end = value.length;
    while (end > 0 && value[end - 1] === '=' && value.length - end < 2) end -= 1;
    const s = end % 4 === 1 ? '' : decodeBase64With(value, end, STD);
    if (s !== '') return s;
  }
  // the URL alphabet without padding (Go's RawURLEncoding)
  if (value.length % 4 !== 1) return decodeBase64With(value, value.length, URL_SAFE);
  return '';
}

function decodeUnicode(value: string): string {
  const codes = value.startsWith('U+')
    ? [...value.matchAll(/U\+([0-9A-Fa-f]{4})/g)]
    : [...value.matchAll(/\\{1,2}[uU]([0-9A-Fa-f]{4})/g)];
  return codes.map((m) => String.fromCharCode(Number.parseInt(m[1] as string, 16))).join('');
}

const DECODERS: Record<DecodeEncoding, (value: string) => string> = {
  percent: decodePercent,
  unicode: decodeUnicode,
  hex: decodeHex,
  base64: decodeBase64,
};

/**
 * One alternative per encoding, in precedence order. Linear on V8: each
 * alternative starts only at its own first character and repeats one
 * character class; the percent tail `[^\n]*%XX` extends to the last escape of
 * its line, so after it fails no later escape on that line can start a match.
 * The hex and base64 runs start only where a run of their characters starts
 * (a lookbehind): trying every position of a short identifier would cost its
 * length squared. It finds what gitleaks' pattern finds once its touching
 * matches are filtered: a run that starts right after another match touches
 * it, and those of lower precedence are dropped anyway.
 */
//
// A run of unicode escapes is matched one escape at a time and the touching
// escapes of one form joined afterwards: a repeated group (`(?:…)+`) costs V8
// a backtracking frame per repetition, and a megabyte-long run of escapes
// would overflow its stack.
const ENCODED =
  /(%[0-9A-Fa-f]{2}(?:[^\n]*%[0-9A-Fa-f]{2})?)|(U\+[0-9A-Fa-f]{4}(?:[\t\n\f\r ]|$))|(\\{1,2}[uU][0-9A-Fa-f]{4})|((?<![0-9A-Fa-f])[0-9A-Fa-f]{32,})|((?<![\w/+-])[\w/+-]{16,}={0,2})/g;

interface EncodingMatch extends Range {
  readonly kind: number; // index in DECODE_ENCODINGS
}

/** One match of {@link ENCODED}: the alternative it took (1 to 5) and where it ends. */
interface RawEncodedMatch {
  readonly alt: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The matches of {@link ENCODED} in `text`, by V8's engine.
 *
 * @internal exported for the test that compares it with {@link encodedByLoop}
 */
export function encodedByRegex(text: string): RawEncodedMatch[] {
  const out: RawEncodedMatch[] = [];
  for (const m of text.matchAll(ENCODED)) {
    const alt = m[1] !== undefined ? 1 : m[2] !== undefined ? 2 : m[3] !== undefined ? 3 : m[4] !== undefined ? 4 : 5;
    out.push({ alt, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

const HEX_BIT = 1;
/** `[\w/+-]` */
const RUN_BIT = 2;
const SPACE_BIT = 4;
/** Character classes of every UTF-16 code unit (0 beyond ASCII), one table lookup per character. */
const CLASS = new Uint8Array(65_536);
for (let c = 0; c < 128; c += 1) {
  const ch = String.fromCharCode(c);
  CLASS[c] =
    (/[0-9A-Fa-f]/.test(ch) ? HEX_BIT : 0) |
    (/[\w/+-]/.test(ch) ? RUN_BIT : 0) |
    (/[\t\n\f\r ]/.test(ch) ? SPACE_BIT : 0);
}
const classOf = (c: number): number => CLASS[c] as number;
const isHex = (c: number): boolean => (classOf(c) & HEX_BIT) !== 0;
/** `count` hex digits at `i`, all before `end`. */
const hexAt = (text: string, i: number, count: number, end = text.length): boolean => {
  if (i + count > end) return false;
  for (let k = i; k < i + count; k += 1) if (!isHex(text.charCodeAt(k))) return false;
  return true;
};

/** `u` or `U` */
const isU = (c: number): boolean => c === 117 || c === 85;

/** `U+XXXX` ending the run at `end`, followed by a space or the end of the text (read up to `n`). */
function unicodeAtEnd(text: string, from: number, end: number, n: number): boolean {
  return (
    end - from >= 6 &&
    text.charCodeAt(end - 6) === 85 &&
    text.charCodeAt(end - 5) === 43 &&
    hexAt(text, end - 4, 4, n) &&
    (end === n || (classOf(text.charCodeAt(end)) & SPACE_BIT) !== 0)
  );
}

/**
 * The rest of a run entered at `from` (its start already taken by a match):
 * hex runs after a non-hex character, then `U+XXXX`; returns where the scan
 * goes on.
 */
function restOfRun(text: string, from: number, n: number, out: RawEncodedMatch[]): number {
  let end = from;
  while (end < n && (classOf(text.charCodeAt(end)) & RUN_BIT) !== 0) end += 1;
  const uStart = unicodeAtEnd(text, from, end, n) ? end - 6 : end;
  let i = from;
  while (i < uStart) {
    if (isHex(text.charCodeAt(i)) && !isHex(text.charCodeAt(i - 1))) {
      let j = i;
      while (j < end && isHex(text.charCodeAt(j))) j += 1;
      if (j - i >= 32) out.push({ alt: 4, start: i, end: j });
      i = j;
      continue;
    }
    i += 1;
  }
  if (uStart < end && i <= uStart) {
    out.push({ alt: 2, start: uStart, end: end === n ? n : end + 1 });
    return end === n ? n : end + 1;
  }
  return Math.max(i, end);
}

/**
 * The same matches as {@link encodedByRegex}, found in one pass with a class
 * table instead of V8's regex engine (which tries five alternatives at every
 * position, and keeps a backtracking frame per character of a run, so a run
 * of several megabytes overflows its stack). Linear: every character is read
 * a bounded number of times.
 *
 * Within a run of `[\w/+-]` characters only three things can start a match:
 * the run's first character (a hex run of 32 or more, else a base64 run of 16
 * or more: both lookbehinds need the run to start there), a hex run that
 * starts after a non-hex character when the run's start was taken by an
 * earlier match, and `U+XXXX` at the run's very end (it must be followed by a
 * space or the end). `%` and `\` are outside every run.
 *
 * @internal exported for the test that compares it with the regex
 */
export function encodedByLoop(text: string, from = 0, to = text.length): RawEncodedMatch[] {
  // (no closure here captures the loop's variables: V8 would keep them in a heap context, read on every step;
  // and a part of a text is read in place, as a slice would be a string of another representation each read goes through)
  const out: RawEncodedMatch[] = [];
  const n = to;
  const line: PercentLine = { end: -1, lastPct: -1 };
  let i = from;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (((CLASS[c] as number) & RUN_BIT) !== 0) {
      i =
        i > from && ((CLASS[text.charCodeAt(i - 1)] as number) & RUN_BIT) !== 0
          ? restOfRun(text, i, n, out)
          : runAt(text, i, n, out);
      continue;
    }
    i = c === 37 || c === 92 ? escapeAt(text, i, n, out, line) : i + 1;
  }
  return out;
}

/** Where the line of the last percent match ends, and the last `%XX` on it (a cache per line). */
interface PercentLine {
  end: number;
  lastPct: number;
}

/**
 * A percent match (`%XX`, on to the line's last `%XX`) or a backslash escape
 * (`\uXXXX`, `\\uXXXX`) at `i`, a `%` or a backslash, pushed to `out`;
 * returns where the scan goes on (`i + 1` when none starts there).
 */
function escapeAt(text: string, i: number, n: number, out: RawEncodedMatch[], line: PercentLine): number {
  const c = text.charCodeAt(i);
  if (c === 37 && hexAt(text, i + 1, 2, n)) {
    if (i >= line.end) {
      let end = text.indexOf('\n', i);
      if (end === -1 || end > n) end = n;
      line.end = end;
      let last = text.lastIndexOf('%', end - 3);
      while (last > i && !hexAt(text, last + 1, 2, n)) last = text.lastIndexOf('%', last - 1);
      line.lastPct = last;
    }
    const end = line.lastPct >= i + 3 ? line.lastPct + 3 : i + 3;
    out.push({ alt: 1, start: i, end });
    return end;
  }
  if (c === 92) {
    if (i + 2 < n && text.charCodeAt(i + 1) === 92 && isU(text.charCodeAt(i + 2)) && hexAt(text, i + 3, 4, n)) {
      out.push({ alt: 3, start: i, end: i + 7 });
      return i + 7;
    }
    if (i + 1 < n && isU(text.charCodeAt(i + 1)) && hexAt(text, i + 2, 4, n)) {
      out.push({ alt: 3, start: i, end: i + 6 });
      return i + 6;
    }
  }
  return i + 1;
}

/**
 * The matches of a run of `[\w/+-]` that starts at `i` (nothing before it
 * belongs to the run), pushed to `out`; returns where the scan goes on, a
 * position where the character there or the one before is outside every run.
 */
function runAt(text: string, i: number, n: number, out: RawEncodedMatch[]): number {
  // the run's end and where its hex prefix ends, in one read
  let end = i;
  let hexEnd = -1;
  while (end < n) {
    const k = CLASS[text.charCodeAt(end)] as number;
    if ((k & RUN_BIT) === 0) break;
    if (hexEnd < 0 && (k & HEX_BIT) === 0) hexEnd = end;
    end += 1;
  }
  if (hexEnd < 0) hexEnd = end;
  if (hexEnd - i >= 32) {
    out.push({ alt: 4, start: i, end: hexEnd });
    return hexEnd < end ? restOfRun(text, hexEnd, n, out) : hexEnd;
  }
  if (end - i >= 16) {
    let stop = end;
    while (stop < n && stop - end < 2 && text.charCodeAt(stop) === 61) stop += 1;
    out.push({ alt: 5, start: i, end: stop });
    return stop;
  }
  if (end - i >= 6 && unicodeAtEnd(text, i, end, n)) {
    const stop = end === n ? n : end + 1;
    out.push({ alt: 2, start: end - 6, end: stop });
    return stop;
  }
  return end;
}

/**
 * {@link encodedByLoop} on a whole text, reading a fraction of it. Outside
 * runs only `%` and `\` can start a match; a run shorter than 16 characters
 * can hold a match only if it holds `U+`. The three are found by the engine's
 * own string search, and between them the runs of 16 or more by looking at
 * every sixteenth character: when that one is outside every run, no run of 16
 * or more starts among the 16 before it. Every run that can hold a match is
 * then read from its start, as the loop reads it.
 *
 * @internal exported for the test that compares it with the regex
 */
export function encodedBySkipping(text: string): RawEncodedMatch[] {
  const out: RawEncodedMatch[] = [];
  const n = text.length;
  const line: PercentLine = { end: -1, lastPct: -1 };
  // the next `%`, backslash and `U+` at or after `i` (n: none), and where the run of that `U+` starts
  let pct = -1;
  let bs = -1;
  let up = -1;
  let upStart = -1;
  let i = 0;
  while (i < n) {
    if (
      i > 0 &&
      ((CLASS[text.charCodeAt(i)] as number) & RUN_BIT) !== 0 &&
      ((CLASS[text.charCodeAt(i - 1)] as number) & RUN_BIT) !== 0
    ) {
      // the rest of a run a match ended in
      i = restOfRun(text, i, n, out);
      continue;
    }
    // from here no run starts before `i` and goes on after it
    if (pct < i) {
      pct = text.indexOf('%', i);
      if (pct === -1) pct = n;
    }
    if (bs < i) {
      bs = text.indexOf('\\', i);
      if (bs === -1) bs = n;
    }
    if (up < i) {
      up = text.indexOf('U+', i);
      if (up === -1) up = n;
      upStart = up;
      while (upStart > i && ((CLASS[text.charCodeAt(upStart - 1)] as number) & RUN_BIT) !== 0) upStart -= 1;
    }
    const ev = Math.min(pct, bs, upStart);
    // every run before `ev` ends before it (`%` and `\` are outside runs; `upStart` starts one)
    while (i + 15 < ev) {
      const j = i + 15;
      if (((CLASS[text.charCodeAt(j)] as number) & RUN_BIT) === 0) {
        i = j + 1;
        continue;
      }
      let k = j;
      while (k > i && ((CLASS[text.charCodeAt(k - 1)] as number) & RUN_BIT) !== 0) k -= 1;
      i = runAt(text, k, n, out);
    }
    if (i < ev) i = ev;
    if (i >= n) break;
    if (i === upStart && i !== pct && i !== bs) {
      i = runAt(text, i, n, out);
      continue;
    }
    i = escapeAt(text, i, n, out, line);
  }
  return out;
}

/** `U+XXXX` right before the newline at `nl - 1`: a match there ends at `nl`, touching what starts the next line. */
function unicodeBeforeNewline(text: string, nl: number): boolean {
  return nl >= 7 && text.charCodeAt(nl - 7) === 85 && text.charCodeAt(nl - 6) === 43 && hexAt(text, nl - 5, 4);
}

/**
 * The windows of a later pass: the lines that hold the ranges (each with its
 * newline), widened by a line while the line before ends in `U+XXXX` (a match
 * there would touch the window's first). Sorted, disjoint.
 */
function linesAround(text: string, ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  const n = text.length;
  for (const r of ranges) {
    const last = out[out.length - 1];
    // (each search below reads text no earlier search read: many ranges on one long line cost one read of it)
    if (last && r.start < last.end) {
      if (r.end <= last.end) continue;
      let nl = text.indexOf('\n', Math.max(last.end, r.end - 1));
      let end = nl === -1 ? n : nl + 1;
      while (end < n && unicodeBeforeNewline(text, end)) {
        nl = text.indexOf('\n', end);
        end = nl === -1 ? n : nl + 1;
      }
      out[out.length - 1] = { start: last.start, end };
      continue;
    }
    let start = text.lastIndexOf('\n', r.start - 1) + 1;
    while (start > 0 && (!last || start > last.end) && unicodeBeforeNewline(text, start)) {
      start = text.lastIndexOf('\n', start - 2) + 1;
    }
    let nl = text.indexOf('\n', Math.max(r.start, r.end - 1));
    let end = nl === -1 ? n : nl + 1;
    while (end < n && unicodeBeforeNewline(text, end)) {
      nl = text.indexOf('\n', end);
      end = nl === -1 ? n : nl + 1;
    }
    if (last && start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, end) };
    else out.push({ start, end });
  }
  return out;
}

/**
 * The raw matches of a later pass: only in the lines of the last pass's
 * decoded values. Elsewhere the text, and every line's neighbours, are those
 * of the last pass, where each match there decoded to nothing, or was dropped
 * beside one that touched it (then it touches a decoded value, so its line is
 * searched), or came after the budget ran out (then so do all the windows):
 * searching those lines again finds nothing to decode.
 */
function encodedNear(text: string, decoded: readonly Range[]): RawEncodedMatch[] {
  const out: RawEncodedMatch[] = [];
  for (const w of linesAround(text, decoded)) {
    for (const m of encodedByLoop(text, w.start, w.end)) out.push(m);
  }
  return out;
}

function findEncodingMatches(text: string, decoded: readonly Range[] | undefined): EncodingMatch[] {
  const raw = decoded === undefined ? encodedBySkipping(text) : encodedNear(text, decoded);
  const all: EncodingMatch[] = [];
  // the form of unicode escape the last match was (`U+` or a backslash), to join a run of one form
  let lastForm = 0;
  for (const m of raw) {
    const form = m.alt === 2 ? 1 : m.alt === 3 ? 2 : 0;
    const kind = m.alt === 1 ? 0 : form !== 0 ? 1 : m.alt === 4 ? 2 : 3;
    const last = all[all.length - 1];
    if (form !== 0 && last !== undefined && lastForm === form && last.end === m.start) {
      all[all.length - 1] = { kind, start: last.start, end: m.end };
      continue;
    }
    lastForm = form;
    all.push({ kind, start: m.start, end: m.end });
  }
  if (all.length <= 1) return all;
  // two matches that touch: the one of lower precedence waits for the next pass
  return all.filter((m, i) => {
    const prev = all[i - 1];
    const next = all[i + 1];
    if (prev && overlaps(m, prev) && prev.kind < m.kind) return false;
    if (next && overlaps(m, next) && next.kind < m.kind) return false;
    return true;
  });
}

/** The state of decoding one fragment: a cache of decoded values and the budget left. */
export interface Decoder {
  /**
   * The next pass: `text` with every decodable segment replaced by its
   * decoded value, and the segments (empty when nothing was decoded or the
   * budget ran out). `decodable` tells whether some encoded-looking text
   * decoded to something, whether or not the budget let it in;
   * `exhausted`, whether the budget stopped the pass.
   */
  next(
    text: string,
    predecessors: readonly EncodedSegment[],
  ): { text: string; segments: EncodedSegment[]; decodable: boolean; exhausted: boolean };
}

/**
 * Whether a first decoding pass over `text` would decode anything (budget
 * aside). What such a pass reads as encoded lies within a line (or ends with
 * the newline right after a `U+XXXX`), and what it decodes to depends on that
 * text alone.
 *
 * @internal the scanner's
 */
export function holdsDecodableText(text: string): boolean {
  return createDecoder(0).next(text, []).decodable;
}

/**
 * A decoder for one fragment; `maxDecodedChars` caps what all its passes may
 * decode together. A later pass (called with the last pass's segments, on
 * its text) reads only the lines of their decoded values, which finds what a
 * read of its whole text finds (`readWhole`: read it whole anyway, the
 * reference for tests).
 *
 * @example
 * ```ts
 * const pass = createDecoder().next('token: c21hbGwtc2VjcmV0', []);
 * pass.text; // 'token: small-secret'
 * ```
 */
export function createDecoder(maxDecodedChars = MAX_DECODED_CHARS_PER_FRAGMENT, readWhole = false): Decoder {
  const cache = new Map<string, string>();
  let budget = maxDecodedChars;
  return {
    next(text, predecessors) {
      const segments: EncodedSegment[] = [];
      const parts: string[] = [];
      let copied = 0;
      let shift = 0;
      let decodable = false;
      let exhausted = false;
      const depth = predecessors.length > 0 ? (predecessors[0] as EncodedSegment).depth + 1 : 1;
      // the first pass reads the whole text, a later one only the lines of the last pass's decoded values
      const decodedBefore = predecessors.length > 0 && !readWhole ? predecessors.map((p) => p.decoded) : undefined;
      for (const m of findEncodingMatches(text, decodedBefore)) {
        const value = text.slice(m.start, m.end);
        let decoded = cache.get(value);
        if (decoded === undefined) {
          decoded = DECODERS[DECODE_ENCODINGS[m.kind] as DecodeEncoding](value);
          // the cache saves decoding a value repeated in the fragment; bounded so a blob of distinct values costs no memory
          if (value.length <= 4096 && cache.size < 4096) cache.set(value, decoded);
        }
        if (decoded === '') continue;
        decodable = true;
        if (decoded.length > budget) {
          exhausted = true;
          break;
        }
        budget -= decoded.length;
        let encodings = 1 << m.kind;
        for (const p of segmentsOverlapping(predecessors, m)) encodings |= p.encodings;
        segments.push({
          original: toOriginalRange(predecessors, m),
          encoded: { start: m.start, end: m.end },
          decoded: { start: m.start + shift, end: m.start + shift + decoded.length },
          encodings,
          depth,
          predecessors,
        });
        shift += decoded.length - value.length;
        parts.push(text.slice(copied, m.start), decoded);
        copied = m.end;
      }
      if (segments.length === 0) return { text, segments, decodable, exhausted };
      parts.push(text.slice(copied));
      return { text: parts.join(''), segments, decodable, exhausted };
    },
  };
}
