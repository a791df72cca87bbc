import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedFixturesDir } from '../fixtures.js';

/** The subset of a Swagger 2.0 schema the fake Gitea checks. */
export interface SwaggerSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SwaggerSchema>>;
  readonly required?: readonly string[];
  readonly items?: SwaggerSchema;
  readonly enum?: readonly unknown[];
  readonly $ref?: string;
}

/** One operation parameter of a Swagger 2.0 spec. */
export interface SwaggerParameter {
  readonly name: string;
  readonly in: string;
  readonly type?: string;
  readonly required?: boolean;
  readonly enum?: readonly unknown[];
  readonly schema?: SwaggerSchema;
}

/** The parts of a Swagger 2.0 document the fake reads. */
export interface SwaggerSpec {
  readonly paths: Readonly<
    Record<string, Readonly<Record<string, { readonly parameters?: readonly SwaggerParameter[] }>>>
  >;
  readonly definitions: Readonly<Record<string, SwaggerSchema>>;
}

/** Where the request schemas came from: Gitea's real spec, or the fake's own minimal one. */
export type GiteaSpecSource = 'swagger-v1.22.json' | 'builtin';

const MERGE_STYLES = ['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only', 'manually-merged'];

/**
 * The minimal request schemas used when the real spec is absent: the same
 * shapes as Gitea 1.22's `CreateStatusOption`, `CreatePullRequestOption` and
 * `MergePullRequestOption`, reduced to the fields the fake reads.
 */
export const BUILTIN_GITEA_SPEC: SwaggerSpec = Object.freeze({
  paths: {
    '/repos/{owner}/{repo}/statuses/{sha}': {
      post: { parameters: [{ name: 'body', in: 'body', schema: { $ref: '#/definitions/CreateStatusOption' } }] },
    },
    '/repos/{owner}/{repo}/pulls': {
      post: { parameters: [{ name: 'body', in: 'body', schema: { $ref: '#/definitions/CreatePullRequestOption' } }] },
    },
    '/repos/{owner}/{repo}/pulls/{index}/merge': {
      post: { parameters: [{ name: 'body', in: 'body', schema: { $ref: '#/definitions/MergePullRequestOption' } }] },
    },
  },
  definitions: {
    CreateStatusOption: {
      type: 'object',
      properties: {
        context: { type: 'string' },
        description: { type: 'string' },
        state: { type: 'string' },
        target_url: { type: 'string' },
      },
    },
    CreatePullRequestOption: {
      type: 'object',
      properties: {
        base: { type: 'string' },
        head: { type: 'string' },
        title: { type: 'string' },
        body: { type: 'string' },
        assignees: { type: 'array', items: { type: 'string' } },
        labels: { type: 'array', items: { type: 'integer' } },
        milestone: { type: 'integer' },
      },
    },
    MergePullRequestOption: {
      type: 'object',
      required: ['Do'],
      properties: {
        Do: { type: 'string', enum: MERGE_STYLES },
        MergeCommitID: { type: 'string' },
        MergeMessageField: { type: 'string' },
        MergeTitleField: { type: 'string' },
        delete_branch_after_merge: { type: 'boolean' },
        force_merge: { type: 'boolean' },
        head_commit_id: { type: 'string' },
        merge_when_checks_succeed: { type: 'boolean' },
      },
    },
  },
});

/**
 * Loads Gitea's swagger spec from the shared fixtures (`gitea/swagger-v1.22.json`),
 * or `undefined` when the fixtures are absent.
 *
 * @example
 * ```ts
 * const spec = loadGiteaSpec() ?? BUILTIN_GITEA_SPEC;
 * ```
 */
export function loadGiteaSpec(dir: string | undefined = sharedFixturesDir()): SwaggerSpec | undefined {
  if (!dir) return undefined;
  const file = join(dir, 'gitea', 'swagger-v1.22.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SwaggerSpec;
}

/**
 * Validates a JSON request body against the `in: body` parameter of the
 * operation `method path` of `spec`, the way Gitea's Go binding reads it: keys
 * match field names case-insensitively, unknown keys are ignored, `null`
 * leaves a field empty, a wrong type or a value outside an enum is refused,
 * and a required field must be present and non-empty. Returns the problems,
 * each as `[Field]: reason`; empty when the body is acceptable.
 *
 * @example
 * ```ts
 * validateRequestBody(spec, 'post', '/repos/{owner}/{repo}/pulls/{index}/merge', { Do: 'explode' }); // ['[Do]: must be one of …']
 * ```
 */
export function validateRequestBody(spec: SwaggerSpec, method: string, path: string, body: unknown): string[] {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  const param = operation?.parameters?.find((p) => p.in === 'body');
  if (!param?.schema) return [];
  if (body === undefined) return ['[body]: a JSON body is required'];
  return validateValue(spec, param.schema, body, 'body');
}

function resolve(spec: SwaggerSpec, schema: SwaggerSchema): SwaggerSchema {
  let current = schema;
  for (let i = 0; i < 16 && current.$ref; i += 1) {
    const name = current.$ref.replace('#/definitions/', '');
    const next = spec.definitions[name];
    if (!next) return {};
    current = next;
  }
  return current;
}

function validateValue(spec: SwaggerSpec, raw: SwaggerSchema, value: unknown, field: string): string[] {
  const schema = resolve(spec, raw);
  if (value === null) return [];
  const problems: string[] = [];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`[${field}]: must be a string, got ${typeName(value)}`];
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return [`[${field}]: must be an integer, got ${typeName(value)}`];
      break;
    case 'number':
      if (typeof value !== 'number') return [`[${field}]: must be a number, got ${typeName(value)}`];
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`[${field}]: must be a boolean, got ${typeName(value)}`];
      break;
    case 'array':
      if (!Array.isArray(value)) return [`[${field}]: must be an array, got ${typeName(value)}`];
      if (schema.items) {
        const items = schema.items;
        value.forEach((item, i) => {
          problems.push(...validateValue(spec, items, item, `${field}[${i}]`));
        });
      }
      return problems;
    case 'object':
    case undefined:
      if (schema.properties || schema.type === 'object') {
        if (typeof value !== 'object' || Array.isArray(value))
          return [`[${field}]: must be an object, got ${typeName(value)}`];
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record);
        for (const [name, propSchema] of Object.entries(schema.properties ?? {})) {
          // Go's encoding/json matches keys case-insensitively; the last match wins.
          const key = [...keys].reverse().find((k) => k.toLowerCase() === name.toLowerCase());
          const present = key !== undefined && record[key] !== null && record[key] !== '';
          if (schema.required?.includes(name) && !present) {
            problems.push(`[${name}]: Required`);
            continue;
          }
          if (key !== undefined) problems.push(...validateValue(spec, propSchema, record[key], name));
        }
      }
      return problems;
    default:
      break;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(
      `[${field}]: must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return problems;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The enum of commit status states the spec lists (on the `state` query
 * parameter of `GET /repos/{owner}/{repo}/statuses/{sha}`; `CommitStatusState`
 * itself is a bare string in the spec).
 */
export function commitStateEnum(spec: SwaggerSpec): readonly string[] {
  const param = spec.paths['/repos/{owner}/{repo}/statuses/{sha}']?.get?.parameters?.find((p) => p.name === 'state');
  const values = param?.enum?.filter((v): v is string => typeof v === 'string');
  return values && values.length > 0 ? values : ['pending', 'success', 'error', 'failure', 'warning'];
}
