export {
  type BotApiField,
  type BotApiSpec,
  loadBotApiSpec,
  MINIMAL_BOT_API_SPEC,
  validateBotApiParams,
} from './bot-api-spec.js';
export {
  type FakeTelegram,
  type FakeTelegramMessage,
  type FakeTelegramOptions,
  startFakeTelegram,
} from './fake-telegram.js';
export { type ParsedTelegramText, parseTelegramText, type TelegramEntity, type TelegramParseMode } from './markup.js';
export {
  type NotifierSubject,
  type NotifierSubjectFactory,
  notifierConformance,
  type VisibleCard,
} from './notifier-conformance.js';
