import { type ConveyorError, err, ok, type Result } from '@conveyor/core';
import { parse as parseYaml } from 'yaml';
import type { AgentBudget } from './agent-process.js';
import { agentsError } from './errors.js';

/** A stage's prompt: Markdown with YAML front matter. */
export interface PromptTemplate {
  /** where it came from (`built-in:development`, `repo:.conveyor/prompts/development.md`, a host path) */
  readonly source: string;
  /** the Markdown body with `{{placeholders}}` */
  readonly body: string;
  /** front matter `tools`: the tools the agent may use */
  readonly tools?: readonly string[];
  /** front matter `model` */
  readonly model?: string;
  /** front matter `system`: appended to the CLI's system prompt */
  readonly system?: string;
  /** front matter `max_turns`, `max_cost_usd`, `timeout_minutes` */
  readonly budget?: AgentBudget;
}

/** The values a template is rendered with. Every placeholder must name one of them. */
export interface PromptVariables {
  readonly task: {
    readonly id: string;
    readonly title: string;
    readonly description: string;
    readonly branch: string;
    readonly repo: string;
    readonly project: string;
  };
  readonly issue: { readonly id: string; readonly title: string; readonly description: string };
  readonly stage: string;
  readonly attempt: number;
  /** the findings of the gate that rolled the task back (already redacted), `''` on a first attempt */
  readonly findings: string;
  /** the analysis stage's plan, `''` when there is none */
  readonly plan: string;
  /** the host's deploy command for deploy stages, `''` otherwise */
  readonly deployCommand: string;
}

const ANALYSIS = `---
tools: [Read, Glob, Grep, "Bash(ls:*)", "Bash(cat:*)", "Bash(git log:*)"]
max_turns: 30
system: You are the analyst of an automated delivery pipeline. You read and plan; you never change files.
---
# Plan the work for {{issue.title}}

Repository \`{{task.repo}}\`, branch \`{{task.branch}}\` (task {{task.id}}).

## The issue

{{issue.description}}

## What to do

Read the code that this issue touches and write a short implementation plan in
Markdown: the files to change, the functions to add or edit, the tests to write,
and the risks. Do not change any file. Your last message is the plan: it is
posted to the tracker for a person to approve, and handed to the developer.
`;

const DEVELOPMENT = `---
max_turns: 60
system: You are the developer of an automated delivery pipeline. Work only inside the current directory. Never add credentials, tokens or keys to the code.
---
# Implement {{issue.title}}

Repository \`{{task.repo}}\`, branch \`{{task.branch}}\` (task {{task.id}}, attempt {{attempt}}).

## The issue

{{issue.description}}

## The approved plan

{{plan}}

## What to do

Implement the change in this working directory, with tests, and run the tests.
You do not need to commit or push: the pipeline commits what you leave and
pushes the branch. End with a one-paragraph summary of what you changed.
`;

const ROLLBACK = `---
max_turns: 60
system: You are the developer of an automated delivery pipeline. A gate rejected your last attempt; fix exactly what it found. Never add credentials, tokens or keys to the code.
---
# Fix what the gate found in {{issue.title}}

Repository \`{{task.repo}}\`, branch \`{{task.branch}}\` (task {{task.id}}, attempt {{attempt}}).
Your previous attempt is already on this branch.

## The gate's findings

{{findings}}

## What to do

Fix every finding above without dropping the feature. A leaked secret must be
removed from the code entirely (read it from the environment instead); a
failing test must pass; a vulnerable dependency must be upgraded. Run the tests.
The pipeline commits and pushes what you leave. End with a one-paragraph summary
of each fix.

## The issue, for reference

{{issue.description}}
`;

const DEPLOY = `---
---
Deploy {{task.branch}} of {{task.repo}} (task {{task.id}}, stage {{stage}}) with: {{deployCommand}}
`;

/** The built-in templates, by name (`analysis`, `development`, `rollback`, `deploy`). */
export const BUILT_IN_PROMPTS: Readonly<Record<string, string>> = Object.freeze({
  analysis: ANALYSIS,
  development: DEVELOPMENT,
  rollback: ROLLBACK,
  deploy: DEPLOY,
});

/**
 * The template name of a stage: `rollback` for a development job that carries
 * findings, `deploy` for the deploy stages, otherwise the stage id.
 *
 * @example
 * ```ts
 * promptNameFor('development', 'secret at src/a.js:1'); // 'rollback'
 * ```
 */
