import type { Notifier, StageMark, TaskCard, TaskStatus } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../http/fake-server.js';

/** A card as a person sees it: its visible text. */
export interface VisibleCard {
  readonly text: string;
}

/** What {@link notifierConformance} needs from a notifier under test. */
export interface NotifierSubject {
  readonly notifier: Notifier;
  /** the cards a person sees now, in display order (every message of the channel) */
  visibleCards(): Promise<readonly VisibleCard[]> | readonly VisibleCard[];
  /**
   * Queues a transport fault on every path (HTTP notifiers: pass the fake
   * server's `inject`). Without it the fault cases are skipped. The subject
   * should wait nothing between retries (`sleep: async () => {}`) and retry at
   * most a few times, so the suite stays fast.
   */
  readonly inject?: (fault: Fault) => void;
  /** drops queued faults */
  readonly clearFaults?: () => void;
  close(): Promise<void>;
}

/** Builds a fresh subject (an empty channel and an empty card store) for each case. */
export type NotifierSubjectFactory = () => Promise<NotifierSubject>;

const STAGES = ['analysis', 'development', 'deploy-staging', 'deploy', 'done'] as const;

function makeCard(taskId: string, title: string, current: number, extra: Partial<TaskCard> = {}): TaskCard {
  const stages = STAGES.map((id, index) => {
    const mark: StageMark = index < current ? 'done' : index === current ? 'current' : 'pending';
    return { id, mark };
  });
  const status: TaskStatus = current >= STAGES.length - 1 ? 'done' : 'active';
  return { taskId, title, status, stages, links: [], updatedAt: 1_700_000_000_000 + current, ...extra };
}

/**
 * The contract every `Notifier` must keep, as a vitest suite: the first upsert
 * shows exactly one card, later upserts update it, there is one visible card
 * per task at any time (also under racing upserts), `removeCard` deletes it
 * (idempotently), any title shows literally, a secret-looking verdict never
 * shows, and — when the subject can inject transport faults — 429s, 5xx bursts
 * and dropped connections are survived, while a persistent failure resolves to
 * an error (never a throw) and leaves one card once the fault clears.
 *
 * @example
 * ```ts
 * notifierConformance('telegram (edit)', async () => {
 *   const tg = await startFakeTelegram();
 *   const notifier = createTelegramNotifier({ botToken: tg.token, chatId: 1, cards: createMemoryStore(), mode: 'edit', baseUrl: tg.url, sleep: async () => {} });
 *   return { notifier, visibleCards: () => tg.visibleMessages(1), inject: tg.inject, clearFaults: () => tg.server.reset(), close: tg.close };
 * });
 * ```
 */
