import {
  type FakeTelegram,
  FIXTURES_MISSING_MESSAGE,
  loadBotApiSpec,
  MINIMAL_BOT_API_SPEC,
  parseTelegramText,
  sharedFixturesDir,
  startFakeTelegram,
  validateBotApiParams,
} from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const TOKEN = '424242:TEST-fake-telegram-token';
const CHAT = 5150;

describe('fake Telegram', () => {
  let tg: FakeTelegram;
  const call = async (method: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(`${tg.url}/bot${token}/${method}`, {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeEach(async () => {
    tg = await startFakeTelegram({ token: TOKEN });
  });
  afterEach(async () => {
    await tg.close();
  });

  it('answers getMe with the bot user', async () => {
    const res = await call('getMe');
    expect(res).toEqual({
      status: 200,
      body: { ok: true, result: { id: 424242, is_bot: true, first_name: 'Conveyor', username: 'conveyor_fake_bot' } },
    });
  });

  it('sends, edits and deletes messages, and shows what a person would see in chat order', async () => {
    const first = await call('sendMessage', { chat_id: CHAT, text: '<b>Card</b> &amp; more', parse_mode: 'HTML' });
    expect(first.status).toBe(200);
    expect(first.body.result).toMatchObject({
      message_id: 1,
      chat: { id: CHAT, type: 'private' },
      text: 'Card & more',
      entities: [{ type: 'bold', offset: 0, length: 4 }],
    });
    await call('sendMessage', { chat_id: CHAT, text: 'second', disable_notification: true });
    const edited = await call('editMessageText', {
      chat_id: CHAT,
      message_id: 1,
      text: '*Card* v2',
      parse_mode: 'MarkdownV2',
    });
    expect(edited.body.result).toMatchObject({ message_id: 1, text: 'Card v2' });
    expect(typeof (edited.body.result as { edit_date?: unknown }).edit_date).toBe('number');
    expect(tg.visibleMessages(CHAT).map((m) => [m.messageId, m.text, m.silent, m.edits])).toEqual([
      [1, 'Card v2', false, 1],
      [2, 'second', true, 0],
    ]);
    expect((await call('deleteMessage', { chat_id: CHAT, message_id: 1 })).body).toEqual({ ok: true, result: true });
    expect(tg.visibleMessages(CHAT).map((m) => m.text)).toEqual(['second']);
    expect(tg.message(CHAT, 1)).toBeUndefined();
    expect(tg.callCount('sendMessage')).toBe(2);
  });

  it("uses Telegram's error shapes and texts", async () => {
    await call('sendMessage', { chat_id: CHAT, text: 'same' });
    expect(await call('editMessageText', { chat_id: CHAT, message_id: 1, text: 'same' })).toEqual({
      status: 400,
      body: {
        ok: false,
        error_code: 400,
        description:
          'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      },
    });
    expect((await call('editMessageText', { chat_id: CHAT, message_id: 99, text: 'x' })).body.description).toBe(
      'Bad Request: message to edit not found',
    );
    expect((await call('deleteMessage', { chat_id: CHAT, message_id: 99 })).body.description).toBe(
      'Bad Request: message to delete not found',
    );
    expect(await call('getMe', undefined, '1:wrong')).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect((await call('sendPigeon', { chat_id: CHAT })).body).toEqual({
      ok: false,
      error_code: 404,
      description: 'Not Found',
    });
    expect((await call('sendMessage', { chat_id: CHAT })).body.description).toBe('Bad Request: message text is empty');
    expect((await call('sendMessage', { text: 'x' })).body.description).toBe('Bad Request: chat_id is empty');
    expect((await call('sendMessage', { chat_id: CHAT, text: '   ' })).body.description).toBe(
      'Bad Request: message text is empty',
    );
    expect((await call('sendMessage', { chat_id: CHAT, text: 'x'.repeat(4097) })).body.description).toBe(
      'Bad Request: message is too long',
    );
    expect((await call('sendMessage', { chat_id: CHAT, text: '😀'.repeat(2049) })).body.description).toBe(
      'Bad Request: message is too long',
    );
    expect((await call('sendMessage', { chat_id: CHAT, text: '😀'.repeat(2048) })).status).toBe(200);
    expect(
      String((await call('sendMessage', { chat_id: CHAT, text: 'v1.2', parse_mode: 'MarkdownV2' })).body.description),
    ).toMatch(/^Bad Request: can't parse entities: Character '\.' is reserved/);
  });

  it('validates parameters against the spec: types, and unknown names', async () => {
    expect((await call('sendMessage', { chat_id: CHAT, text: 5 })).body.description).toBe(
      'Bad Request: parameter "text" must be String',
    );
    expect((await call('sendMessage', { chat_id: true, text: 'x' })).body.description).toBe(
      'Bad Request: parameter "chat_id" must be Integer or String',
    );
    expect(
      (await call('sendMessage', { chat_id: CHAT, text: 'x', disable_notifications: true })).body.description,
    ).toBe('Bad Request: unknown parameter "disable_notifications" for method sendMessage');
    expect(
      (await call('sendMessage', { chat_id: CHAT, text: 'x', link_preview_options: { is_disabled: 'yes' } })).body
        .description,
    ).toBe('Bad Request: parameter "link_preview_options" must be LinkPreviewOptions');
    expect((await call('deleteMessage', { chat_id: CHAT, message_id: '1' })).body.description).toBe(
      'Bad Request: parameter "message_id" must be Integer',
    );
  });

  it('injects Telegram-style 429s, 5xx bursts, drops and custom errors', async () => {
    tg.inject({ kind: 'rate-limit', retryAfterSeconds: 3, style: 'telegram', path: '/sendMessage' });
    expect(await call('sendMessage', { chat_id: CHAT, text: 'x' })).toEqual({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      },
    });
    tg.injectError('deleteMessage', 400, "Bad Request: message can't be deleted", 2);
    expect((await call('deleteMessage', { chat_id: CHAT, message_id: 1 })).body.description).toBe(
      "Bad Request: message can't be deleted",
    );
    tg.inject({ kind: 'status', status: 502, times: 1 });
    expect((await call('getMe')).status).toBe(502);
    tg.inject({ kind: 'drop' });
    await expect(call('getMe')).rejects.toThrow();
    expect((await call('getMe')).status).toBe(200);
    expect(tg.visibleMessages(CHAT)).toEqual([]);
  });

  it('a message deleted by a person is gone for the bot too', async () => {
    await call('sendMessage', { chat_id: CHAT, text: 'card' });
    expect(tg.deleteAsUser(CHAT, 1)).toBe(true);
    expect((await call('editMessageText', { chat_id: CHAT, message_id: 1, text: 'x' })).body.description).toBe(
      'Bad Request: message to edit not found',
    );
  });
});

describe('Bot API spec', () => {
  const dir = sharedFixturesDir();
  if (!dir) console.warn(FIXTURES_MISSING_MESSAGE);

  it('the minimal fallback knows the methods the fake serves', () => {
    expect(validateBotApiParams(MINIMAL_BOT_API_SPEC, 'sendMessage', { chat_id: 1 })).toBe(
      'parameter "text" is required',
    );
    expect(loadBotApiSpec('/nonexistent/fixtures').version).toBe('minimal');
  });

  // needs the real Bot API spec from the shared fixtures (CI has them; a fresh clone may not)
  describe.skipIf(!dir)('against the real Bot API 10.1 spec', () => {
    it('loads every method the fake serves, with the fields the notifier uses', () => {
      const spec = loadBotApiSpec(dir);
      expect(spec.version).toBe('Bot API 10.1');
      const names = (method: string) => (spec.methods[method] ?? []).map((f) => f.name);
      expect(names('sendMessage')).toEqual(
        expect.arrayContaining(['chat_id', 'text', 'parse_mode', 'disable_notification', 'link_preview_options']),
      );
      expect(names('editMessageText')).toEqual(
        expect.arrayContaining(['chat_id', 'message_id', 'text', 'parse_mode', 'link_preview_options']),
      );
      expect(names('deleteMessage')).toEqual(['chat_id', 'message_id']);
      expect(spec.methods.getMe).toEqual([]);
      expect(spec.types.LinkPreviewOptions?.some((f) => f.name === 'is_disabled')).toBe(true);
    });

    it('the fake validates against it by default', async () => {
      const tg = await startFakeTelegram({ token: TOKEN });
      try {
        expect(tg.specVersion).toBe('Bot API 10.1');
      } finally {
        await tg.close();
      }
    });
  });
});

describe('parseTelegramText', () => {
  it('parses HTML entities and tags like Telegram', () => {
    expect(
      parseTelegramText(
        '<b>a</b> &lt;&gt;&amp;&quot; &#60;&#x3E; & x <a href="https://x.test/?a=1&amp;b=2">l</a>',
        'HTML',
      ),
    ).toEqual({
      ok: true,
      text: 'a <>&" <> & x l',
      entities: [
        { type: 'bold', offset: 0, length: 1 },
        { type: 'text_link', offset: 14, length: 1, url: 'https://x.test/?a=1&b=2' },
      ],
    });
    expect(parseTelegramText('<b>open', 'HTML').ok).toBe(false);
    expect(parseTelegramText('<b>x</i>', 'HTML').ok).toBe(false);
    expect(parseTelegramText('a < b', 'HTML').ok).toBe(false);
  });

  it('parses MarkdownV2 entities, escapes and links', () => {
    expect(parseTelegramText('*b* _i_ __u__ ~s~ ||sp|| `c\\`` [l](https://x.test/\\)) \\.\\\\', 'MarkdownV2')).toEqual({
      ok: true,
      text: 'b i u s sp c` l .\\',
      entities: [
        { type: 'bold', offset: 0, length: 1 },
        { type: 'italic', offset: 2, length: 1 },
        { type: 'underline', offset: 4, length: 1 },
        { type: 'strikethrough', offset: 6, length: 1 },
        { type: 'spoiler', offset: 8, length: 2 },
        { type: 'code', offset: 11, length: 2 },
        { type: 'text_link', offset: 14, length: 1, url: 'https://x.test/)' },
      ],
    });
    expect(parseTelegramText('>quoted\nplain', 'MarkdownV2')).toEqual({
      ok: true,
      text: 'quoted\nplain',
      entities: [{ type: 'blockquote', offset: 0, length: 6 }],
    });
    for (const bad of ['a-b', '*open', 'x]', 'trailing\\', '[l](open']) {
      expect(parseTelegramText(bad, 'MarkdownV2').ok).toBe(false);
    }
  });

  it('leaves text without a parse mode untouched', () => {
    expect(parseTelegramText('<b>*x*</b>', undefined)).toEqual({ ok: true, text: '<b>*x*</b>', entities: [] });
  });
});
