/** A formatting entity of a parsed Telegram text (offsets in UTF-16 code units, as Telegram counts). */
export interface TelegramEntity {
  readonly type:
    | 'bold'
    | 'italic'
    | 'underline'
    | 'strikethrough'
    | 'spoiler'
    | 'code'
    | 'pre'
    | 'text_link'
    | 'blockquote'
    | 'custom_emoji';
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
  readonly language?: string;
}

/** What a person sees: the plain text and its entities, or Telegram's "can't parse entities" reason. */
export type ParsedTelegramText =
  | { readonly ok: true; readonly text: string; readonly entities: readonly TelegramEntity[] }
  | { readonly ok: false; readonly description: string };

/** Telegram's `parse_mode` values. */
export type TelegramParseMode = 'HTML' | 'MarkdownV2' | 'Markdown';

/**
 * Parses a message text the way the Bot API does for `parse_mode` (HTML or
 * MarkdownV2; no mode = plain text), returning the visible text and its
 * entities, or the "can't parse entities" description Telegram would answer.
 * An independent implementation, so an adapter's escaper can be checked
 * against it.
 *
 * @example
 * ```ts
 * const parsed = parseTelegramText('<b>a &lt; b</b>', 'HTML');
 * if (parsed.ok) parsed.text; // 'a < b'
 * ```
 */
export function parseTelegramText(text: string, parseMode: string | undefined): ParsedTelegramText {
  if (parseMode === undefined || parseMode === '') return { ok: true, text, entities: [] };
  const mode = parseMode.toLowerCase();
  if (mode === 'html') return parseHtml(text);
  if (mode === 'markdownv2') return parseMarkdownV2(text);
  if (mode === 'markdown') return { ok: true, text, entities: [] };
  return { ok: false, description: `Bad Request: unsupported parse_mode "${parseMode}"` };
}

const CANT_PARSE = "Bad Request: can't parse entities: ";

// ---------------------------------------------------------------------------- HTML

const HTML_TAGS: Readonly<Record<string, TelegramEntity['type']>> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  code: 'code',
  pre: 'pre',
  a: 'text_link',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Decodes one `&…;` at `i`; `undefined` when it is not an entity Telegram knows (then `&` is literal). */
