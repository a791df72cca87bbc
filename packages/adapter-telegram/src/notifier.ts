import {
  type CardRefStore,
  ConveyorError,
  createHttpClient,
  err,
  type HttpClient,
  type Logger,
  type Notifier,
  ok,
  type Result,
  type TaskCard,
} from '@conveyor/core';
import * as z from 'zod';
import type { CardLocale, CustomCardLabels } from './labels.js';
import { type CardLink, renderTaskCard } from './render.js';

const PKG = '@conveyor/adapter-telegram';

/** How the live card follows updates. */
export type CardMode = 'edit' | 'bump';

/** Options of {@link createTelegramNotifier}. Frozen on creation. */
export interface TelegramNotifierOptions {
  /** the bot token from @BotFather; never shown in an error or a log */
  readonly botToken: string;
  /** the chat the cards live in: a numeric id or `@channelname` */
  readonly chatId: string | number;
  /** where the message id of each task's card is kept (the store implements it) */
  readonly cards: CardRefStore;
  /** `edit` edits the card in place; `bump` re-creates it at the bottom of the chat on every update */
  readonly mode: CardMode;
  /** `en` (default), `ru`, or a custom label map */
  readonly locale?: CardLocale | CustomCardLabels;
  /** default `HTML` */
  readonly parseMode?: 'HTML' | 'MarkdownV2';
  /** default `https://api.telegram.org` */
  readonly baseUrl?: string;
  /** per attempt; default 10 000 ms */
  readonly timeoutMs?: number;
  /** retries for 429, 5xx and network errors; default 3 */
  readonly retries?: number;
  /** first backoff between retries; default 200 ms */
  readonly minBackoffMs?: number;
  /** the longest `retry_after` honoured; default 60 000 ms */
  readonly maxRetryAfterMs?: number;
  /** the fetch implementation; default `globalThis.fetch` */
  readonly fetch?: typeof globalThis.fetch;
  /** how to wait between attempts; default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** extra links for a card (the tracker issue, the PR…), shown after the card's own */
  readonly links?: (card: TaskCard) => readonly CardLink[];
  /** send the first card of a task without a sound; re-created cards are always silent; default false */
  readonly silent?: boolean;
  /** a forum topic of the chat */
  readonly messageThreadId?: number;
  /** the `CardRefStore` channel; default `telegram:<chatId>` */
  readonly channel?: string;
  readonly logger?: Logger;
}

/** The Telegram notifier: a core `Notifier` plus what it needs to be inspected. */
export interface TelegramNotifier extends Notifier {
  /** the `CardRefStore` channel the card refs are kept under */
  readonly channel: string;
  readonly mode: CardMode;
}

const messageSchema = z.object({
  message_id: z.number().int(),
  chat: z.object({ id: z.union([z.number(), z.string()]) }),
});
const sendResponse = z.object({ ok: z.literal(true), result: messageSchema });
const editResponse = z.object({ ok: z.literal(true), result: z.union([messageSchema, z.literal(true)]) });
const deleteResponse = z.object({ ok: z.literal(true), result: z.boolean() });

const NOT_MODIFIED = /message is not modified/i;
const EDIT_NOT_FOUND = /message to edit not found|MESSAGE_ID_INVALID/i;
const CANT_EDIT = /message can't be edited/i;
const DELETE_NOT_FOUND = /message to delete not found/i;

/**
 * Creates the Telegram notifier: one live card per task in one chat. The first
 * `upsertCard` sends the card; later ones edit it in place (`edit`) or delete
 * it and send it again silently at the bottom of the chat (`bump`), repointing
 * the stored message id only after the new card was sent. "Message is not
 * modified" counts as success; a card deleted by a person is sent again. Every
 * method resolves to a `Result`; the bot token never appears in an error.
 *
 * @example
 * ```ts
 * const notifier = createTelegramNotifier({
 *   botToken: process.env.TELEGRAM_TOKEN ?? '',
 *   chatId: -1001234567890,
 *   cards: store, // the SQLite store implements CardRefStore
 *   mode: 'bump',
 *   locale: 'ru',
 * });
 * const sent = await notifier.upsertCard(card);
 * if (!sent.ok) log.warn('card not updated', { code: sent.error.code });
 * ```
 */
