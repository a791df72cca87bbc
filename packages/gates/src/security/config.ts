import { readFile } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import { parse as parseToml } from 'smol-toml';
import * as z from 'zod';
import { DEFAULT_SECRETS_CONFIG } from './default-rules.js';
import { compileSecretRegex, deferredBuiltInRegex } from './regex.js';
import type { SecretAllowlist, SecretRegex, SecretRule, SecretRuleRequirement, SecretsConfig } from './types.js';

const PKG = '@conveyor/gates';

/** The zod schema of one `[[allowlists]]` table of a gitleaks v8 config, as written. */
export const rawAllowlistSchema = z
  .object({
    description: z.string().optional(),
    condition: z.enum(['OR', 'AND', 'or', 'and']).optional(),
    commits: z.array(z.string()).optional(),
    paths: z.array(z.string()).optional(),
    regexes: z.array(z.string()).optional(),
    regexTarget: z.enum(['secret', 'match', 'line']).optional(),
    stopwords: z.array(z.string()).optional(),
    targetRules: z.array(z.string()).optional(),
  })
  .loose();

/** The zod schema of one `[[rules.required]]` table (a component of a composite rule), as written. */
export const rawRuleRequirementSchema = z
  .object({
    id: z.string(),
    withinLines: z.number().int().min(0).optional(),
    withinColumns: z.number().int().min(0).optional(),
  })
  .loose();

/** The zod schema of one `[[rules]]` table of a gitleaks v8 config, as written. */
export const rawRuleSchema = z
  .object({
    id: z.string().min(1),
    description: z.string().optional(),
    regex: z.string().optional(),
    secretGroup: z.number().int().min(0).optional(),
    entropy: z.number().min(0).optional(),
    keywords: z.array(z.string()).optional(),
    path: z.string().optional(),
    tags: z.array(z.string()).optional(),
    allowlists: z.array(rawAllowlistSchema).optional(),
    /** legacy single rule allowlist */
    allowlist: rawAllowlistSchema.optional(),
    /** a composite rule: the rules that must match near each finding */
    required: z.array(rawRuleRequirementSchema).optional(),
    /** only a component of composite rules, never reported itself */
    skipReport: z.boolean().optional(),
  })
  .loose();

/** The zod schema of a whole gitleaks v8 config (`.gitleaks.toml`), as written. */
export const rawConfigSchema = z
  .object({
    title: z.string().optional(),
    extend: z
      .object({
        useDefault: z.boolean().optional(),
        path: z.string().optional(),
        disabledRules: z.array(z.string()).optional(),
      })
      .loose()
      .optional(),
    rules: z.array(rawRuleSchema).optional(),
    allowlists: z.array(rawAllowlistSchema).optional(),
    /** legacy single global allowlist */
    allowlist: rawAllowlistSchema.optional(),
  })
  .loose();

/** A gitleaks v8 allowlist as written in TOML. */
export type RawSecretAllowlist = z.input<typeof rawAllowlistSchema>;
/** A gitleaks v8 rule as written in TOML. */
export type RawSecretRule = z.input<typeof rawRuleSchema>;
/** A gitleaks v8 configuration file as written in TOML. */
export type RawSecretsConfig = z.input<typeof rawConfigSchema>;

function invalid(where: string, message: string, file?: string): ConveyorError {
  const prefix = file ? `${file}: ` : '';
  return new ConveyorError(PKG, 'invalid_config', `${prefix}${where}: ${message}`, {
    details: { where, ...(file ? { file } : {}) },
  });
}

function ruleLabel(rules: readonly RawSecretRule[] | undefined, index: number): string {
  const id = rules?.[index]?.id;
  return typeof id === 'string' && id !== '' ? `rule ${index} (id '${id}')` : `rule ${index}`;
}

function describeIssuePath(raw: RawSecretsConfig, path: readonly PropertyKey[]): string {
  const [head, index, ...rest] = path;
  if (head === 'rules' && typeof index === 'number') {
    const field = rest.map(String).join('.');
    return `${ruleLabel(raw.rules, index)}${field ? `, field '${field}'` : ''}`;
  }
  if (head === 'allowlists' && typeof index === 'number') {
    const field = rest.map(String).join('.');
    return `global allowlist ${index}${field ? `, field '${field}'` : ''}`;
  }
  return `field '${path.map(String).join('.')}'`;
}

