import type * as z from 'zod';
import { ConveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';

const PKG = '@conveyor/core';

/** The default prefix of Conveyor environment variables. */
export const DEFAULT_ENV_PREFIX = 'ORCH_';

/** Options of {@link parseEnvSettings}. */
export interface EnvSettingsOptions {
  /** default `ORCH_` */
  readonly prefix?: string;
  /**
   * other variable names with the prefix that are known (e.g. those another
   * package reads), so they are not reported as unknown
   */
  readonly known?: readonly string[];
  /** report prefixed variables the schema does not know (default true) */
  readonly warnUnknown?: boolean;
}

/** Parsed settings and the warnings (unknown variables) found on the way. */
export interface ParsedEnvSettings<T> {
  readonly settings: T;
  readonly warnings: string[];
}

/** One setting, for docs and `.env.example`. */
export interface SettingDescription {
  /** the schema key, camelCase */
  readonly key: string;
  /** the environment variable */
  readonly env: string;
  /** the default, as it would be written in the environment; `undefined` when there is none */
  readonly default: string | undefined;
  readonly description: string;
  /** `boolean`, `number`, `string`, `list`, `map`, `enum` */
  readonly kind: SettingKind;
  /** required when there is no default and the value is not optional */
  readonly required: boolean;
}

/** How an environment string is coerced. */
export type SettingKind = 'boolean' | 'number' | 'string' | 'list' | 'map' | 'enum';

/**
 * The environment variable of a camelCase key: `securityGateEnabled` →
 * `ORCH_SECURITY_GATE_ENABLED`.
 *
 * @example
 * ```ts
 * envName('reaperMaxRunningSeconds'); // 'ORCH_REAPER_MAX_RUNNING_SECONDS'
 * ```
 */
export function envName(key: string, prefix = DEFAULT_ENV_PREFIX): string {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
  return `${prefix}${snake}`;
}

interface Introspected {
  readonly kind: SettingKind;
  /** for lists and maps: how each element / value is coerced */
  readonly element?: SettingKind;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly optional: boolean;
  readonly description: string | undefined;
}

interface ZodDefLike {
  readonly type: string;
  readonly innerType?: ZodLike;
  readonly in?: ZodLike;
  readonly element?: ZodLike;
  readonly valueType?: ZodLike;
  readonly defaultValue?: unknown;
}

interface ZodLike {
  readonly def: ZodDefLike;
  readonly description?: string | undefined;
}

function kindOf(type: string): SettingKind {
  switch (type) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'int':
    case 'bigint':
      return 'number';
    case 'array':
      return 'list';
    case 'record':
      return 'map';
    case 'enum':
    case 'literal':
      return 'enum';
    default:
      return 'string';
  }
}

function introspect(schema: ZodLike): Introspected {
  let current: ZodLike | undefined = schema;
  let hasDefault = false;
  let defaultValue: unknown;
  let optional = false;
  let description = schema.description;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    description ??= current.description;
    const def: ZodDefLike = current.def;
    if (def.type === 'default' || def.type === 'prefault') {
      if (!hasDefault) {
        hasDefault = true;
        defaultValue = def.defaultValue;
      }
      current = def.innerType;
    } else if (def.type === 'optional' || def.type === 'nullable') {
      optional = true;
      current = def.innerType;
    } else if (def.type === 'pipe') {
      current = def.in;
    } else {
      const kind = kindOf(def.type);
      const inner = kind === 'list' ? def.element : kind === 'map' ? def.valueType : undefined;
      const element = inner === undefined ? undefined : introspect(inner).kind;
      return {
        kind,
        ...(element === undefined ? {} : { element }),
        hasDefault,
        defaultValue,
        optional,
        description,
      };
    }
  }
  return { kind: 'string', hasDefault, defaultValue, optional, description };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

type Coerced = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly why: string };

function coerceScalar(kind: SettingKind, raw: string): Coerced {
  const text = raw.trim();
  if (kind === 'boolean') {
    const lower = text.toLowerCase();
    if (TRUE.has(lower)) return { ok: true, value: true };
    if (FALSE.has(lower)) return { ok: true, value: false };
    return { ok: false, why: `expected a boolean (true/false, 1/0, yes/no), got ${JSON.stringify(raw)}` };
  }
  if (kind === 'number') {
    const value = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) return { ok: false, why: `expected a number, got ${JSON.stringify(raw)}` };
    return { ok: true, value };
  }
  return { ok: true, value: text };
}

function coerce(info: Introspected, raw: string): Coerced {
  if (info.kind === 'list') {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const values: unknown[] = [];
    for (const item of items) {
      const one = coerceScalar(info.element ?? 'string', item);
      if (!one.ok) return { ok: false, why: `list item ${JSON.stringify(item)}: ${one.why}` };
      values.push(one.value);
    }
    return { ok: true, value: values };
  }
  if (info.kind === 'map') {
    const map: Record<string, unknown> = {};
    for (const entry of raw.split(',').map((s) => s.trim())) {
      if (entry === '') continue;
      const eq = entry.indexOf('=');
      if (eq <= 0)
        return { ok: false, why: `expected key=value pairs separated by commas, got ${JSON.stringify(entry)}` };
      const key = entry.slice(0, eq).trim();
      const one = coerceScalar(info.element ?? 'string', entry.slice(eq + 1));
      if (!one.ok) return { ok: false, why: `value of ${JSON.stringify(key)}: ${one.why}` };
      map[key] = one.value;
    }
    return { ok: true, value: map };
  }
  return coerceScalar(info.kind, raw);
}

