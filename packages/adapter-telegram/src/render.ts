import type { TaskCard } from '@conveyor/core';
import { cutUtf16, escapeHtml, escapeMarkdownV2, escapeMarkdownV2Url, sanitizeText } from './escape.js';
import { type CardLabels, type CardLocale, type CustomCardLabels, resolveCardLabels } from './labels.js';
import { redactSecrets } from './redact.js';

/** How the card text is marked up: Telegram's parse modes, or `plain` for a terminal (links show their URL). */
export type CardParseMode = 'HTML' | 'MarkdownV2' | 'plain';

/** A link shown on the card. */
export interface CardLink {
  readonly label: string;
  readonly url: string;
}

/** Options of {@link renderTaskCard}. */
export interface RenderCardOptions {
  /** `en` (default), `ru`, or a custom label map */
  readonly locale?: CardLocale | CustomCardLabels;
  /** default `HTML` */
  readonly parseMode?: CardParseMode;
  /** the most visible characters (UTF-16 code units, as Telegram counts); default 4096 */
  readonly maxLength?: number;
  /** links shown after the card's own */
  readonly extraLinks?: readonly CardLink[];
  /** exact strings never shown (the bot token, say) */
  readonly redact?: readonly string[];
}

/** Telegram's limit on a message text after entity parsing. */
export const TELEGRAM_MAX_TEXT_LENGTH = 4096;

const MAX_TITLE = 512;
const MAX_VERDICT = 2000;

type Segment =
  | { readonly kind: 'text'; readonly text: string; readonly style?: 'bold' | 'italic' }
  | { readonly kind: 'link'; readonly text: string; readonly url: string };

type Line = readonly Segment[];

/**
 * Renders the one live card of a task: the title, the status, every stage with
 * its mark (done / current / failed / pending), the last verdict summary and
 * the links. A pure function. Every piece of text is escaped for the parse
 * mode, anything that looks like a credential is hidden, and a card longer
 * than `maxLength` visible characters is shortened between entities (never
 * inside a tag, an entity or an escape).
 *
 * @example
 * ```ts
 * const text = renderTaskCard(
 *   { taskId: 'T-1', title: 'Add login', status: 'active', stages: [{ id: 'analysis', mark: 'done' }, { id: 'development', mark: 'current' }], links: [], updatedAt: Date.now() },
 *   { locale: 'ru', parseMode: 'plain' },
 * );
 * console.log(text);
 * ```
 */
export function renderTaskCard(card: TaskCard, options: RenderCardOptions = {}): string {
  const labels = resolveCardLabels(options.locale);
  const parseMode = options.parseMode ?? 'HTML';
  const maxLength = Math.max(64, Math.min(options.maxLength ?? TELEGRAM_MAX_TEXT_LENGTH, TELEGRAM_MAX_TEXT_LENGTH));
  const lines = fit(cardLines(card, labels, options), maxLength, labels.truncated);
  return lines.map((line) => line.map((segment) => markup(segment, parseMode)).join('')).join('\n');
}

function clean(text: string, redact: readonly string[]): string {
  return redactSecrets(sanitizeText(text), redact);
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${cutUtf16(text, max - 1).trimEnd()}…`;
}

function cardLines(card: TaskCard, labels: CardLabels, options: RenderCardOptions): Line[] {
  const redact = options.redact ?? [];
  const title = shorten(clean(card.title, redact).replace(/\s+/g, ' ').trim(), MAX_TITLE);
  const lines: Line[] = [];
  lines.push([{ kind: 'text', text: title.length > 0 ? title : clean(card.taskId, redact), style: 'bold' }]);
  const statusLabel = labels.statuses[card.status] ?? card.status;
  lines.push([{ kind: 'text', text: `${clean(card.taskId, redact)} · ${labels.status}: ${statusLabel}` }]);
  lines.push([]);
  for (const stage of card.stages) {
    const label = labels.stages[stage.id] ?? stage.id;
    lines.push([{ kind: 'text', text: `${labels.marks[stage.mark]} ${clean(label, redact)}` }]);
  }
  const verdict = card.lastVerdict === undefined ? '' : clean(card.lastVerdict, redact).trim();
  if (verdict.length > 0) {
    lines.push([]);
    const verdictLines = shorten(verdict, MAX_VERDICT).split('\n');
    lines.push([
      { kind: 'text', text: `${labels.lastVerdict}:`, style: 'bold' },
      { kind: 'text', text: ' ' },
      { kind: 'text', text: verdictLines[0] ?? '', style: 'italic' },
    ]);
    for (const rest of verdictLines.slice(1)) lines.push([{ kind: 'text', text: rest, style: 'italic' }]);
  }
  const links = [...card.links, ...(options.extraLinks ?? [])];
  if (links.length > 0) {
    lines.push([]);
    const line: Segment[] = [{ kind: 'text', text: `🔗 ${labels.links}: ` }];
    links.forEach((link, index) => {
      if (index > 0) line.push({ kind: 'text', text: ' · ' });
      const url = safeUrl(link.url, redact);
      const label = clean(link.label, redact).replace(/\s+/g, ' ').trim() || (url ?? clean(link.url, redact));
      line.push(url === undefined ? { kind: 'text', text: label } : { kind: 'link', text: label, url });
    });
    lines.push(line);
  }
  return lines;
}

/** Only http(s) URLs without credentials become links. */
function safeUrl(url: string, redact: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  const href = parsed.href;
  return redactSecrets(href, redact) === href ? href : undefined;
}

/** Cuts whole lines/segments to the visible budget, ending with the "shortened" marker. */
function fit(lines: Line[], maxLength: number, marker: string): Line[] {
  const total = lines.reduce((sum, line, i) => sum + (i > 0 ? 1 : 0) + lineLength(line), 0);
  if (total <= maxLength) return lines;
  let budget = maxLength - marker.length;
  const out: Line[] = [];
  for (const [i, line] of lines.entries()) {
    if (i > 0) {
      if (budget < 1) break;
      budget -= 1;
    }
    const kept: Segment[] = [];
    let full = true;
    for (const segment of line) {
      if (segment.text.length <= budget) {
        kept.push(segment);
        budget -= segment.text.length;
        continue;
      }
      const cut = cutUtf16(segment.text, budget);
      if (cut.length > 0) kept.push({ ...segment, text: cut });
      full = false;
      break;
    }
    if (!full) {
      kept.push({ kind: 'text', text: marker });
      out.push(kept);
      return out;
    }
    out.push(kept);
  }
  const last = out[out.length - 1];
  out[out.length - 1] = [...(last ?? []), { kind: 'text', text: marker }];
  return out;
}

function lineLength(line: Line): number {
  return line.reduce((sum, segment) => sum + segment.text.length, 0);
}

function markup(segment: Segment, parseMode: CardParseMode): string {
  if (segment.text.length === 0) return '';
  if (parseMode === 'plain') return segment.kind === 'link' ? `${segment.text} <${segment.url}>` : segment.text;
  if (parseMode === 'HTML') {
    const text = escapeHtml(segment.text);
    if (segment.kind === 'link') return `<a href="${escapeHtml(segment.url)}">${text}</a>`;
    if (segment.style === 'bold') return `<b>${text}</b>`;
    if (segment.style === 'italic') return `<i>${text}</i>`;
    return text;
  }
  const text = escapeMarkdownV2(segment.text);
  if (segment.kind === 'link') return `[${text}](${escapeMarkdownV2Url(segment.url)})`;
  if (segment.style === 'bold') return `*${text}*`;
  if (segment.style === 'italic') return `_${text}_`;
  return text;
}