function decodeEntityAt(input: string, i: number): { char: string; end: number } | undefined {
  const semi = input.indexOf(';', i + 1);
  if (semi === -1 || semi - i > 12) return undefined;
  const body = input.slice(i + 1, semi);
  const named = NAMED_ENTITIES[body];
  if (named !== undefined) return { char: named, end: semi + 1 };
  let code: number | undefined;
  if (/^#[0-9]+$/.test(body)) code = Number.parseInt(body.slice(1), 10);
  else if (/^#[xX][0-9a-fA-F]+$/.test(body)) code = Number.parseInt(body.slice(2), 16);
  if (code === undefined || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
  return { char: String.fromCodePoint(code), end: semi + 1 };
}

function decodeAttribute(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i] ?? '';
    if (ch === '&') {
      const decoded = decodeEntityAt(value, i);
      if (decoded) {
        out += decoded.char;
        i = decoded.end - 1;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

function parseHtml(input: string): ParsedTelegramText {
  let text = '';
  const entities: TelegramEntity[] = [];
  const open: { tag: string; offset: number; attrs: Record<string, string> }[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? '';
    if (ch === '&') {
      const decoded = decodeEntityAt(input, i);
      if (decoded) {
        text += decoded.char;
        i = decoded.end;
        continue;
      }
      text += ch;
      i += 1;
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i += 1;
      continue;
    }
    const close = input.indexOf('>', i);
    if (close === -1) return { ok: false, description: `${CANT_PARSE}Unclosed start tag at byte offset ${i}` };
    const inner = input.slice(i + 1, close);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const top = open.pop();
      if (!top || top.tag !== name) {
        return {
          ok: false,
          description: `${CANT_PARSE}Unmatched end tag at byte offset ${i}, expected "</${top?.tag ?? ''}>", found "</${name}>"`,
        };
      }
      const type = HTML_TAGS[top.tag];
      const length = text.length - top.offset;
      if (type && length > 0) {
        entities.push({
          type,
          offset: top.offset,
          length,
          ...(type === 'text_link' ? { url: top.attrs.href ?? '' } : {}),
        });
      }
      i = close + 1;
      continue;
    }
    const match = /^([a-zA-Z][a-zA-Z0-9-]*)([\s\S]*)$/.exec(inner);
    if (!match) return { ok: false, description: `${CANT_PARSE}Unsupported start tag at byte offset ${i}` };
    const name = (match[1] ?? '').toLowerCase();
    if (!(name in HTML_TAGS)) {
      return { ok: false, description: `${CANT_PARSE}Unsupported start tag "${name}" at byte offset ${i}` };
    }
    const attrs: Record<string, string> = {};
    const attrRe = /([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;
    for (const a of (match[2] ?? '').matchAll(attrRe)) {
      attrs[(a[1] ?? '').toLowerCase()] = decodeAttribute(a[2] ?? a[3] ?? a[4] ?? '');
    }
    if (name === 'a' && attrs.href === undefined) {
      return { ok: false, description: `${CANT_PARSE}Tag "a" must have attribute "href" at byte offset ${i}` };
    }
    if (name === 'span' && attrs.class !== 'tg-spoiler') {
      return { ok: false, description: `${CANT_PARSE}Tag "span" must have class "tg-spoiler" at byte offset ${i}` };
    }
    open.push({ tag: name, offset: text.length, attrs });
    i = close + 1;
  }
  const unclosed = open.pop();
  if (unclosed) {
    return {
      ok: false,
      description: `${CANT_PARSE}Can't find end tag corresponding to start tag "${unclosed.tag}"`,
    };
  }
  return { ok: true, text, entities: sortEntities(entities) };
}

// ---------------------------------------------------------------------------- MarkdownV2

const MDV2_RESERVED = new Set([
  '_',
  '*',
  '[',
  ']',
  '(',
  ')',
  '~',
  '`',
  '>',
  '#',
  '+',
  '-',
  '=',
  '|',
  '{',
  '}',
  '.',
  '!',
]);

type Marker = '*' | '_' | '__' | '~' | '||' | '[';

const MARKER_TYPES: Readonly<Record<Exclude<Marker, '['>, TelegramEntity['type']>> = {
  '*': 'bold',
  _: 'italic',
  __: 'underline',
  '~': 'strikethrough',
  '||': 'spoiler',
};

function parseMarkdownV2(input: string): ParsedTelegramText {
  let text = '';
  const entities: TelegramEntity[] = [];
  const open: { marker: Marker; offset: number; at: number }[] = [];
  let quoteStart: number | undefined;
  let i = 0;
  const reserved = (ch: string, at: number): ParsedTelegramText => ({
    ok: false,
    description: `${CANT_PARSE}Character '${ch}' is reserved and must be escaped with the preceding '\\' (at byte offset ${at})`,
  });
  const endQuote = () => {
    if (quoteStart !== undefined && text.length > quoteStart) {
      entities.push({ type: 'blockquote', offset: quoteStart, length: text.length - quoteStart });
    }
    quoteStart = undefined;
  };
  while (i < input.length) {
    const ch = input[i] ?? '';
    const atLineStart = i === 0 || input[i - 1] === '\n';
    if (ch === '\\') {
      const next = input[i + 1];
      if (next === undefined || next.charCodeAt(0) < 1 || next.charCodeAt(0) > 126) {
        return { ok: false, description: `${CANT_PARSE}Can't escape character at byte offset ${i}` };
      }
      text += next;
      i += 2;
      continue;
    }
    if (ch === '\n') {
      endQuote();
      text += ch;
      i += 1;
      continue;
    }
    if (ch === '>' && atLineStart) {
      if (quoteStart === undefined) quoteStart = text.length;
      i += 1;
      continue;
    }
    if (ch === '`') {
      const fence = input.startsWith('```', i);
      const delim = fence ? '```' : '`';
      let j = i + delim.length;
      let language: string | undefined;
      if (fence) {
        const nl = input.indexOf('\n', j);
        const firstLine = nl === -1 ? '' : input.slice(j, nl);
        if (nl !== -1 && /^[A-Za-z0-9_+-]*$/.test(firstLine)) {
          language = firstLine.length > 0 ? firstLine : undefined;
          j = nl + 1;
        }
      }
      const start = text.length;
      let closed = false;
      while (j < input.length) {
        const c = input[j] ?? '';
        if (c === '\\') {
          const next = input[j + 1];
          if (next === undefined) break;
          text += next;
          j += 2;
          continue;
        }
        if (input.startsWith(delim, j)) {
          closed = true;
          j += delim.length;
          break;
        }
        text += c;
        j += 1;
      }
      if (!closed) {
        return {
          ok: false,
          description: `${CANT_PARSE}Can't find end of ${fence ? 'Pre' : 'Code'} entity at byte offset ${i}`,
        };
      }
      if (text.length > start) {
        entities.push({
          type: fence ? 'pre' : 'code',
          offset: start,
          length: text.length - start,
          ...(language === undefined ? {} : { language }),
        });
      }
      i = j;
      continue;
    }
    let marker: Marker | undefined;
    if (ch === '*') marker = '*';
    else if (ch === '~') marker = '~';
    else if (ch === '[') marker = '[';
    else if (ch === '_') marker = input[i + 1] === '_' ? '__' : '_';
    else if (ch === '|') {
      if (input[i + 1] !== '|') return reserved(ch, i);
      marker = '||';
    }
    if (marker !== undefined && marker !== '[') {
      const top = open[open.length - 1];
      if (top && top.marker === marker) {
        open.pop();
        const length = text.length - top.offset;
        if (length > 0) entities.push({ type: MARKER_TYPES[marker], offset: top.offset, length });
      } else if (open.some((o) => o.marker === marker)) {
        return { ok: false, description: `${CANT_PARSE}Can't find end of entity starting at byte offset ${i}` };
      } else {
        open.push({ marker, offset: text.length, at: i });
      }
      i += marker.length;
      continue;
    }
    if (marker === '[') {
      open.push({ marker, offset: text.length, at: i });
      i += 1;
      continue;
    }
    if (ch === ']') {
      const top = open[open.length - 1];
      if (top?.marker !== '[') return reserved(ch, i);
      if (input[i + 1] !== '(') return reserved(ch, i);
      let j = i + 2;
      let url = '';
      let closed = false;
      while (j < input.length) {
        const c = input[j] ?? '';
        if (c === '\\') {
          const next = input[j + 1];
          if (next === undefined) break;
          url += next;
          j += 2;
          continue;
        }
        if (c === ')') {
          closed = true;
          j += 1;
          break;
        }
        url += c;
        j += 1;
      }
      if (!closed) return { ok: false, description: `${CANT_PARSE}Can't find end of a URL at byte offset ${i}` };
      open.pop();
      const length = text.length - top.offset;
      if (length > 0) entities.push({ type: 'text_link', offset: top.offset, length, url });
      i = j;
      continue;
    }
    if (MDV2_RESERVED.has(ch)) return reserved(ch, i);
    text += ch;
    i += 1;
  }
  endQuote();
  const unclosed = open.pop();
  if (unclosed) {
    return {
      ok: false,
      description: `${CANT_PARSE}Can't find end of the entity starting at byte offset ${unclosed.at}`,
    };
  }
  return { ok: true, text, entities: sortEntities(entities) };
}

function sortEntities(entities: TelegramEntity[]): TelegramEntity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}