function shapeOf(schema: z.ZodObject): Record<string, ZodLike> {
  return schema.shape as unknown as Record<string, ZodLike>;
}

/**
 * Reads settings from an environment object: each camelCase key of `schema`
 * comes from `PREFIX_SCREAMING_SNAKE` (`securityGateEnabled` ←
 * `ORCH_SECURITY_GATE_ENABLED`). Strings are coerced by the key's type:
 * booleans (`true/false`, `1/0`, `yes/no`, `on/off`), numbers, comma lists
 * (`a,b`), and `key=value` maps (`development=1800,deploy=600`). An empty
 * variable counts as unset. Then the schema validates (ranges, enums,
 * defaults).
 *
 * Every bad value is listed in ONE `invalid_config` error (variable, key and
 * why). Prefixed variables the schema does not know are returned as warnings.
 *
 * @example
 * ```ts
 * const SecuritySettings = z.object({ securityAuditTimeoutMs: z.number().int().positive().default(120_000) });
 * const parsed = parseEnvSettings(SecuritySettings, process.env, { known: describeSettings(coreSettingsSchema).map((s) => s.env) });
 * if (!parsed.ok) throw parsed.error;
 * for (const w of parsed.value.warnings) logger.warn(w);
 * ```
 */
export function parseEnvSettings<S extends z.ZodObject>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  options: EnvSettingsOptions = {},
): Result<ParsedEnvSettings<z.output<S>>, ConveyorError> {
  const prefix = options.prefix ?? DEFAULT_ENV_PREFIX;
  const shape = shapeOf(schema);
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  const envOf = new Map<string, string>();

  for (const [key, field] of Object.entries(shape)) {
    const name = envName(key, prefix);
    envOf.set(key, name);
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const coerced = coerce(introspect(field), raw);
    if (coerced.ok) input[key] = coerced.value;
    else problems.push(`${name} (${key}): ${coerced.why}`);
  }

  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const name = envOf.get(key);
      if (name !== undefined && problems.some((p) => p.startsWith(`${name} `))) continue;
      const where = issue.path.length > 1 ? ` at ${issue.path.slice(1).map(String).join('.')}` : '';
      const label = name === undefined ? '(settings)' : `${name} (${key})`;
      const unset = name !== undefined && input[key] === undefined;
      problems.push(`${label}${where}: ${unset ? 'required but not set' : issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    return err(
      new ConveyorError(PKG, 'invalid_config', `invalid settings: ${problems.join('; ')}`, { details: { problems } }),
    );
  }

  const warnings: string[] = [];
  if (options.warnUnknown !== false) {
    const known = new Set([...envOf.values(), ...(options.known ?? [])]);
    for (const name of Object.keys(env).sort()) {
      if (name.startsWith(prefix) && !known.has(name)) warnings.push(`unknown setting ${name} is ignored`);
    }
  }
  return ok({ settings: parsed.data as z.output<S>, warnings });
}

function renderDefault(info: Introspected): string | undefined {
  if (!info.hasDefault) return undefined;
  const value = info.defaultValue;
  if (Array.isArray(value)) return value.map(String).join(',');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
  }
  return value === undefined ? '' : String(value);
}

/**
 * Lists every setting of a schema: key, environment variable, default (as an
 * environment string) and description, for docs and `.env.example`.
 *
 * @example
 * ```ts
 * for (const s of describeSettings(coreSettingsSchema)) console.log(`${s.env}=${s.default ?? ''}  # ${s.description}`);
 * ```
 */
export function describeSettings(schema: z.ZodObject, prefix = DEFAULT_ENV_PREFIX): SettingDescription[] {
  return Object.entries(shapeOf(schema)).map(([key, field]) => {
    const info = introspect(field);
    return {
      key,
      env: envName(key, prefix),
      default: renderDefault(info),
      description: info.description ?? '',
      kind: info.kind,
      required: !info.hasDefault && !info.optional,
    };
  });
}

/**
 * Renders a schema's settings as `.env.example` text: a comment with the
 * description, then `NAME=default` (commented out when it is the default).
 *
 * @example
 * ```ts
 * fs.writeFileSync('.env.example', renderEnvExample(coreSettingsSchema));
 * ```
 */
export function renderEnvExample(schema: z.ZodObject, prefix = DEFAULT_ENV_PREFIX): string {
  return describeSettings(schema, prefix)
    .map((s) => {
      const head = `# ${s.description}${s.required ? ' (required)' : ''}`;
      const line = s.required ? `${s.env}=` : `# ${s.env}=${s.default ?? ''}`;
      return `${head}\n${line}\n`;
    })
    .join('\n');
}