export function promptNameFor(stage: string, findings: string | undefined): string {
  if (stage === 'development' && findings !== undefined && findings.trim() !== '') return 'rollback';
  if (stage === 'deploy-staging' || stage === 'deploy') return 'deploy';
  return stage;
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n?---\r?\n?/;
const KNOWN_KEYS = new Set(['tools', 'model', 'system', 'max_turns', 'max_cost_usd', 'timeout_minutes', 'stage']);

/**
 * Parses a template: YAML front matter (`tools`, `model`, `system`,
 * `max_turns`, `max_cost_usd`, `timeout_minutes`) and a Markdown body. An
 * unknown key or a wrong type is an error naming the source and the key.
 *
 * @example
 * ```ts
 * const t = parsePromptTemplate('---\nmax_turns: 10\n---\nFix {{findings}}', 'repo:.conveyor/prompts/rollback.md');
 * ```
 */
export function parsePromptTemplate(text: string, source: string): Result<PromptTemplate, ConveyorError> {
  const match = FRONT_MATTER.exec(text);
  if (!match)
    return err(
      agentsError('invalid_config', `prompt ${source}: it must start with YAML front matter between --- lines`),
    );
  let meta: unknown;
  try {
    meta = match[1]?.trim() === '' ? {} : parseYaml(match[1] ?? '');
  } catch (thrown) {
    return err(
      agentsError(
        'invalid_config',
        `prompt ${source}: the front matter is not valid YAML (${(thrown as Error).message.split('\n')[0]})`,
      ),
    );
  }
  if (meta === null || meta === undefined) meta = {};
  if (typeof meta !== 'object' || Array.isArray(meta))
    return err(agentsError('invalid_config', `prompt ${source}: the front matter must be a mapping`));
  const fields = meta as Record<string, unknown>;
  for (const key of Object.keys(fields))
    if (!KNOWN_KEYS.has(key))
      return err(agentsError('invalid_config', `prompt ${source}: unknown front matter key "${key}"`));
  const bad = (key: string, want: string) =>
    err(agentsError('invalid_config', `prompt ${source}: front matter "${key}" must be ${want}`));
  const { tools, model, system, max_turns, max_cost_usd, timeout_minutes } = fields;
  if (tools !== undefined && !(Array.isArray(tools) && tools.every((t) => typeof t === 'string')))
    return bad('tools', 'a list of strings');
  if (model !== undefined && typeof model !== 'string') return bad('model', 'a string');
  if (system !== undefined && typeof system !== 'string') return bad('system', 'a string');
  const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (max_turns !== undefined && !(positive(max_turns) && Number.isInteger(max_turns)))
    return bad('max_turns', 'a positive integer');
  if (max_cost_usd !== undefined && !positive(max_cost_usd)) return bad('max_cost_usd', 'a positive number');
  if (timeout_minutes !== undefined && !positive(timeout_minutes)) return bad('timeout_minutes', 'a positive number');
  const budget: AgentBudget = {
    ...(max_turns === undefined ? {} : { maxTurns: max_turns as number }),
    ...(max_cost_usd === undefined ? {} : { maxCostUsd: max_cost_usd as number }),
    ...(timeout_minutes === undefined ? {} : { timeoutMs: (timeout_minutes as number) * 60_000 }),
  };
  return ok({
    source,
    body: text.slice(match[0].length),
    ...(tools === undefined ? {} : { tools: tools as string[] }),
    ...(model === undefined ? {} : { model }),
    ...(system === undefined ? {} : { system }),
    ...(Object.keys(budget).length === 0 ? {} : { budget }),
  });
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

function lookup(variables: PromptVariables, name: string): string | undefined {
  let value: unknown = variables;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * Renders a template's body. Placeholders are `{{name}}` or `{{a.b}}`
 * (`task.title`, `issue.description`, `stage`, `attempt`, `findings`, `plan`,
 * `deployCommand`…); a placeholder that names no value is an error listing
 * every unknown one, never an empty string. Values are inserted verbatim and
 * not rendered again, so a finding cannot inject a placeholder.
 *
 * @example
 * ```ts
 * const text = renderPrompt(template, variables); // Result<string, ConveyorError>
 * ```
 */
export function renderPrompt(template: PromptTemplate, variables: PromptVariables): Result<string, ConveyorError> {
  const unknown = new Set<string>();
  const text = template.body.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = lookup(variables, name);
    if (value === undefined) {
      unknown.add(name);
      return '';
    }
    return value;
  });
  if (unknown.size > 0)
    return err(
      agentsError(
        'invalid_config',
        `prompt ${template.source}: unknown placeholder${unknown.size > 1 ? 's' : ''} ${[...unknown].map((n) => `{{${n}}}`).join(', ')}`,
      ),
    );
  return ok(text);
}
