import type { FakeHttpServer, FakeReply, Fault, RecordedRequest } from '../http/fake-server.js';
import { startFakeHttpServer } from '../http/fake-server.js';
import { type BotApiSpec, loadBotApiSpec, validateBotApiParams } from './bot-api-spec.js';
import { parseTelegramText, type TelegramEntity } from './markup.js';

/** Options of {@link startFakeTelegram}. */
export interface FakeTelegramOptions {
  /** the bot token requests must carry in the path (`/bot<token>/<method>`); default a fixed fake token */
  readonly token?: string;
  /** the spec requests are validated against; default the shared fixtures' Bot API spec, else a minimal list */
  readonly spec?: BotApiSpec;
  /** reject parameters the method does not have (the real API ignores them); default true */
  readonly rejectUnknownParams?: boolean;
  /** the bot's username in `getMe`; default `conveyor_fake_bot` */
  readonly botUsername?: string;
}

/** One message of a fake chat, as a person would see it. */
export interface FakeTelegramMessage {
  readonly chatId: string;
  readonly messageId: number;
  /** the visible text (markup parsed away) */
  readonly text: string;
  readonly entities: readonly TelegramEntity[];
  /** the text as the bot sent it */
  readonly rawText: string;
  readonly parseMode?: string;
  /** sent with `disable_notification: true` */
  readonly silent: boolean;
  /** epoch seconds */
  readonly date: number;
  /** epoch seconds of the last edit */
  readonly editDate?: number;
  /** how many times it was edited */
  readonly edits: number;
  readonly linkPreviewDisabled: boolean;
}

/** A running fake Telegram Bot API. */
export interface FakeTelegram {
  /** the base URL to pass as the client's `baseUrl` (the client appends `/bot<token>/<method>`) */
  readonly url: string;
  readonly token: string;
  /** the spec version requests are validated against (`minimal` without the shared fixtures) */
  readonly specVersion: string;
  /** the underlying server: every request, in order */
  readonly server: FakeHttpServer;
  /** queues a fault (see `startFakeHttpServer`); `path` may name a method, e.g. `'/deleteMessage'` */
  inject(fault: Fault): void;
  /** queues Telegram error answers for a method, e.g. `(400, 'Bad Request: message can\'t be deleted')` */
  injectError(method: string, errorCode: number, description: string, times?: number): void;
  /** the messages of a chat still visible, in chat order (oldest first) */
  visibleMessages(chatId: string | number): FakeTelegramMessage[];
  /** one message, `undefined` when it never existed or was deleted */
  message(chatId: string | number, messageId: number): FakeTelegramMessage | undefined;
  /** deletes a message as a person would (the bot is not told) */
  deleteAsUser(chatId: string | number, messageId: number): boolean;
  /** how many requests reached each method (faulted ones included) */
  callCount(method: string): number;
  /** forgets faults, requests and every chat */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TOKEN = ['123456', 'FAKE-telegram-token-for-tests'].join(':');
const TELEGRAM_MAX_TEXT = 4096;

interface StoredMessage {
  messageId: number;
  text: string;
  entities: readonly TelegramEntity[];
  rawText: string;
  parseMode: string | undefined;
  silent: boolean;
  date: number;
  editDate: number | undefined;
  edits: number;
  linkPreviewDisabled: boolean;
  deleted: boolean;
}

interface Chat {
  nextId: number;
  messages: StoredMessage[];
}

const tgError = (status: number, description: string, parameters?: Record<string, unknown>): FakeReply => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});

const okReply = (result: unknown): FakeReply => ({ status: 200, body: { ok: true, result } });

