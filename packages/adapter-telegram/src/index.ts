/**
 * `@conveyor/adapter-telegram`: the Telegram notifier. One live task card per
 * task in a chat, edited in place or re-created at the bottom, with escaped,
 * localisable, length-safe text.
 *
 * @packageDocumentation
 */
export { cutUtf16, escapeHtml, escapeMarkdownV2, escapeMarkdownV2Url, sanitizeText } from './escape.js';
export {
  type CardLabels,
  type CardLocale,
  type CustomCardLabels,
  EN_CARD_LABELS,
  RU_CARD_LABELS,
  resolveCardLabels,
} from './labels.js';
export {
  type CardMode,
  createTelegramNotifier,
  type TelegramNotifier,
  type TelegramNotifierOptions,
} from './notifier.js';
export { redactSecrets } from './redact.js';
export {
  type CardLink,
  type CardParseMode,
  type RenderCardOptions,
  renderTaskCard,
  TELEGRAM_MAX_TEXT_LENGTH,
} from './render.js';
