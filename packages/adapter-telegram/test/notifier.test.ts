import { type AddressInfo, createServer } from 'node:net';
import { createTelegramNotifier, type TelegramNotifierOptions } from '@conveyor/adapter-telegram';
import { ConveyorError, type StageMark, type TaskCard, type TaskStatus } from '@conveyor/core';
import {
  createMemoryStore,
  type FakeTelegram,
  type MemoryStore,
  type MemoryStoreMethod,
  notifierConformance,
  startFakeTelegram,
} from '@conveyor/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// A fake token: lives under test/ (allowlisted), never a real one.
const TOKEN = '987654321:AAHfakeTokenForConveyorTests_abcdefghij';
const CHAT = -1001234567890;
const noSleep = async () => {};

/** A port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const STAGES = ['analysis', 'development', 'deploy-staging', 'deploy', 'done'] as const;
function card(taskId: string, title: string, current: number, extra: Partial<TaskCard> = {}): TaskCard {
  const stages = STAGES.map((id, i) => {
    const mark: StageMark = i < current ? 'done' : i === current ? 'current' : 'pending';
    return { id, mark };
  });
  const status: TaskStatus = current === 0 ? 'awaiting_approval' : 'active';
  return { taskId, title, status, stages, links: [], updatedAt: 1_700_000_000_000, ...extra };
}

for (const mode of ['edit', 'bump'] as const) {
  for (const parseMode of ['HTML', 'MarkdownV2'] as const) {
    notifierConformance(`telegram ${mode} ${parseMode}`, async () => {
      const tg = await startFakeTelegram({ token: TOKEN });
      const notifier = createTelegramNotifier({
        botToken: TOKEN,
        chatId: CHAT,
        cards: createMemoryStore(),
        mode,
        parseMode,
        baseUrl: tg.url,
        retries: 2,
        sleep: noSleep,
      });
      return {
        notifier,
        visibleCards: () => tg.visibleMessages(CHAT),
        inject: (fault) => tg.inject(fault),
        clearFaults: () => tg.server.reset(),
        close: () => tg.close(),
      };
    });
  }
}

describe('telegram notifier over real HTTP', () => {
  let tg: FakeTelegram;
  let store: MemoryStore;
  let storeFault: MemoryStoreMethod | undefined;
  let sleeps: number[];

  const make = (overrides: Partial<TelegramNotifierOptions> = {}) =>
    createTelegramNotifier({
      botToken: TOKEN,
      chatId: CHAT,
      cards: store,
      mode: 'edit',
      baseUrl: tg.url,
      retries: 2,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...overrides,
    });
  const refOf = async (taskId: string, channel = `telegram:${CHAT}`) => {
    const res = await store.getCardRef(taskId, channel);
    expect(res.ok).toBe(true);
    return res.ok ? res.value : undefined;
  };
  const calls = (method: string) => tg.server.requests.filter((r) => r.path.endsWith(`/${method}`));
  const visible = () => tg.visibleMessages(CHAT);

  beforeEach(async () => {
    tg = await startFakeTelegram({ token: TOKEN });
    storeFault = undefined;
    store = createMemoryStore({
      fault: (method) =>
        method === storeFault ? new ConveyorError('@conveyor/testkit', 'internal', `${method} broke`) : undefined,
    });
    sleeps = [];
  });
  afterEach(async () => {
    await tg.close();
  });

  describe('edit mode', () => {
    it('sends the card once, then edits it in place with the same message id', async () => {
      const notifier = make();
      expect((await notifier.upsertCard(card('T-1', 'Add login', 0))).ok).toBe(true);
      const first = visible();
      expect(first).toHaveLength(1);
      expect(first[0]?.silent).toBe(false);
      expect(first[0]?.linkPreviewDisabled).toBe(true);
      expect(await refOf('T-1')).toBe(String(first[0]?.messageId));

      expect((await notifier.upsertCard(card('T-1', 'Add login', 1, { lastVerdict: 'approved by Ann' }))).ok).toBe(
        true,
      );
      const second = visible();
      expect(second).toHaveLength(1);
      expect(second[0]?.messageId).toBe(first[0]?.messageId);
      expect(second[0]?.edits).toBe(1);
      expect(second[0]?.text).toContain('approved by Ann');
      expect(calls('sendMessage')).toHaveLength(1);
      expect(calls('editMessageText')).toHaveLength(1);
      const body = calls('editMessageText')[0]?.json as Record<string, unknown>;
      expect(body).toMatchObject({ chat_id: CHAT, message_id: first[0]?.messageId, parse_mode: 'HTML' });
      expect(String(body.text)).toContain('<b>Add login</b>');
    });

    it('"message is not modified" counts as success', async () => {
      const notifier = make();
      const c = card('T-1', 'Same', 1);
      expect((await notifier.upsertCard(c)).ok).toBe(true);
      const again = await notifier.upsertCard(c);
      expect(again.ok).toBe(true);
      expect(calls('editMessageText')).toHaveLength(1);
      expect(visible()[0]?.edits).toBe(0);
    });

    it('"message to edit not found" sends a new card and repoints the ref', async () => {
      const notifier = make();
      expect((await notifier.upsertCard(card('T-1', 'Lost card', 0))).ok).toBe(true);
      const old = visible()[0]?.messageId ?? 0;
      expect(tg.deleteAsUser(CHAT, old)).toBe(true);
      expect((await notifier.upsertCard(card('T-1', 'Lost card', 1))).ok).toBe(true);
      const now = visible();
      expect(now).toHaveLength(1);
      expect(now[0]?.messageId).not.toBe(old);
      expect(now[0]?.silent).toBe(true);
      expect(await refOf('T-1')).toBe(String(now[0]?.messageId));
      expect((await notifier.upsertCard(card('T-1', 'Lost card', 2))).ok).toBe(true);
      expect(visible()).toHaveLength(1);
      expect(visible()[0]?.edits).toBe(1);
    });

    it('"message can\'t be edited" replaces the card with a new one', async () => {
      const notifier = make();
      expect((await notifier.upsertCard(card('T-1', 'Frozen', 0))).ok).toBe(true);
      const old = visible()[0]?.messageId ?? 0;
      tg.injectError('editMessageText', 400, "Bad Request: message can't be edited");
      expect((await notifier.upsertCard(card('T-1', 'Frozen', 1))).ok).toBe(true);
      expect(visible().map((m) => m.messageId)).toEqual([old + 1]);
      expect(await refOf('T-1')).toBe(String(old + 1));
    });

    it('an edit Telegram refuses for another reason is reported with its words', async () => {
      const notifier = make();
      expect((await notifier.upsertCard(card('T-1', 'Refused', 0))).ok).toBe(true);
      tg.injectError('editMessageText', 403, 'Forbidden: bot was kicked from the supergroup chat');
      const res = await notifier.upsertCard(card('T-1', 'Refused', 1));
      expect(res.ok ? undefined : res.error.code).toBe('unauthorized');
      expect(res.ok ? '' : res.error.message).toContain('bot was kicked');
      expect(visible()).toHaveLength(1);
    });

    it('a store that cannot keep the ref takes the new card back', async () => {
      const notifier = make();
      storeFault = 'setCardRef';
      const res = await notifier.upsertCard(card('T-1', 'Unrecorded', 0));
      expect(res.ok).toBe(false);
      expect(visible()).toHaveLength(0);
      storeFault = undefined;
      expect((await notifier.upsertCard(card('T-1', 'Unrecorded', 0))).ok).toBe(true);
      expect(visible()).toHaveLength(1);
    });
  });

  describe('bump mode', () => {
    it('deletes the old card and sends the new one silently at the bottom, repointing the ref', async () => {
      const notifier = make({ mode: 'bump' });
      expect((await notifier.upsertCard(card('T-1', 'Bumpy', 0))).ok).toBe(true);
      const first = visible()[0]?.messageId;
      // someone else talks in the chat
      const other = await fetch(`${tg.url}/bot${TOKEN}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: CHAT, text: 'hello from a person' }),
      });
      expect(other.status).toBe(200);
      expect((await notifier.upsertCard(card('T-1', 'Bumpy', 1))).ok).toBe(true);
      const now = visible();
      expect(now.map((m) => m.text.split('\n')[0])).toEqual(['hello from a person', 'Bumpy']);
      const bumped = now[1];
      expect(bumped?.messageId).not.toBe(first);
      expect(bumped?.silent).toBe(true);
      expect(await refOf('T-1')).toBe(String(bumped?.messageId));
      // delete before send: the wire order
      const order = tg.server.requests.map((r) => r.path.split('/').pop());
      expect(order.slice(-2)).toEqual(['deleteMessage', 'sendMessage']);
      expect(
        calls('sendMessage').filter((r) => (r.json as { disable_notification?: boolean }).disable_notification),
      ).toHaveLength(1);
    });

    it('a failed send never leaves two cards and keeps the old ref', async () => {
      const notifier = make({ mode: 'bump' });
      expect((await notifier.upsertCard(card('T-1', 'Fragile', 0))).ok).toBe(true);
      const ref = await refOf('T-1');
      tg.inject({ kind: 'status', status: 500, path: '/sendMessage', times: 10 });
      const res = await notifier.upsertCard(card('T-1', 'Fragile', 1));
      expect(res.ok).toBe(false);
      expect(visible().length).toBeLessThanOrEqual(1);
      expect(await refOf('T-1')).toBe(ref);
      tg.server.reset();
      expect((await notifier.upsertCard(card('T-1', 'Fragile', 2))).ok).toBe(true);
      expect(visible()).toHaveLength(1);
      expect(await refOf('T-1')).toBe(String(visible()[0]?.messageId));
    });

    it('at most one new message per update, even under a 5xx on send', async () => {
      const notifier = make({ mode: 'bump' });
      for (let step = 0; step < 4; step += 1) {
        if (step === 2) tg.inject({ kind: 'status', status: 502, path: '/sendMessage', times: 1 });
        const before = tg.server.requests.length;
        expect((await notifier.upsertCard(card('T-1', 'Counted', step))).ok).toBe(true);
        const sentOk = tg.server.requests.slice(before).filter((r) => r.path.endsWith('/sendMessage')).length;
        expect(sentOk).toBe(step === 2 ? 2 : 1); // one 502 answer + one success
        expect(visible()).toHaveLength(1);
      }
    });

    it('a send that timed out is not retried (it may have been posted), a refused connection is', async () => {
      expect((await make({ mode: 'bump' }).upsertCard(card('T-0', 'Warm-up', 0))).ok).toBe(true);
      tg.server.reset();
      const notifier = make({ mode: 'bump', timeoutMs: 300 });
      tg.inject({ kind: 'slow', delayMs: 900, path: '/sendMessage' });
      const res = await notifier.upsertCard(card('T-1', 'Slow', 0));
      expect(res.ok ? undefined : res.error.code).toBe('timeout');
      expect(calls('sendMessage')).toHaveLength(1);
      expect(await refOf('T-1')).toBeUndefined();
      const refused = make({ mode: 'bump', baseUrl: `http://127.0.0.1:${await closedPort()}`, retries: 2 });
      const down = await refused.upsertCard(card('T-2', 'Down', 0));
      expect(down.ok ? undefined : down.error.code).toBe('network');
      expect(sleeps).toHaveLength(2);
    });

    it('a delete Telegram refuses still sends the new card', async () => {
      const notifier = make({ mode: 'bump' });
      expect((await notifier.upsertCard(card('T-1', 'Undeletable', 0))).ok).toBe(true);
      const old = visible()[0]?.messageId;
      tg.injectError('deleteMessage', 400, "Bad Request: message can't be deleted for everyone");
      expect((await notifier.upsertCard(card('T-1', 'Undeletable', 1))).ok).toBe(true);
      const now = visible();
      expect(now.map((m) => m.messageId)).toEqual([old, (old ?? 0) + 1]);
      expect(await refOf('T-1')).toBe(String((old ?? 0) + 1));
    });

    it('a delete lost to the network still sends, and the old card is swept on the next call', async () => {
      const notifier = make({ mode: 'bump' });
      expect((await notifier.upsertCard(card('T-1', 'Swept', 0))).ok).toBe(true);
      tg.inject({ kind: 'drop', path: '/deleteMessage', times: 3 });
      expect((await notifier.upsertCard(card('T-1', 'Swept', 1))).ok).toBe(true);
      expect(visible()).toHaveLength(2);
      expect(await refOf('T-1')).toBe(String(visible()[1]?.messageId));
      expect((await notifier.upsertCard(card('T-1', 'Swept', 2))).ok).toBe(true);
      expect(visible()).toHaveLength(1);
      expect(visible()[0]?.text).toContain('Swept');
    });

    it('removeCard deletes the card and the ref', async () => {
      const notifier = make({ mode: 'bump' });
      expect((await notifier.upsertCard(card('T-1', 'Gone soon', 0))).ok).toBe(true);
      expect((await notifier.removeCard('T-1')).ok).toBe(true);
      expect(visible()).toHaveLength(0);
      expect(await refOf('T-1')).toBeUndefined();
    });
  });

  describe('transport', () => {
    it('a 429 is retried after retry_after', async () => {
      const notifier = make();
      tg.inject({ kind: 'rate-limit', retryAfterSeconds: 7, style: 'telegram', path: '/sendMessage' });
      expect((await notifier.upsertCard(card('T-1', 'Flood', 0))).ok).toBe(true);
      expect(sleeps).toEqual([7000]);
      expect(calls('sendMessage')).toHaveLength(2);
      expect(visible()).toHaveLength(1);
    });

    it('a retry_after beyond the limit fails rate_limited without waiting', async () => {
      const notifier = make({ maxRetryAfterMs: 5000 });
      tg.inject({ kind: 'rate-limit', retryAfterSeconds: 60, style: 'telegram', path: '/sendMessage' });
      const res = await notifier.upsertCard(card('T-1', 'Flood', 0));
      expect(res.ok ? undefined : res.error.code).toBe('rate_limited');
      expect(sleeps).toEqual([]);
    });

    it('never shows the bot token in an error', async () => {
      const wrong = make({ botToken: `${TOKEN}x` });
      const refused = await wrong.upsertCard(card('T-1', 'Secret', 0));
      expect(refused.ok).toBe(false);
      if (!refused.ok) {
        expect(refused.error.code).toBe('unauthorized');
        expect(refused.error.message).toContain('Unauthorized');
        const shown = `${refused.error.message} ${JSON.stringify(refused.error.toJSON())} ${refused.error.stack}`;
        expect(shown).not.toContain(TOKEN);
      }
      const closed = make({ baseUrl: 'http://127.0.0.1:1', retries: 0 });
      const network = await closed.upsertCard(card('T-1', 'Secret', 0));
      expect(network.ok ? undefined : network.error.code).toBe('network');
      if (!network.ok)
        expect(`${network.error.message} ${JSON.stringify(network.error.toJSON())}`).not.toContain(TOKEN);
    });

    it('a response it cannot understand is an api_refused error naming the field', async () => {
      const notifier = make();
      tg.inject({ kind: 'status', status: 200, body: { ok: true, result: { chat: { id: 1 } } }, path: '/sendMessage' });
      const res = await notifier.upsertCard(card('T-1', 'Odd', 0));
      expect(res.ok).toBe(false);
      if (!res.ok) {
        expect(res.error.code).toBe('api_refused');
        expect(res.error.message).toContain('result.message_id');
      }
      tg.inject({ kind: 'malformed-json', path: '/sendMessage' });
      const malformed = await notifier.upsertCard(card('T-1', 'Odd', 0));
      expect(malformed.ok ? undefined : malformed.error.code).toBe('api_refused');
    });

    it('bad options resolve to invalid_config, never a throw', async () => {
      const cases: Partial<TelegramNotifierOptions>[] = [
        { botToken: '' },
        { chatId: '' },
        { mode: 'sideways' as 'edit' },
        { baseUrl: 'not a url' },
        { parseMode: 'Markdown' as 'HTML' },
      ];
      for (const overrides of cases) {
        const res = await make(overrides).upsertCard(card('T-1', 'x', 0));
        expect(res.ok ? undefined : res.error.code).toBe('invalid_config');
        const removed = await make(overrides).removeCard('T-1');
        expect(removed.ok ? undefined : removed.error.code).toBe('invalid_config');
      }
      expect(tg.server.requests).toHaveLength(0);
    });
  });

  describe('the card a person sees', () => {
    it('shows the Russian labels', async () => {
      const notifier = make({ locale: 'ru' });
      const c = card('T-7', 'Оплата картой', 2, {
        lastVerdict: 'проверка безопасности пройдена',
        links: [{ label: 'Задача', url: 'https://plane.example.test/acme/issues/7' }],
      });
      expect((await notifier.upsertCard(c)).ok).toBe(true);
      const text = visible()[0]?.text ?? '';
      expect(text.split('\n')).toEqual([
        'Оплата картой',
        'T-7 · Статус: в работе',
        '',
        '✅ 📋 Подтверждение BRD',
        '✅ 🛠 Разработка',
        '▶️ 🧪 Выкладка на стенд',
        '⬜ 🚀 Выкладка в прод',
        '⬜ 📦 Внедрено',
        '',
        'Последний вердикт: проверка безопасности пройдена',
        '',
        '🔗 Ссылки: Задача',
      ]);
      const entities = visible()[0]?.entities ?? [];
      expect(entities.find((e) => e.type === 'text_link')?.url).toBe('https://plane.example.test/acme/issues/7');
    });

    it('takes a custom label map and extra links', async () => {
      const notifier = make({
        locale: { base: 'ru', stages: { review: '👀 Ревью' }, statuses: { active: 'пилим' } },
        links: (c) => [{ label: 'PR', url: `https://git.example.test/acme/web/pulls/${c.taskId}` }],
      });
      const c = card('42', 'Custom', 1, {
        stages: [
          { id: 'review', mark: 'current' },
          { id: 'done', mark: 'pending' },
        ],
      });
      expect((await notifier.upsertCard(c)).ok).toBe(true);
      const text = visible()[0]?.text ?? '';
      expect(text).toContain('▶️ 👀 Ревью');
      expect(text).toContain('⬜ 📦 Внедрено');
      expect(text).toContain('Статус: пилим');
      expect(visible()[0]?.entities.find((e) => e.type === 'text_link')?.url).toBe(
        'https://git.example.test/acme/web/pulls/42',
      );
    });

    for (const parseMode of ['HTML', 'MarkdownV2'] as const) {
      it(`a huge title and verdict are shortened to what Telegram accepts (${parseMode})`, async () => {
        const notifier = make({ parseMode });
        const title = `<&>*_\`[]()~#+-=|{}.!\\ ${'Ωmega😀 '.repeat(2000)}`;
        const verdict = `${'fail: a<b & c>d *x* _y_ '.repeat(500)}end`;
        expect((await notifier.upsertCard(card('T-1', title, 1, { lastVerdict: verdict }))).ok).toBe(true);
        const shown = visible()[0];
        expect(shown?.text.length).toBeLessThanOrEqual(4096);
        expect(shown?.text.startsWith('<&>*_`[]()~#+-=|{}.!\\ Ωmega😀')).toBe(true);
        expect(shown?.text).toContain('▶️ 🛠 Development');
        expect(shown?.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      });
    }

    it('never shows the bot token, even if a caller puts it in the card', async () => {
      const notifier = make();
      const c = card('T-1', `title ${TOKEN}`, 1, { lastVerdict: `leaked ${TOKEN.split(':')[1]} and ${TOKEN}` });
      expect((await notifier.upsertCard(c)).ok).toBe(true);
      const message = visible()[0];
      expect(message?.text).not.toContain(TOKEN);
      expect(message?.rawText).not.toContain(TOKEN);
      expect(message?.text).toContain('[redacted]');
    });
  });
});
