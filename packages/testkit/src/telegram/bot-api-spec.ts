import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedFixturesDir } from '../fixtures.js';

/** One parameter of a Bot API method (or one field of a type), as the machine-readable spec lists it. */
export interface BotApiField {
  readonly name: string;
  /** e.g. `['Integer', 'String']`, `['Array of MessageEntity']`, `['LinkPreviewOptions']` */
  readonly types: readonly string[];
  readonly required: boolean;
}

/** The subset of the Bot API spec the fake Telegram validates requests against. */
export interface BotApiSpec {
  /** e.g. `Bot API 10.1`, or `minimal` for the built-in fallback */
  readonly version: string;
  readonly methods: Readonly<Record<string, readonly BotApiField[]>>;
  readonly types: Readonly<Record<string, readonly BotApiField[]>>;
}

const f = (name: string, types: string[], required = false): BotApiField => ({ name, types, required });

/**
 * Our own minimal field list for the methods the fake serves, used when the
 * shared fixtures (with the real spec) are absent.
 */
export const MINIMAL_BOT_API_SPEC: BotApiSpec = Object.freeze({
  version: 'minimal',
  methods: {
    getMe: [],
    sendMessage: [
      f('chat_id', ['Integer', 'String'], true),
      f('message_thread_id', ['Integer']),
      f('text', ['String'], true),
      f('parse_mode', ['String']),
      f('entities', ['Array of MessageEntity']),
      f('link_preview_options', ['LinkPreviewOptions']),
      f('disable_notification', ['Boolean']),
      f('protect_content', ['Boolean']),
      f('reply_markup', ['InlineKeyboardMarkup', 'ReplyKeyboardMarkup', 'ReplyKeyboardRemove', 'ForceReply']),
    ],
    editMessageText: [
      f('chat_id', ['Integer', 'String']),
      f('message_id', ['Integer']),
      f('inline_message_id', ['String']),
      f('text', ['String']),
      f('parse_mode', ['String']),
      f('entities', ['Array of MessageEntity']),
      f('link_preview_options', ['LinkPreviewOptions']),
      f('reply_markup', ['InlineKeyboardMarkup']),
    ],
    deleteMessage: [f('chat_id', ['Integer', 'String'], true), f('message_id', ['Integer'], true)],
  },
  types: {
    LinkPreviewOptions: [
      f('is_disabled', ['Boolean']),
      f('url', ['String']),
      f('prefer_small_media', ['Boolean']),
      f('prefer_large_media', ['Boolean']),
      f('show_above_text', ['Boolean']),
    ],
  },
});

const cache = new Map<string, BotApiSpec>();

/**
 * The Bot API spec for request validation: the real one from the shared
 * fixtures (`telegram/bot-api-10.1.min.json`) when present, else
 * {@link MINIMAL_BOT_API_SPEC}.
 *
 * @example
 * ```ts
 * const spec = loadBotApiSpec();
 * spec.methods.sendMessage?.find((field) => field.name === 'text')?.required; // true
 * ```
 */
export function loadBotApiSpec(fixturesDir: string | undefined = sharedFixturesDir()): BotApiSpec {
  const file = fixturesDir === undefined ? undefined : join(fixturesDir, 'telegram', 'bot-api-10.1.min.json');
  if (file === undefined || !existsSync(file)) return MINIMAL_BOT_API_SPEC;
  const cached = cache.get(file);
  if (cached) return cached;
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as {
      version?: unknown;
      methods?: Record<string, { fields?: BotApiField[] }>;
      types?: Record<string, { fields?: BotApiField[] }>;
    };
    const methods: Record<string, readonly BotApiField[]> = {};
    for (const [name, method] of Object.entries(raw.methods ?? {})) methods[name] = method.fields ?? [];
    const types: Record<string, readonly BotApiField[]> = {};
    for (const [name, type] of Object.entries(raw.types ?? {})) if (type.fields) types[name] = type.fields;
    const spec: BotApiSpec = Object.freeze({
      version: typeof raw.version === 'string' ? raw.version : 'unknown',
      methods,
      types,
    });
    cache.set(file, spec);
    return spec;
  } catch {
    return MINIMAL_BOT_API_SPEC;
  }
}

/**
 * Checks request parameters against a method's fields: required ones present,
 * every value of a listed type (nested objects checked one level against the
 * spec's types), no unknown parameter. Returns the problem, or `undefined`.
 *
 * @example
 * ```ts
 * validateBotApiParams(loadBotApiSpec(), 'sendMessage', { chat_id: 1 }); // 'parameter "text" is required'
 * ```
 */
export function validateBotApiParams(
  spec: BotApiSpec,
  method: string,
  params: Readonly<Record<string, unknown>>,
  options: { readonly rejectUnknown?: boolean } = {},
): string | undefined {
  const fields = spec.methods[method];
  if (!fields) return undefined;
  for (const field of fields) {
    const value = params[field.name];
    if (value === undefined || value === null) {
      if (field.required) return `parameter "${field.name}" is required`;
      continue;
    }
    if (!field.types.some((type) => matchesType(spec, type, value, 0))) {
      return `parameter "${field.name}" must be ${field.types.join(' or ')}`;
    }
  }
  if (options.rejectUnknown ?? true) {
    for (const name of Object.keys(params)) {
      if (!fields.some((field) => field.name === name)) return `unknown parameter "${name}" for method ${method}`;
    }
  }
  return undefined;
}

function matchesType(spec: BotApiSpec, type: string, value: unknown, depth: number): boolean {
  if (type.startsWith('Array of ')) {
    const inner = type.slice('Array of '.length);
    return Array.isArray(value) && value.every((item) => matchesType(spec, inner, item, depth + 1));
  }
  switch (type) {
    case 'String':
      return typeof value === 'string';
    case 'Integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'Boolean':
    case 'True':
      return typeof value === 'boolean';
    case 'InputFile':
      return typeof value === 'string' || (typeof value === 'object' && value !== null);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const fields = spec.types[type];
  if (!fields || depth >= 2) return true;
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    const v = record[field.name];
    if (v === undefined || v === null) {
      if (field.required) return false;
      continue;
    }
    if (!field.types.some((t) => matchesType(spec, t, v, depth + 1))) return false;
  }
  return Object.keys(record).every((key) => fields.some((field) => field.name === key));
}
