/**
 * Escapes text for Telegram's HTML parse mode: `&`, `<`, `>` (and `"`, so the
 * result is also safe inside an attribute) become entities, so Telegram shows
 * the text literally.
 *
 * @example
 * ```ts
 * escapeHtml('a <b> & "c"'); // 'a &lt;b&gt; &amp; &quot;c&quot;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * Escapes text for Telegram's MarkdownV2 parse mode: every reserved character
 * (`_ * [ ] ( ) ~ \` > # + - = | { } . !`) and the backslash itself get a
 * preceding `\`, so Telegram shows the text literally.
 *
 * @example
 * ```ts
 * escapeMarkdownV2('v1.2 (beta)!'); // 'v1\\.2 \\(beta\\)\\!'
 * ```
 */
export function escapeMarkdownV2(text: string): string {
  return text.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, (ch) => `\\${ch}`);
}

/**
 * Escapes a URL for the `(…)` part of a MarkdownV2 inline link, where only
 * `)` and `\` must be escaped.
 *
 * @example
 * ```ts
 * escapeMarkdownV2Url('https://x.test/a_(b)'); // 'https://x.test/a_(b\\)'
 * ```
 */
export function escapeMarkdownV2Url(url: string): string {
  return url.replace(/[)\\]/g, (ch) => `\\${ch}`);
}

/**
 * Makes any string safe to send: lone UTF-16 surrogates (which are not valid
 * UTF-8) become U+FFFD and control characters other than newline and tab
 * become spaces.
 *
 * @example
 * ```ts
 * sanitizeText('a\u0000b'); // 'a b'
 * ```
 */
export function sanitizeText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text.slice(i, i + 2);
        i += 1;
      } else {
        out += '\uFFFD';
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      out += '\uFFFD';
    } else if ((code < 0x20 && code !== 0x0a && code !== 0x09) || code === 0x7f) {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

/**
 * Cuts `text` to at most `max` UTF-16 code units (Telegram counts that way)
 * without splitting a surrogate pair.
 *
 * @example
 * ```ts
 * cutUtf16('ab😀', 3); // 'ab'
 * ```
 */
export function cutUtf16(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
