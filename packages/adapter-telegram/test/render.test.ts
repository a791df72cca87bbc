import {
  cutUtf16,
  escapeHtml,
  escapeMarkdownV2,
  escapeMarkdownV2Url,
  RU_CARD_LABELS,
  redactSecrets,
  renderTaskCard,
  resolveCardLabels,
  sanitizeText,
} from '@conveyor/adapter-telegram';
import type { StageMark, TaskCard, TaskStatus } from '@conveyor/core';
import { parseTelegramText } from '@conveyor/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SPECIALS = ['_', '*', '[', ']', '(', ')', '~', '`', '>', '#', '+', '-', '=', '|', '{', '}', '.', '!', '\\'];
const HTML_SPECIALS = ['<', '>', '&', '"', "'", '&amp;', '&lt;', '&#60;', '&#x3C;', '<b>', '</i>', '&quot'];

/** Any string, weighted towards the characters that break markup. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...SPECIALS, ...HTML_SPECIALS, 'a', ' ', '\n', '😀', 'Ж'), maxLength: 80 }),
);

function noUnescapedMarkdownV2(escaped: string): boolean {
  for (let i = 0; i < escaped.length; i += 1) {
    const ch = escaped[i] ?? '';
    if (ch === '\\') {
      i += 1;
      continue;
    }
    if (SPECIALS.includes(ch)) return false;
  }
  return true;
}

describe('escaping (property)', () => {
  it('any string escaped for HTML shows literally, with no bare markup left', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const escaped = escapeHtml(s);
        const parsed = parseTelegramText(escaped, 'HTML');
        expect(parsed).toEqual({ ok: true, text: s, entities: [] });
        expect(escaped).not.toMatch(/[<>]/);
        expect(escaped.replace(/&(amp|lt|gt|quot);/g, '')).not.toContain('&');
      }),
      { numRuns: 3000 },
    );
  });

  it('any string escaped for MarkdownV2 shows literally, with every reserved character escaped', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const escaped = escapeMarkdownV2(s);
        const parsed = parseTelegramText(escaped, 'MarkdownV2');
        expect(parsed).toEqual({ ok: true, text: s, entities: [] });
        expect(noUnescapedMarkdownV2(escaped)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('URLs escaped for a MarkdownV2 link come back unchanged', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), hostile, (url, label) => {
        const tricky = `${url}(x)\\y`;
        const parsed = parseTelegramText(`[${escapeMarkdownV2(label)}](${escapeMarkdownV2Url(tricky)})`, 'MarkdownV2');
        expect(parsed.ok).toBe(true);
        if (parsed.ok && label.length > 0) expect(parsed.entities[0]?.url).toBe(tricky);
      }),
      { numRuns: 500 },
    );
  });

  it('sanitizeText leaves no lone surrogate or control character and keeps ordinary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const clean = sanitizeText(s);
        expect(clean.length).toBe(s.length);
        expect(clean).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
        for (const ch of clean) expect(ch === '\n' || ch === '\t' || ch.charCodeAt(0) >= 0x20).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(sanitizeText('Добавить вход 😀\nok')).toBe('Добавить вход 😀\nok');
  });

  it('cutUtf16 never splits a surrogate pair', () => {
    expect(cutUtf16('ab😀', 3)).toBe('ab');
    expect(cutUtf16('ab😀', 4)).toBe('ab😀');
    expect(cutUtf16('abc', 0)).toBe('');
  });
});

const marks: StageMark[] = ['done', 'current', 'failed', 'pending'];
const statuses: TaskStatus[] = ['active', 'awaiting_approval', 'gating', 'failed', 'rejected', 'done'];

const cardArb: fc.Arbitrary<TaskCard> = fc.record({
  taskId: fc.oneof(fc.constantFrom('T-1', 'PLN-42'), hostile),
  title: fc.oneof(hostile, fc.string({ unit: fc.constantFrom('&', '<', '*', 'x', '😀', '\\', '.'), maxLength: 6000 })),
  status: fc.constantFrom(...statuses),
  stages: fc.array(
    fc.record({
      id: fc.oneof(fc.constantFrom('analysis', 'development', 'deploy-staging', 'deploy', 'done'), hostile),
      mark: fc.constantFrom(...marks),
    }),
    { maxLength: 8 },
  ),
  lastVerdict: fc.option(
    fc.oneof(hostile, fc.string({ unit: fc.constantFrom('&', '>', '_', 'y', '\n', 'Ж'), maxLength: 8000 })),
    { nil: undefined },
  ),
  links: fc.array(
    fc.record({ label: hostile, url: fc.oneof(fc.webUrl(), hostile, fc.constant('javascript:alert(1)')) }),
    { maxLength: 4 },
  ),
  updatedAt: fc.nat(),
}) as fc.Arbitrary<TaskCard>;

describe('renderTaskCard (property)', () => {
  it('any card renders to text Telegram accepts, within 4096 visible characters, the same in both parse modes', () => {
    fc.assert(
      fc.property(cardArb, fc.constantFrom('en' as const, 'ru' as const), (card, locale) => {
        const html = parseTelegramText(renderTaskCard(card, { locale, parseMode: 'HTML' }), 'HTML');
        const md = parseTelegramText(renderTaskCard(card, { locale, parseMode: 'MarkdownV2' }), 'MarkdownV2');
        expect(html.ok).toBe(true);
        expect(md.ok).toBe(true);
        if (!html.ok || !md.ok) return;
        expect(html.text.length).toBeLessThanOrEqual(4096);
        expect(md.text).toBe(html.text);
        expect(md.entities).toEqual(html.entities);
        expect(html.text.trim().length).toBeGreaterThan(0);
        for (const entity of html.entities) {
          if (entity.type === 'text_link') expect(entity.url).toMatch(/^https?:\/\//);
        }
        const title = sanitizeText(card.title).replace(/\s+/g, ' ').trim();
        if (title.length > 0 && title.length < 400 && redactSecrets(title) === title) {
          expect(html.text.split('\n')[0]).toBe(title);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('renderTaskCard', () => {
  const base: TaskCard = {
    taskId: 'T-1',
    title: 'Add login',
    status: 'gating',
    stages: [
      { id: 'analysis', mark: 'done' },
      { id: 'development', mark: 'done' },
      { id: 'deploy-staging', mark: 'failed' },
      { id: 'deploy', mark: 'pending' },
      { id: 'done', mark: 'pending' },
    ],
    lastVerdict: 'security: 1 finding (rule aws-key, src/a.ts:3, fp 1a2b…)',
    links: [
      { label: 'PR 12', url: 'https://git.example.test/acme/web/pulls/12' },
      { label: 'creds', url: 'https://user:pass@git.example.test/x' },
    ],
    updatedAt: 0,
  };

  it('prints a plain card for a terminal, with a mark per stage and link URLs', () => {
    expect(renderTaskCard(base, { parseMode: 'plain' }).split('\n')).toEqual([
      'Add login',
      'T-1 · Status: checks running',
      '',
      '✅ 📋 BRD approval',
      '✅ 🛠 Development',
      '❌ 🧪 Staging deploy',
      '⬜ 🚀 Production deploy',
      '⬜ 📦 Delivered',
      '',
      'Last verdict: security: 1 finding (rule aws-key, src/a.ts:3, fp 1a2b…)',
      '',
      '🔗 Links: PR 12 <https://git.example.test/acme/web/pulls/12> · creds',
    ]);
  });

  it('marks up HTML with escaped text and real links only for safe URLs', () => {
    const html = renderTaskCard({ ...base, title: 'a<b>&c' });
    expect(html.split('\n')[0]).toBe('<b>a&lt;b&gt;&amp;c</b>');
    expect(html).toContain('<a href="https://git.example.test/acme/web/pulls/12">PR 12</a>');
    expect(html).not.toContain('user:pass');
  });

  it('shortens a huge card between entities and says so', () => {
    const card = { ...base, title: '&'.repeat(3000), lastVerdict: '<'.repeat(9000) };
    for (const parseMode of ['HTML', 'MarkdownV2'] as const) {
      const parsed = parseTelegramText(renderTaskCard(card, { parseMode, locale: 'ru' }), parseMode);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        expect(parsed.text.length).toBeLessThanOrEqual(4096);
        expect(parsed.text.length).toBeGreaterThan(2000);
      }
    }
    const many = {
      ...base,
      stages: Array.from({ length: 400 }, (_, i) => ({ id: `stage-${i}`, mark: 'pending' as const })),
    };
    const plain = renderTaskCard(many, { parseMode: 'plain' });
    expect(plain.length).toBeLessThanOrEqual(4096);
    expect(plain.endsWith('… (shortened)')).toBe(true);
  });

  it('ships Russian labels and takes custom ones', () => {
    expect(RU_CARD_LABELS.stages.analysis).toContain('Подтверждение BRD');
    expect(RU_CARD_LABELS.stages.done).toBe('📦 Внедрено');
    const labels = resolveCardLabels({ base: 'ru', marks: { current: '🔄' }, stages: { qa: '🔍 Проверка' } });
    expect(labels.marks.current).toBe('🔄');
    expect(labels.marks.done).toBe('✅');
    expect(labels.stages.qa).toBe('🔍 Проверка');
    expect(labels.stages.development).toBe('🛠 Разработка');
    const text = renderTaskCard(
      { ...base, stages: [{ id: 'qa', mark: 'current' }] },
      { parseMode: 'plain', locale: { base: 'ru', stages: { qa: '🔍 Проверка' } } },
    );
    expect(text).toContain('▶️ 🔍 Проверка');
    expect(text).toContain('Статус: идут проверки');
  });
});

describe('redactSecrets', () => {
  // fake credentials, under test/ only
  const samples = [
    '123456789:AAH9xYz_abcdefghijklmnopqrstuvwxyz01',
    'ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
    'glpat-abcdefghij0123456789',
    'xoxb-1234567890-abcdefghij',
    'AKIAIOSFODNN7EXAMPLE',
    'sk-proj-abcdefghij0123456789ABCD',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'Zx8Kq2Lm9Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh2Ij',
  ];
  it('hides every token shape', () => {
    for (const sample of samples) {
      const out = redactSecrets(`found ${sample} in src/a.ts`);
      expect(out).not.toContain(sample);
      expect(out).toContain('[redacted]');
      expect(out.startsWith('found ')).toBe(true);
    }
  });
  it('hides URL passwords, assignments, private keys and exact extras, and keeps ordinary text', () => {
    expect(redactSecrets('clone https://bot:s3cretPass@git.local/x')).toBe('clone https://[redacted]@git.local/x');
    expect(redactSecrets('password=hunter22abc')).toBe('password=[redacted]');
    expect(redactSecrets('-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- ok')).toBe(
      '[redacted] ok',
    );
    expect(redactSecrets('the word swordfish', ['swordfish'])).toBe('the word [redacted]');
    const ordinary =
      'merge gate: rebased onto 3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f001, 412 tests passed, token expired';
    expect(redactSecrets(ordinary)).toBe(ordinary);
  });
});