/**
 * Starts an in-process fake Telegram Bot API on 127.0.0.1 (port 0) serving
 * `getMe`, `sendMessage`, `editMessageText` and `deleteMessage` over
 * in-memory chats. Requests are validated against the Bot API spec's method
 * fields (required, types); answers use Telegram's shapes and texts
 * (`Bad Request: message is not modified: …`, `… message to edit not found`,
 * `… message to delete not found`, 401 `Unauthorized`, 429 with
 * `parameters.retry_after`). Message texts are parsed per `parse_mode`, so
 * tests read what a person would see.
 *
 * @example
 * ```ts
 * const tg = await startFakeTelegram({ token: '42:test-token' });
 * const notifier = createTelegramNotifier({ botToken: tg.token, chatId: 7, cards, mode: 'edit', baseUrl: tg.url });
 * await notifier.upsertCard(card);
 * tg.visibleMessages(7).map((m) => m.text);
 * await tg.close();
 * ```
 */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = options.token ?? DEFAULT_TOKEN;
  const spec = options.spec ?? loadBotApiSpec();
  const rejectUnknown = options.rejectUnknownParams ?? true;
  const botId = Number.parseInt(token.split(':')[0] ?? '', 10) || 1;
  const botUser = {
    id: botId,
    is_bot: true,
    first_name: 'Conveyor',
    username: options.botUsername ?? 'conveyor_fake_bot',
  };
  const chats = new Map<string, Chat>();

  const chatOf = (chatId: string | number): Chat => {
    const key = String(chatId);
    let chat = chats.get(key);
    if (!chat) {
      chat = { nextId: 1, messages: [] };
      chats.set(key, chat);
    }
    return chat;
  };

  const chatObject = (chatId: unknown) => {
    const numeric = typeof chatId === 'number' ? chatId : Number(chatId);
    const id = Number.isFinite(numeric) ? numeric : -1000000000001;
    return id > 0 ? { id, type: 'private', first_name: 'Tester' } : { id, type: 'supergroup', title: 'Conveyor' };
  };

  const messageObject = (chatId: unknown, m: StoredMessage) => ({
    message_id: m.messageId,
    from: botUser,
    chat: chatObject(chatId),
    date: m.date,
    ...(m.editDate === undefined ? {} : { edit_date: m.editDate }),
    text: m.text,
    ...(m.entities.length > 0 ? { entities: m.entities } : {}),
  });

  const parseText = (
    params: Record<string, unknown>,
  ): { reply: FakeReply } | { text: string; entities: readonly TelegramEntity[] } => {
    const raw = typeof params.text === 'string' ? params.text : '';
    const mode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
    const parsed = parseTelegramText(raw, mode);
    if (!parsed.ok) return { reply: tgError(400, parsed.description) };
    if (parsed.text.trim().length === 0) return { reply: tgError(400, 'Bad Request: message text is empty') };
    if (parsed.text.length > TELEGRAM_MAX_TEXT) return { reply: tgError(400, 'Bad Request: message is too long') };
    return { text: parsed.text, entities: parsed.entities };
  };

  const findLive = (chatId: unknown, messageId: unknown): StoredMessage | undefined => {
    if (typeof messageId !== 'number') return undefined;
    const chat = chats.get(String(chatId));
    return chat?.messages.find((m) => m.messageId === messageId && !m.deleted);
  };

  const now = () => Math.floor(Date.now() / 1000);

  const methods: Record<string, (params: Record<string, unknown>) => FakeReply> = {
    getMe: () => okReply(botUser),
    sendMessage: (params) => {
      const parsed = parseText(params);
      if ('reply' in parsed) return parsed.reply;
      const chat = chatOf(String(params.chat_id));
      const message: StoredMessage = {
        messageId: chat.nextId,
        text: parsed.text,
        entities: parsed.entities,
        rawText: String(params.text),
        parseMode: typeof params.parse_mode === 'string' ? params.parse_mode : undefined,
        silent: params.disable_notification === true,
        date: now(),
        editDate: undefined,
        edits: 0,
        linkPreviewDisabled: isPreviewDisabled(params),
        deleted: false,
      };
      chat.nextId += 1;
      chat.messages.push(message);
      return okReply(messageObject(params.chat_id, message));
    },
    editMessageText: (params) => {
      if (params.inline_message_id !== undefined) {
        return tgError(400, 'Bad Request: the fake does not serve inline messages');
      }
      if (params.chat_id === undefined) return tgError(400, 'Bad Request: chat_id is empty');
      if (params.message_id === undefined) return tgError(400, 'Bad Request: message identifier is not specified');
      if (params.text === undefined) return tgError(400, 'Bad Request: text is empty');
      const parsed = parseText(params);
      if ('reply' in parsed) return parsed.reply;
      const message = findLive(params.chat_id, params.message_id);
      if (!message) return tgError(400, 'Bad Request: message to edit not found');
      if (message.text === parsed.text && JSON.stringify(message.entities) === JSON.stringify(parsed.entities)) {
        return tgError(
          400,
          'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
        );
      }
      message.text = parsed.text;
      message.entities = parsed.entities;
      message.rawText = String(params.text);
      message.parseMode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
      message.linkPreviewDisabled = isPreviewDisabled(params);
      message.editDate = now();
      message.edits += 1;
      return okReply(messageObject(params.chat_id, message));
    },
    deleteMessage: (params) => {
      const message = findLive(params.chat_id, params.message_id);
      if (!message) return tgError(400, 'Bad Request: message to delete not found');
      message.deleted = true;
      return okReply(true);
    },
  };
  const methodsByLowerName = new Map(Object.keys(methods).map((name) => [name.toLowerCase(), name]));

  const handle = (req: RecordedRequest): FakeReply => {
    const match = /^\/bot([^/]*)\/([^/]+)$/.exec(req.path);
    if (!match) return tgError(404, 'Not Found');
    if (decodeURIComponent(match[1] ?? '') !== token) return tgError(401, 'Unauthorized');
    const method = methodsByLowerName.get((match[2] ?? '').toLowerCase());
    const run = method === undefined ? undefined : methods[method];
    if (method === undefined || run === undefined) return tgError(404, 'Not Found');
    if (req.method !== 'GET' && req.method !== 'POST') return tgError(405, 'Method Not Allowed');
    const params: Record<string, unknown> = {};
    for (const [k, v] of req.query) params[k] = v;
    if (req.body.length > 0) {
      const type = String(req.headers['content-type'] ?? '');
      if (type.includes('application/json')) {
        if (req.json === null || typeof req.json !== 'object' || Array.isArray(req.json)) {
          return tgError(400, 'Bad Request: the request body is not a JSON object');
        }
        Object.assign(params, req.json as Record<string, unknown>);
      } else if (type.includes('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(req.body)) params[k] = v;
      } else {
        return tgError(400, `Bad Request: unsupported content type "${type}"`);
      }
    }
    // the real API's words for the commonest missing parameters
    const missing = (name: string) => params[name] === undefined || params[name] === null || params[name] === '';
    if (method !== 'getMe' && method !== 'editMessageText' && missing('chat_id')) {
      return tgError(400, 'Bad Request: chat_id is empty');
    }
    if (method === 'sendMessage' && missing('text')) return tgError(400, 'Bad Request: message text is empty');
    if (method === 'deleteMessage' && missing('message_id')) {
      return tgError(400, 'Bad Request: message identifier is not specified');
    }
    const problem = validateBotApiParams(spec, method, params, { rejectUnknown });
    if (problem) return tgError(400, `Bad Request: ${problem}`);
    return run(params);
  };

  const server = await startFakeHttpServer(handle);
  const countOf = (method: string) =>
    server.requests.filter((r) => r.path.toLowerCase().endsWith(`/${method.toLowerCase()}`)).length;

  const view = (chatId: string, m: StoredMessage): FakeTelegramMessage => ({
    chatId,
    messageId: m.messageId,
    text: m.text,
    entities: m.entities,
    rawText: m.rawText,
    ...(m.parseMode === undefined ? {} : { parseMode: m.parseMode }),
    silent: m.silent,
    date: m.date,
    ...(m.editDate === undefined ? {} : { editDate: m.editDate }),
    edits: m.edits,
    linkPreviewDisabled: m.linkPreviewDisabled,
  });

  return {
    url: server.url,
    token,
    specVersion: spec.version,
    server,
    inject: (fault) => server.inject(fault),
    injectError(method, errorCode, description, times = 1) {
      server.inject({
        kind: 'status',
        status: errorCode,
        body: { ok: false, error_code: errorCode, description },
        path: new RegExp(`/${method}$`, 'i'),
        times,
      });
    },
    visibleMessages(chatId) {
      const key = String(chatId);
      return (chats.get(key)?.messages ?? []).filter((m) => !m.deleted).map((m) => view(key, m));
    },
    message(chatId, messageId) {
      const key = String(chatId);
      const m = chats.get(key)?.messages.find((x) => x.messageId === messageId && !x.deleted);
      return m ? view(key, m) : undefined;
    },
    deleteAsUser(chatId, messageId) {
      const m = findLive(String(chatId), messageId);
      if (!m) return false;
      m.deleted = true;
      return true;
    },
    callCount: countOf,
    reset() {
      server.reset();
      chats.clear();
    },
    close: () => server.close(),
  };
}

function isPreviewDisabled(params: Record<string, unknown>): boolean {
  const options = params.link_preview_options;
  return typeof options === 'object' && options !== null && (options as { is_disabled?: unknown }).is_disabled === true;
}