export function createTelegramNotifier(options: TelegramNotifierOptions): TelegramNotifier {
  const opts = Object.freeze({ ...options });
  const channel = opts.channel ?? `telegram:${String(opts.chatId)}`;
  const staleChannel = `${channel}#stale`;
  const configError = checkConfig(opts);
  const token = typeof opts.botToken === 'string' ? opts.botToken : '';
  const parseMode = opts.parseMode ?? 'HTML';
  // the token and its secret half never reach a card
  const secretHalf = token.split(':')[1] ?? '';
  const neverShow = secretHalf.length >= 8 ? [token, secretHalf] : [token];
  const locks = new Map<string, Promise<unknown>>();

  const makeClient = (retries: number) =>
    createHttpClient({
      pkg: PKG,
      baseUrl: `${(opts.baseUrl ?? 'https://api.telegram.org').replace(/\/+$/, '')}/bot${token}/`,
      redact: [token, encodeURIComponent(token)],
      retries,
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      ...(opts.minBackoffMs === undefined ? {} : { minBackoffMs: opts.minBackoffMs }),
      ...(opts.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: opts.maxRetryAfterMs }),
      ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
      ...(opts.sleep === undefined ? {} : { sleep: opts.sleep }),
    });
  const retries = opts.retries ?? 3;
  // edits and deletes are idempotent: the shared HTTP core retries them freely
  const http: HttpClient | undefined = configError === undefined ? makeClient(retries) : undefined;
  // a send is not: it is retried below only when Telegram surely did not post it
  const sendHttp: HttpClient | undefined = configError === undefined ? makeClient(0) : undefined;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  /** Removes the token from anything that leaves this package. */
  const scrub = (error: ConveyorError): ConveyorError => {
    if (token.length === 0) return error;
    const leaks = (value: string) => value.includes(token);
    const detailsText = safeJson(error.details);
    if (!leaks(error.message) && !leaks(detailsText)) return error;
    const clean = (value: string) => value.split(token).join('[redacted]');
    const details = JSON.parse(clean(detailsText)) as Record<string, unknown>;
    return new ConveyorError(error.pkg, error.code, clean(error.message), { details, cause: error });
  };

  async function call<T>(
    method: string,
    body: Record<string, unknown>,
    schema: z.ZodType<T>,
    client: HttpClient | undefined = http,
  ) {
    if (!client)
      return err<T, ConveyorError>(configError ?? new ConveyorError(PKG, 'invalid_config', 'not configured'));
    let res: Awaited<ReturnType<HttpClient['request']>>;
    try {
      // every Bot API call is a POST; only sendMessage is not safe to repeat (the chat would get it twice)
      res = await client.request({ method: 'POST', path: method, body, retry: method !== 'sendMessage' });
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      return err<T, ConveyorError>(
        scrub(new ConveyorError(PKG, 'internal', `Telegram ${method} failed: ${message}`, { details: { method } })),
      );
    }
    if (!res.ok) return err<T, ConveyorError>(scrub(res.error));
    const parsed = schema.safeParse(res.value.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? issue.path.join('.') || '(root)' : '(root)';
      return err<T, ConveyorError>(
        new ConveyorError(
          PKG,
          'api_refused',
          `Telegram ${method} answered a body the notifier does not understand: field "${where}": ${issue?.message ?? 'invalid'}`,
          { details: { method, status: res.value.status } },
        ),
      );
    }
    return ok<T, ConveyorError>(parsed.data);
  }

  const serverSays = (error: ConveyorError, pattern: RegExp): boolean => {
    const text = `${String(error.details.serverMessage ?? '')} ${error.message}`;
    return pattern.test(text);
  };

  const base = () => ({
    chat_id: opts.chatId,
    ...(opts.messageThreadId === undefined ? {} : { message_thread_id: opts.messageThreadId }),
  });

  const textParams = (text: string) => ({
    text,
    parse_mode: parseMode,
    link_preview_options: { is_disabled: true },
  });

  /**
   * Sends a card: at most one new message per update. Retried only when
   * Telegram surely did not post it (a 429, a 5xx, a refused connection); a
   * timeout or a connection lost mid-request may have posted it, so it is
   * reported instead of risking a second card.
   */
  const sendCard = async (text: string, silent: boolean) => {
    const body = { ...base(), ...textParams(text), ...(silent ? { disable_notification: true } : {}) };
    for (let attempt = 1; ; attempt += 1) {
      const res = await call('sendMessage', body, sendResponse, sendHttp);
      if (res.ok || attempt > retries) return res;
      const e = res.error;
      const retryAfter = typeof e.details.retryAfterMs === 'number' ? e.details.retryAfterMs : undefined;
      const maxRetryAfter = opts.maxRetryAfterMs ?? 60_000;
      if (e.code === 'rate_limited' && (retryAfter === undefined || retryAfter <= maxRetryAfter)) {
        await sleep(retryAfter ?? backoffMs(attempt, opts.minBackoffMs ?? 200));
      } else if (e.details.serverError === true || (e.code === 'network' && neverReached(e))) {
        await sleep(backoffMs(attempt, opts.minBackoffMs ?? 200));
      } else {
        return res;
      }
    }
  };

  const deleteCard = async (messageId: number): Promise<Result<'deleted' | 'gone', ConveyorError>> => {
    const res = await call('deleteMessage', { chat_id: opts.chatId, message_id: messageId }, deleteResponse);
    if (res.ok) return ok('deleted');
    if (serverSays(res.error, DELETE_NOT_FOUND)) return ok('gone');
    return err(res.error);
  };

  /** Messages an earlier bump could not delete: tried again on every call, kept while the failure may pass. */
  const readStale = async (taskId: string): Promise<number[]> => {
    const res = await opts.cards.getCardRef(taskId, staleChannel);
    if (!res.ok || res.value === undefined) return [];
    try {
      const ids = JSON.parse(res.value) as unknown;
      return Array.isArray(ids) ? ids.filter((id): id is number => Number.isInteger(id) && id > 0) : [];
    } catch {
      return [];
    }
  };

  const writeStale = async (taskId: string, ids: readonly number[]) => {
    if (ids.length === 0) await opts.cards.deleteCardRef(taskId, staleChannel);
    else await opts.cards.setCardRef(taskId, staleChannel, JSON.stringify(ids));
  };

  const sweepStale = async (taskId: string) => {
    const ids = await readStale(taskId);
    if (ids.length === 0) return;
    const keep: number[] = [];
    for (const id of ids) {
      const res = await deleteCard(id);
      if (!res.ok && res.error.retryable) keep.push(id);
    }
    await writeStale(taskId, keep);
  };

  const rememberStale = async (taskId: string, id: number) => {
    const ids = await readStale(taskId);
    if (!ids.includes(id)) await writeStale(taskId, [...ids, id]);
  };

  /** Sends the card and repoints the ref; if the ref can't be stored, the new card is taken back. */
  const sendAndRepoint = async (taskId: string, text: string, silent: boolean, replaced?: number) => {
    const sent = await sendCard(text, silent);
    if (!sent.ok) return err<void, ConveyorError>(sent.error);
    const messageId = sent.value.result.message_id;
    const stored = await opts.cards.setCardRef(taskId, channel, String(messageId));
    if (!stored.ok) {
      await deleteCard(messageId);
      return err<void, ConveyorError>(stored.error);
    }
    if (replaced !== undefined) await rememberStale(taskId, replaced);
    return ok<void, ConveyorError>(undefined);
  };

  const upsert = async (card: TaskCard): Promise<Result<void, ConveyorError>> => {
    const taskId = card.taskId;
    const current = await opts.cards.getCardRef(taskId, channel);
    if (!current.ok) return err(current.error);
    await sweepStale(taskId);
    const messageId = parseRef(current.value);
    if (current.value !== undefined && messageId === undefined) {
      opts.logger?.warn('telegram card ref unreadable; sending a new card', { taskId, channel });
    }
    const text = renderTaskCard(card, {
      ...(opts.locale === undefined ? {} : { locale: opts.locale }),
      parseMode,
      ...(opts.links === undefined ? {} : { extraLinks: opts.links(card) }),
      redact: neverShow,
    });
    if (messageId === undefined) return sendAndRepoint(taskId, text, opts.silent ?? false);

    if (opts.mode === 'edit') {
      const edited = await call(
        'editMessageText',
        { chat_id: opts.chatId, message_id: messageId, ...textParams(text) },
        editResponse,
      );
      if (edited.ok || serverSays(edited.error, NOT_MODIFIED)) return ok(undefined);
      if (serverSays(edited.error, EDIT_NOT_FOUND)) return sendAndRepoint(taskId, text, true);
      if (serverSays(edited.error, CANT_EDIT)) {
        const removed = await deleteCard(messageId);
        return sendAndRepoint(taskId, text, true, removed.ok || !removed.error.retryable ? undefined : messageId);
      }
      return err(edited.error);
    }

    // bump: delete, then send; a failed delete never stops the send
    const removed = await deleteCard(messageId);
    if (!removed.ok) {
      opts.logger?.warn('telegram: old card not deleted; sending the new one anyway', {
        taskId,
        code: removed.error.code,
      });
    }
    return sendAndRepoint(taskId, text, true, removed.ok || !removed.error.retryable ? undefined : messageId);
  };

  const remove = async (taskId: string): Promise<Result<void, ConveyorError>> => {
    const current = await opts.cards.getCardRef(taskId, channel);
    if (!current.ok) return err(current.error);
    await sweepStale(taskId);
    const messageId = parseRef(current.value);
    if (messageId !== undefined) {
      const removed = await deleteCard(messageId);
      if (!removed.ok) return err(removed.error);
    }
    if (current.value === undefined) return ok(undefined);
    return opts.cards.deleteCardRef(taskId, channel);
  };

  /** One operation per task at a time, so two racing updates never leave two cards. */
  const serialised = <T>(taskId: string, run: () => Promise<Result<T, ConveyorError>>) => {
    const previous = locks.get(taskId) ?? Promise.resolve();
    const next = previous
      .then(run, run)
      .catch((thrown: unknown) =>
        err<T, ConveyorError>(
          scrub(
            new ConveyorError(
              PKG,
              'internal',
              `telegram notifier failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
            ),
          ),
        ),
      );
    locks.set(taskId, next);
    void next.finally(() => {
      if (locks.get(taskId) === next) locks.delete(taskId);
    });
    return next;
  };

  return Object.freeze({
    channel,
    mode: opts.mode,
    upsertCard(card: TaskCard) {
      if (configError) return Promise.resolve(err<void, ConveyorError>(configError));
      if (typeof card?.taskId !== 'string' || card.taskId.length === 0) {
        return Promise.resolve(
          err<void, ConveyorError>(new ConveyorError(PKG, 'invalid_input', 'card.taskId must be a non-empty string')),
        );
      }
      return serialised(card.taskId, () => upsert(card));
    },
    removeCard(taskId: string) {
      if (configError) return Promise.resolve(err<void, ConveyorError>(configError));
      if (typeof taskId !== 'string' || taskId.length === 0) {
        return Promise.resolve(
          err<void, ConveyorError>(new ConveyorError(PKG, 'invalid_input', 'taskId must be a non-empty string')),
        );
      }
      return serialised(taskId, () => remove(taskId));
    },
  });
}

function backoffMs(attempt: number, min: number): number {
  const exp = Math.min(5_000, min * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/** The request never reached the server (nothing can have been posted). */
function neverReached(error: ConveyorError): boolean {
  const text = `${error.message} ${describeCauses(error.cause)}`;
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET before|ERR_SOCKET_CONNECTION_TIMEOUT|UND_ERR_CONNECT_TIMEOUT/i.test(
    text,
  );
}

function describeCauses(cause: unknown, depth = 0): string {
  if (depth > 4 || cause === null || typeof cause !== 'object') return '';
  const record = cause as { message?: unknown; code?: unknown; cause?: unknown };
  return `${String(record.message ?? '')} ${String(record.code ?? '')} ${describeCauses(record.cause, depth + 1)}`;
}

function parseRef(ref: string | undefined): number | undefined {
  if (ref === undefined || !/^[1-9][0-9]{0,15}$/.test(ref)) return undefined;
  return Number(ref);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function checkConfig(opts: TelegramNotifierOptions): ConveyorError | undefined {
  const bad = (message: string) => new ConveyorError(PKG, 'invalid_config', message);
  if (typeof opts.botToken !== 'string' || opts.botToken.length === 0)
    return bad('botToken must be a non-empty string');
  if (/[\s/?#%]/.test(opts.botToken)) return bad('botToken contains characters a Telegram token never has');
  if (typeof opts.chatId === 'string' ? opts.chatId.length === 0 : !Number.isInteger(opts.chatId)) {
    return bad('chatId must be an integer or a non-empty string such as @channelname');
  }
  if (opts.mode !== 'edit' && opts.mode !== 'bump')
    return bad(`mode must be 'edit' or 'bump', got ${String(opts.mode)}`);
  if (opts.parseMode !== undefined && opts.parseMode !== 'HTML' && opts.parseMode !== 'MarkdownV2') {
    return bad(`parseMode must be 'HTML' or 'MarkdownV2', got ${String(opts.parseMode)}`);
  }
  if (typeof opts.cards?.getCardRef !== 'function')
    return bad('cards must be a CardRefStore (getCardRef/setCardRef/deleteCardRef)');
  if (opts.baseUrl !== undefined) {
    try {
      const url = new URL(opts.baseUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return bad('baseUrl must be an http(s) URL');
    } catch {
      return bad('baseUrl is not a valid URL');
    }
  }
  return undefined;
}