/** `error parsing regexp: missing closing ): \`…\`` → `missing closing )`. */
function regexErrorKind(message: string): string {
  const m = /^error parsing regexp: ([^`:]*)/.exec(message);
  return (m?.[1] ?? 'syntax error').trim();
}

/** The regex sources of the built-in rules: reviewed for linear time, so they may run natively. */
const BUILT_IN_REGEXES = new Set(
  (DEFAULT_SECRETS_CONFIG.rules ?? []).flatMap((r) => (r.regex === undefined ? [] : [r.regex])),
);

/**
 * The built-in configuration's allowlist and path patterns (its rules' own
 * patterns are written for V8, see `regex.ts`): valid RE2, checked by the
 * tests, so re2js compiles one only if it ever runs there instead of at every
 * start.
 */
const BUILT_IN_PATTERNS = new Set<string>([
  ...[
    ...(DEFAULT_SECRETS_CONFIG.allowlists ?? []),
    ...(DEFAULT_SECRETS_CONFIG.rules ?? []).flatMap((r) => r.allowlists ?? []),
  ].flatMap((a) => [...(a.regexes ?? []), ...(a.paths ?? [])]),
  ...(DEFAULT_SECRETS_CONFIG.rules ?? []).flatMap((r) => (r.path === undefined ? [] : [r.path])),
]);

function compileRegexField(source: string, where: string, file?: string): Result<SecretRegex, ConveyorError> {
  const options = { trustedBuiltIn: BUILT_IN_REGEXES.has(source), knownValid: BUILT_IN_PATTERNS.has(source) };
  // a built-in pattern is known to compile: it is compiled when it first runs
  if (options.trustedBuiltIn || options.knownValid) return ok(deferredBuiltInRegex(source, options));
  const re = compileSecretRegex(source, options);
  // the parser's message quotes the pattern: keep only its kind, never the file's text
  return typeof re === 'string' ? err(invalid(where, `not a valid RE2 regex (${regexErrorKind(re)})`, file)) : ok(re);
}

function compileAllowlist(
  raw: RawSecretAllowlist,
  where: string,
  file?: string,
): Result<SecretAllowlist, ConveyorError> {
  const paths: SecretRegex[] = [];
  for (const [i, p] of (raw.paths ?? []).entries()) {
    const re = compileRegexField(p, `${where}, field 'paths[${i}]'`, file);
    if (!re.ok) return err(re.error);
    paths.push(re.value);
  }
  const regexes: SecretRegex[] = [];
  for (const [i, p] of (raw.regexes ?? []).entries()) {
    const re = compileRegexField(p, `${where}, field 'regexes[${i}]'`, file);
    if (!re.ok) return err(re.error);
    regexes.push(re.value);
  }
  const commits = raw.commits ?? [];
  const stopwords = (raw.stopwords ?? []).map((s) => s.toLowerCase());
  if (commits.length + paths.length + regexes.length + stopwords.length === 0) {
    return err(invalid(where, 'an allowlist needs at least one of commits, paths, regexes or stopwords', file));
  }
  return ok(
    Object.freeze({
      ...(raw.description === undefined ? {} : { description: raw.description }),
      condition: raw.condition?.toUpperCase() === 'AND' ? 'AND' : 'OR',
      commits,
      paths,
      regexes,
      regexTarget: raw.regexTarget ?? 'secret',
      stopwords,
      targetRules: raw.targetRules ?? [],
    } satisfies SecretAllowlist),
  );
}

/**
 * The number of capture groups of an RE2 pattern: `(` not escaped, not in a
 * character class, and not `(?` unless a named group (`(?P<n>`, `(?<n>`).
 */
export function countCaptureGroups(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (source[i + 1] === '^') i += 1;
      if (source[i + 1] === ']') i += 1; // a leading ']' is a literal
      continue;
    }
    if (c !== '(') continue;
    if (source[i + 1] !== '?') n += 1;
    else if (source.startsWith('(?P<', i) || (source.startsWith('(?<', i) && !/^\(\?<[=!]/.test(source.slice(i))))
      n += 1;
  }
  return n;
}

function compileRule(raw: RawSecretRule, index: number, file?: string): Result<SecretRule, ConveyorError> {
  const label = `rule ${index} (id '${raw.id}')`;
  if (raw.allowlist !== undefined && (raw.allowlists ?? []).length > 0) {
    return err(invalid(label, 'the old [rules.allowlist] cannot be used together with [[rules.allowlists]]', file));
  }
  if (raw.regex !== undefined && raw.secretGroup !== undefined) {
    const groups = countCaptureGroups(raw.regex);
    if (raw.secretGroup > groups) {
      return err(
        invalid(label, `field 'secretGroup': ${raw.secretGroup} is beyond the regex's ${groups} group(s)`, file),
      );
    }
  }
  if (raw.regex === undefined && raw.path === undefined) {
    return err(invalid(label, "field 'regex': a rule needs a regex or a path", file));
  }
  let regex: SecretRegex | undefined;
  if (raw.regex !== undefined) {
    const re = compileRegexField(raw.regex, `${label}, field 'regex'`, file);
    if (!re.ok) return err(re.error);
    regex = re.value;
  }
  let path: SecretRegex | undefined;
  if (raw.path !== undefined) {
    const re = compileRegexField(raw.path, `${label}, field 'path'`, file);
    if (!re.ok) return err(re.error);
    path = re.value;
  }
  const required: SecretRuleRequirement[] = [];
  for (const [i, q] of (raw.required ?? []).entries()) {
    if (q.id === '') return err(invalid(label, `field 'required[${i}].id': the required rule id is empty`, file));
    required.push(
      Object.freeze({
        id: q.id,
        ...(q.withinLines === undefined ? {} : { withinLines: q.withinLines }),
        ...(q.withinColumns === undefined ? {} : { withinColumns: q.withinColumns }),
      }),
    );
  }
  const rawLists = [...(raw.allowlists ?? []), ...(raw.allowlist ? [raw.allowlist] : [])];
  const allowlists: SecretAllowlist[] = [];
  for (const [i, a] of rawLists.entries()) {
    const compiled = compileAllowlist(a, `${label}, allowlist ${i}`, file);
    if (!compiled.ok) return err(compiled.error);
    if (compiled.value.targetRules.length > 0) {
      return err(invalid(`${label}, allowlist ${i}`, "field 'targetRules' is only valid in a global allowlist", file));
    }
    allowlists.push(compiled.value);
  }
  return ok(
    Object.freeze({
      id: raw.id,
      description: raw.description ?? raw.id,
      ...(regex === undefined ? {} : { regex }),
      ...(raw.secretGroup === undefined ? {} : { secretGroup: raw.secretGroup }),
      ...(raw.entropy === undefined ? {} : { entropy: raw.entropy }),
      keywords: (raw.keywords ?? []).map((k) => k.toLowerCase()),
      ...(path === undefined ? {} : { path }),
      tags: raw.tags ?? [],
      allowlists,
      ...(required.length === 0 ? {} : { required }),
      ...(raw.skipReport === true ? { skipReport: true } : {}),
    }),
  );
}

/**
 * Validates a raw configuration (already resolved: no `[extend]`) and compiles
 * every regex with RE2 semantics. An invalid config is an `invalid_config`
 * error naming the rule (index and id) and the field.
 *
 * @example
 * ```ts
 * const cfg = compileSecretsConfig({ rules: [{ id: 'x', regex: 'tok_[a-z0-9]{16}', keywords: ['tok_'] }] });
 * ```
 */
export function compileSecretsConfig(raw: unknown, file?: string): Result<SecretsConfig, ConveyorError> {
  const parsed = rawConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? describeIssuePath((raw ?? {}) as RawSecretsConfig, issue.path) : 'config';
    return err(invalid(where, issue?.message ?? 'invalid configuration', file));
  }
  const cfg = parsed.data;
  if (cfg.allowlist !== undefined && (cfg.allowlists ?? []).length > 0) {
    return err(invalid('config', 'the old [allowlist] cannot be used together with [[allowlists]]', file));
  }
  const rules: SecretRule[] = [];
  // a repeated rule id keeps the last definition (as gitleaks does)
  const lastIndex = new Map<string, number>();
  for (const [i, r] of (cfg.rules ?? []).entries()) lastIndex.set(r.id, i);
  for (const [i, r] of (cfg.rules ?? []).entries()) {
    if (lastIndex.get(r.id) !== i) continue;
    const compiled = compileRule(r, i, file);
    if (!compiled.ok) return err(compiled.error);
    rules.push(compiled.value);
  }
  // a composite rule's components are checked once every rule is known
  for (const [i, r] of (cfg.rules ?? []).entries()) {
    if (lastIndex.get(r.id) !== i) continue;
    for (const [j, q] of (r.required ?? []).entries()) {
      if (!lastIndex.has(q.id)) {
        return err(invalid(ruleLabel(cfg.rules, i), `field 'required[${j}].id': rule '${q.id}' does not exist`, file));
      }
    }
  }
  const rawGlobal = [...(cfg.allowlists ?? []), ...(cfg.allowlist ? [cfg.allowlist] : [])];
  const allowlists: SecretAllowlist[] = [];
  for (const [i, a] of rawGlobal.entries()) {
    const compiled = compileAllowlist(a, `global allowlist ${i}`, file);
    if (!compiled.ok) return err(compiled.error);
    const missing = compiled.value.targetRules.find((id) => !lastIndex.has(id));
    if (missing !== undefined) {
      return err(invalid(`global allowlist ${i}`, `field 'targetRules': rule '${missing}' does not exist`, file));
    }
    allowlists.push(compiled.value);
  }
  return ok(Object.freeze({ ...(cfg.title === undefined ? {} : { title: cfg.title }), rules, allowlists }));
}

/** A rule's allowlists, the old single `allowlist` included. */
const ruleLists = (r: RawSecretRule) => [...(r.allowlists ?? []), ...(r.allowlist ? [r.allowlist] : [])];

/**
 * An extending rule merged into the base rule of the same id, field by field
 * as gitleaks does: description, entropy, secretGroup, regex and path of the
 * extending rule win when set; tags, keywords and allowlists add up.
 * Validated after the merge (an extending rule may leave out its regex).
 */
function mergeRule(base: RawSecretRule, top: RawSecretRule): RawSecretRule {
  const { allowlist: _a, allowlists: _b, ...rest } = base;
  const lists = [...ruleLists(base), ...ruleLists(top)];
  return {
    ...rest,
    id: base.id,
    ...(top.description ? { description: top.description } : {}),
    ...(top.entropy ? { entropy: top.entropy } : {}),
    ...(top.secretGroup ? { secretGroup: top.secretGroup } : {}),
    ...(top.regex !== undefined && top.regex !== '' ? { regex: top.regex } : {}),
    ...(top.path !== undefined && top.path !== '' ? { path: top.path } : {}),
    tags: [...(base.tags ?? []), ...(top.tags ?? [])],
    keywords: [...(base.keywords ?? []), ...(top.keywords ?? [])],
    ...(lists.length > 0 ? { allowlists: lists } : {}),
  };
}

/** Merges an extending config onto its base the way gitleaks does: same-id rules are merged field by field, allowlists add up. */
function mergeRaw(base: RawSecretsConfig, top: RawSecretsConfig, disabled: readonly string[]): RawSecretsConfig {
  const topById = new Map((top.rules ?? []).map((r) => [r.id, r] as const));
  const baseRules = (base.rules ?? []).filter((r) => !disabled.includes(r.id));
  const baseIds = new Set(baseRules.map((r) => r.id));
  const merged = baseRules.map((r) => {
    const t = topById.get(r.id);
    return t ? mergeRule(r, t) : r;
  });
  const globals = (c: RawSecretsConfig) => [...(c.allowlists ?? []), ...(c.allowlist ? [c.allowlist] : [])];
  return {
    ...(top.title === undefined ? (base.title === undefined ? {} : { title: base.title }) : { title: top.title }),
    rules: [...merged, ...(top.rules ?? []).filter((r) => !baseIds.has(r.id))],
    allowlists: [...globals(base), ...globals(top)],
  };
}

/** One file's own checks before any merge: the old and new allowlist forms are not mixed. */
function checkFileShape(cfg: RawSecretsConfig, file: string | undefined): ConveyorError | undefined {
  if (cfg.allowlist !== undefined && (cfg.allowlists ?? []).length > 0) {
    return invalid('config', 'the old [allowlist] cannot be used together with [[allowlists]]', file);
  }
  for (const [i, r] of (cfg.rules ?? []).entries()) {
    if (r.allowlist !== undefined && (r.allowlists ?? []).length > 0) {
      return invalid(
        ruleLabel(cfg.rules, i),
        'the old [rules.allowlist] cannot be used together with [[rules.allowlists]]',
        file,
      );
    }
  }
  return undefined;
}

/** A file's rules with a repeated id kept once, its last definition (as gitleaks does). */
function lastDefinitions(cfg: RawSecretsConfig): RawSecretsConfig {
  if (!cfg.rules) return cfg;
  const last = new Map<string, RawSecretRule>();
  for (const r of cfg.rules) {
    last.delete(r.id);
    last.set(r.id, r);
  }
  return { ...cfg, rules: [...last.values()] };
}

/** How many `[extend]` levels are followed: the config, the file it extends, and that file's base (as gitleaks). */
export const MAX_EXTEND_DEPTH = 2;

/**
 * Where the files of a config's `[extend] path` chain come from. `read` gets
 * the path as written and the file that named it; it decides what is
 * reachable (a confined reader only serves files of one commit's tree) and
 * returns the text plus the name to use in messages.
 */
export interface SecretsConfigSource {
  read(path: string, from: string | undefined): Promise<Result<{ name: string; text: string }, ConveyorError>>;
}

/** The TOML parser's message quotes the offending text: keep only the position. */
function tomlError(thrown: unknown, file: string | undefined): ConveyorError {
  const t = thrown as { line?: unknown; column?: unknown };
  const at =
    typeof t?.line === 'number' && typeof t?.column === 'number' ? ` at line ${t.line}, column ${t.column}` : '';
  return invalid('TOML', `not a valid TOML document${at}`, file);
}

async function resolveRaw(
  text: string,
  file: string | undefined,
  depth: number,
  source: SecretsConfigSource | undefined,
  chain: string[],
): Promise<Result<RawSecretsConfig, ConveyorError>> {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (thrown) {
    return err(tomlError(thrown, file));
  }
  const shape = rawConfigSchema.safeParse(raw);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    const where = issue ? describeIssuePath(raw as RawSecretsConfig, issue.path) : 'config';
    return err(invalid(where, issue?.message ?? 'invalid configuration', file));
  }
  const shapeError = checkFileShape(shape.data as RawSecretsConfig, file);
  if (shapeError) return err(shapeError);
  const cfg = lastDefinitions(shape.data as RawSecretsConfig);
  const extend = cfg.extend;
  if (extend?.useDefault === true && extend.path !== undefined && extend.path !== '') {
    return err(invalid("field 'extend'", 'useDefault and path cannot both be set', file));
  }
  // gitleaks follows [extend] MAX_EXTEND_DEPTH levels deep and ignores it beyond
  if (!extend || depth >= MAX_EXTEND_DEPTH) {
    const { extend: _dropped, ...own } = cfg;
    return ok(own);
  }
  let base: RawSecretsConfig = { rules: [] };
  if (extend.useDefault) base = mergeRaw(base, DEFAULT_SECRETS_CONFIG, []);
  if (extend.path !== undefined) {
    if (!source) {
      return err(invalid("field 'extend.path'", 'no file can be reached from here (use useDefault)', file));
    }
    const read = await source.read(extend.path, file);
    if (!read.ok) return err(read.error);
    if (chain.includes(read.value.name)) {
      return err(invalid("field 'extend.path'", `extend chain loops back to ${read.value.name}`, file));
    }
    chain.push(read.value.name);
    const nested = await resolveRaw(read.value.text, read.value.name, depth + 1, source, chain);
    if (!nested.ok) return nested;
    base = mergeRaw(base, nested.value, []);
  }
  const { extend: _ignored, ...top } = cfg;
  return ok(mergeRaw(base, top, extend.disabledRules ?? []));
}

/** A parsed configuration and every file its `[extend]` chain read (the first is the config itself). */
export interface LoadedSecretsConfig {
  readonly config: SecretsConfig;
  /** names of the files read, in order */
  readonly files: readonly string[];
  /** the whole chain merged into one raw configuration (no `[extend]` left) */
  readonly raw: RawSecretsConfig;
}

/**
 * Parses `.gitleaks.toml` text (gitleaks v8 format, `[extend]` resolved:
 * `useDefault` starts from {@link DEFAULT_SECRETS_CONFIG}, `path` is read
 * through `source`, `disabledRules` drops base rules). Without a `source`,
 * an `[extend] path` is an error. Errors name the file and the field and never
 * quote the file's text.
 *
 * @example
 * ```ts
 * const cfg = await parseSecretsConfig(text, '.gitleaks.toml');
 * if (!cfg.ok) console.error(cfg.error.message);
 * ```
 */
export async function parseSecretsConfig(
  text: string,
  file?: string,
  source?: SecretsConfigSource,
): Promise<Result<SecretsConfig, ConveyorError>> {
  const loaded = await parseSecretsConfigChain(text, file, source);
  return loaded.ok ? ok(loaded.value.config) : err(loaded.error);
}

/** {@link parseSecretsConfig}, also returning the names of the files the `[extend]` chain read. */
export async function parseSecretsConfigChain(
  text: string,
  file: string | undefined,
  source: SecretsConfigSource | undefined,
): Promise<Result<LoadedSecretsConfig, ConveyorError>> {
  const chain = file ? [file] : [];
  const raw = await resolveRaw(text, file, 0, source, chain);
  if (!raw.ok) return err(raw.error);
  const compiled = compileSecretsConfig(raw.value, file);
  if (!compiled.ok) return err(compiled.error);
  return ok({ config: compiled.value, files: chain, raw: raw.value });
}

/**
 * Resolves an `[extend] path` inside a repository tree: relative to the
 * directory of the file that names it, never absolute, never out of the
 * tree. Returns the normalised repository path, or why it is refused.
 *
 * @example
 * ```ts
 * confinedTreePath('base.toml', 'config/.gitleaks.toml'); // { ok: true, value: 'config/base.toml' }
 * ```
 */
export function confinedTreePath(path: string, from: string | undefined): Result<string, string> {
  if (path === '' || path.includes('\0')) return err('is empty or holds a NUL byte');
  if (posix.isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\')) {
    return err('is absolute: only paths inside the repository are read');
  }
  if (path.split(/[\\/]/).includes('..')) return err("uses '..': only paths inside the repository are read");
  const dir = from ? posix.dirname(from) : '.';
  const joined = posix.normalize(posix.join(dir, path));
  if (joined.startsWith('..') || posix.isAbsolute(joined)) return err('leaves the repository');
  return ok(joined.replace(/^\.\//, ''));
}

/**
 * Loads a configuration from a file on the host (never from a checkout: the
 * branch under review must not configure its own scan). Its `[extend]` may
 * use `useDefault`; an `[extend] path` is refused.
 *
 * @example
 * ```ts
 * const cfg = await loadSecretsConfig({ configPath: '/etc/conveyor/gitleaks.toml' });
 * ```
 */
export async function loadSecretsConfig(options: {
  configPath: string;
}): Promise<Result<SecretsConfig, ConveyorError>> {
  const file = resolve(options.configPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (thrown) {
    return err(
      new ConveyorError(PKG, 'invalid_config', `secrets config ${file} cannot be read`, {
        cause: thrown,
        details: { file },
      }),
    );
  }
  return parseSecretsConfig(text, file);
}