export function notifierConformance(name: string, makeSubject: NotifierSubjectFactory): void {
  describe(`notifier conformance: ${name}`, () => {
    let subject: NotifierSubject;
    beforeEach(async () => {
      subject = await makeSubject();
    });
    afterEach(async () => {
      await subject.close();
    });

    const cardsWith = async (needle: string) =>
      (await subject.visibleCards()).filter((card) => card.text.includes(needle));

    it('the first upsert shows exactly one card with the title', async () => {
      const res = await subject.notifier.upsertCard(makeCard('task-1', 'Add the login page', 0));
      expect(res.ok).toBe(true);
      const cards = await subject.visibleCards();
      expect(cards).toHaveLength(1);
      expect(cards[0]?.text).toContain('Add the login page');
    });

    it('later upserts update the same card', async () => {
      expect((await subject.notifier.upsertCard(makeCard('task-1', 'Checkout flow', 0))).ok).toBe(true);
      const update = makeCard('task-1', 'Checkout flow', 2, {
        status: 'gating',
        lastVerdict: 'security gate passed: 0 findings',
        links: [{ label: 'PR 12', url: 'https://git.example.test/acme/web/pulls/12' }],
      });
      expect((await subject.notifier.upsertCard(update)).ok).toBe(true);
      const cards = await subject.visibleCards();
      expect(cards).toHaveLength(1);
      expect(cards[0]?.text).toContain('Checkout flow');
      expect(cards[0]?.text).toContain('security gate passed: 0 findings');
      expect(cards[0]?.text).toContain('PR 12');
    });

    it('an identical upsert succeeds and still shows one card', async () => {
      const card = makeCard('task-1', 'Same again', 1);
      expect((await subject.notifier.upsertCard(card)).ok).toBe(true);
      const before = (await subject.visibleCards()).map((c) => c.text);
      expect((await subject.notifier.upsertCard(card)).ok).toBe(true);
      const after = (await subject.visibleCards()).map((c) => c.text);
      expect(after).toEqual(before);
    });

    it('keeps one card per task across interleaved updates of several tasks', async () => {
      for (let step = 0; step < 3; step += 1) {
        for (const id of ['a', 'b', 'c']) {
          const res = await subject.notifier.upsertCard(makeCard(`task-${id}`, `Task ${id.toUpperCase()} title`, step));
          expect(res.ok).toBe(true);
        }
      }
      expect(await subject.visibleCards()).toHaveLength(3);
      for (const id of ['A', 'B', 'C']) expect(await cardsWith(`Task ${id} title`)).toHaveLength(1);
    });

    it('racing upserts of one task leave one card showing one of the updates', async () => {
      const verdicts = ['verdict one', 'verdict two', 'verdict three', 'verdict four'];
      const results = await Promise.all(
        verdicts.map((v, i) => subject.notifier.upsertCard(makeCard('task-r', 'Racing task', i, { lastVerdict: v }))),
      );
      for (const res of results) expect(res.ok).toBe(true);
      const cards = await subject.visibleCards();
      expect(cards).toHaveLength(1);
      expect(verdicts.some((v) => cards[0]?.text.includes(v))).toBe(true);
    });

    it('removeCard deletes the card, and is idempotent', async () => {
      expect((await subject.notifier.upsertCard(makeCard('task-1', 'Short lived', 0))).ok).toBe(true);
      expect((await subject.notifier.upsertCard(makeCard('task-2', 'Long lived', 0))).ok).toBe(true);
      expect((await subject.notifier.removeCard('task-1')).ok).toBe(true);
      expect(await cardsWith('Short lived')).toHaveLength(0);
      expect(await cardsWith('Long lived')).toHaveLength(1);
      expect((await subject.notifier.removeCard('task-1')).ok).toBe(true);
      expect((await subject.notifier.removeCard('never-seen')).ok).toBe(true);
      expect(await subject.visibleCards()).toHaveLength(1);
    });

    it('an upsert after removeCard shows a new card', async () => {
      expect((await subject.notifier.upsertCard(makeCard('task-1', 'Phoenix', 0))).ok).toBe(true);
      expect((await subject.notifier.removeCard('task-1')).ok).toBe(true);
      expect((await subject.notifier.upsertCard(makeCard('task-1', 'Phoenix', 1))).ok).toBe(true);
      expect(await cardsWith('Phoenix')).toHaveLength(1);
      expect(await subject.visibleCards()).toHaveLength(1);
    });

    it('shows a title full of markup characters literally', async () => {
      const title = '<b>*bold*</b> _x_ [link](http://a.b) `code` & 1.5! #tag ~s~ ||sp|| \\ {a}';
      expect((await subject.notifier.upsertCard(makeCard('task-m', title, 0))).ok).toBe(true);
      expect(await cardsWith(title)).toHaveLength(1);
    });

    it('never shows a secret-looking string from the verdict', async () => {
      const secret = ['ghp', '_', 'R2d2C3po', 'Xy9Zq8Wv7Ut6Sr5Qp4On3Ml2Kj1Ih'].join('');
      const res = await subject.notifier.upsertCard(
        makeCard('task-s', 'Leaky verdict', 2, { lastVerdict: `push failed with ${secret}` }),
      );
      expect(res.ok).toBe(true);
      const cards = await cardsWith('Leaky verdict');
      expect(cards).toHaveLength(1);
      expect(cards[0]?.text).not.toContain(secret);
      expect(cards[0]?.text).not.toContain(secret.slice(4, 20));
    });

    it('a very long title and verdict still make one card', async () => {
      const title = `Long ${'title '.repeat(1500)}`;
      const res = await subject.notifier.upsertCard(
        makeCard('task-l', title, 1, { lastVerdict: 'finding '.repeat(2000) }),
      );
      expect(res.ok).toBe(true);
      const cards = await subject.visibleCards();
      expect(cards).toHaveLength(1);
      expect(cards[0]?.text.startsWith('Long title')).toBe(true);
    });

    describe('under injected faults', () => {
      it('retries a 429 after retry_after', async (ctx) => {
        if (!subject.inject) return ctx.skip();
        subject.inject({ kind: 'rate-limit', retryAfterSeconds: 1, style: 'telegram', times: 1 });
        expect((await subject.notifier.upsertCard(makeCard('task-1', 'Rate limited', 0))).ok).toBe(true);
        subject.inject({ kind: 'rate-limit', retryAfterSeconds: 1, style: 'header', times: 1 });
        expect((await subject.notifier.upsertCard(makeCard('task-1', 'Rate limited', 1))).ok).toBe(true);
        expect(await subject.visibleCards()).toHaveLength(1);
      });

      it('survives a 5xx burst and a dropped connection', async (ctx) => {
        if (!subject.inject) return ctx.skip();
        subject.inject({ kind: 'status', status: 502, times: 2 });
        expect((await subject.notifier.upsertCard(makeCard('task-1', 'Flaky network', 0))).ok).toBe(true);
        subject.inject({ kind: 'drop', times: 1 });
        expect((await subject.notifier.upsertCard(makeCard('task-1', 'Flaky network', 1))).ok).toBe(true);
        const cards = await subject.visibleCards();
        expect(cards).toHaveLength(1);
        expect(cards[0]?.text).toContain('Flaky network');
      });

      it('a persistent failure resolves to an error, and recovery leaves one up-to-date card', async (ctx) => {
        if (!subject.inject) return ctx.skip();
        expect((await subject.notifier.upsertCard(makeCard('task-1', 'Outage', 0))).ok).toBe(true);
        subject.inject({ kind: 'status', status: 503, times: 1000 });
        const failed = await subject.notifier.upsertCard(makeCard('task-1', 'Outage', 1, { lastVerdict: 'during' }));
        expect(failed.ok).toBe(false);
        const failedRemove = await subject.notifier.removeCard('task-1');
        expect(failedRemove.ok).toBe(false);
        subject.clearFaults?.();
        const recovered = await subject.notifier.upsertCard(makeCard('task-1', 'Outage', 2, { lastVerdict: 'after' }));
        expect(recovered.ok).toBe(true);
        const cards = await cardsWith('Outage');
        expect(cards).toHaveLength(1);
        expect(cards[0]?.text).toContain('after');
        expect(await subject.visibleCards()).toHaveLength(1);
      });
    });
  });
}
