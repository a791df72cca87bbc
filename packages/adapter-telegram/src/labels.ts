import type { StageMark, TaskStatus } from '@conveyor/core';

/** Every word the card shows. */
export interface CardLabels {
  /** stage id → label; an unknown stage shows its id */
  readonly stages: Readonly<Record<string, string>>;
  readonly statuses: Readonly<Record<TaskStatus, string>>;
  /** the mark before each stage */
  readonly marks: Readonly<Record<StageMark, string>>;
  /** heading of the status line */
  readonly status: string;
  /** heading of the last verdict */
  readonly lastVerdict: string;
  /** heading of the links line */
  readonly links: string;
  /** appended where the card was shortened to fit Telegram's limit */
  readonly truncated: string;
}

/** The shipped label sets. */
export type CardLocale = 'en' | 'ru';

/** A custom label map: any subset, laid over a shipped set (`base`, default `en`). */
export interface CustomCardLabels {
  readonly base?: CardLocale;
  readonly stages?: Readonly<Record<string, string>>;
  readonly statuses?: Partial<Readonly<Record<TaskStatus, string>>>;
  readonly marks?: Partial<Readonly<Record<StageMark, string>>>;
  readonly status?: string;
  readonly lastVerdict?: string;
  readonly links?: string;
  readonly truncated?: string;
}

const MARKS: Readonly<Record<StageMark, string>> = { done: '✅', current: '▶️', failed: '❌', pending: '⬜' };

/** English labels for the default stages. */
export const EN_CARD_LABELS: CardLabels = Object.freeze({
  stages: Object.freeze({
    analysis: '📋 BRD approval',
    development: '🛠 Development',
    'deploy-staging': '🧪 Staging deploy',
    deploy: '🚀 Production deploy',
    done: '📦 Delivered',
  }),
  statuses: Object.freeze({
    active: 'in progress',
    awaiting_approval: 'awaiting approval',
    gating: 'checks running',
    blocked: 'blocked (needs a person)',
    failed: 'stopped (failed)',
    rejected: 'rejected',
    done: 'delivered',
  }),
  marks: MARKS,
  status: 'Status',
  lastVerdict: 'Last verdict',
  links: 'Links',
  truncated: '… (shortened)',
});

/** Russian labels for the default stages, in the words of the first users. */
export const RU_CARD_LABELS: CardLabels = Object.freeze({
  stages: Object.freeze({
    analysis: '📋 Подтверждение BRD',
    development: '🛠 Разработка',
    'deploy-staging': '🧪 Выкладка на стенд',
    deploy: '🚀 Выкладка в прод',
    done: '📦 Внедрено',
  }),
  statuses: Object.freeze({
    active: 'в работе',
    awaiting_approval: 'ждёт подтверждения',
    gating: 'идут проверки',
    blocked: 'заблокирована (нужен человек)',
    failed: 'остановлена (ошибка)',
    rejected: 'отклонена',
    done: 'внедрено',
  }),
  marks: MARKS,
  status: 'Статус',
  lastVerdict: 'Последний вердикт',
  links: 'Ссылки',
  truncated: '… (сокращено)',
});

/**
 * The labels for a locale or a custom map laid over a shipped set.
 *
 * @example
 * ```ts
 * resolveCardLabels({ base: 'ru', stages: { review: '👀 Ревью' } }).stages.done; // '📦 Внедрено'
 * ```
 */
export function resolveCardLabels(locale: CardLocale | CustomCardLabels = 'en'): CardLabels {
  if (locale === 'en') return EN_CARD_LABELS;
  if (locale === 'ru') return RU_CARD_LABELS;
  const base = locale.base === 'ru' ? RU_CARD_LABELS : EN_CARD_LABELS;
  return Object.freeze({
    stages: Object.freeze({ ...base.stages, ...(locale.stages ?? {}) }),
    statuses: Object.freeze({ ...base.statuses, ...definedOnly(locale.statuses ?? {}) }),
    marks: Object.freeze({ ...base.marks, ...definedOnly(locale.marks ?? {}) }),
    status: locale.status ?? base.status,
    lastVerdict: locale.lastVerdict ?? base.lastVerdict,
    links: locale.links ?? base.links,
    truncated: locale.truncated ?? base.truncated,
  });
}

function definedOnly<K extends string>(record: Partial<Readonly<Record<K, string>>>): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(record) as [K, string | undefined][]) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}
