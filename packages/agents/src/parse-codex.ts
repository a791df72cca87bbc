import type { AgentEvent } from './events.js';
import { modelErrorKind } from './events.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function itemEvents(item: Json, completed: boolean): AgentEvent[] {
  const id = str(item.id);
  switch (item.type) {
    case 'agent_message':
      return completed ? [{ type: 'turn' }, { type: 'message', text: str(item.text) }] : [];
    case 'command_execution':
      if (!completed) return [{ type: 'tool_call', id, name: 'exec_command', input: { command: str(item.command) } }];
      return [
        { type: 'turn' },
        {
          type: 'tool_result',
          id,
          output: str(item.aggregated_output),
          isError: typeof item.exit_code === 'number' && item.exit_code !== 0,
        },
      ];
    case 'file_change':
      return completed ? [{ type: 'tool_call', id, name: 'file_change', input: item.changes }] : [];
    case 'mcp_tool_call':
      return completed
        ? [{ type: 'tool_call', id, name: `${str(item.server)}.${str(item.tool)}`, input: item.arguments }]
        : [];
    default:
      return [];
  }
}

/**
 * Parses one line of `codex exec --json`: `thread.started`, `item.started` /
 * `item.completed` (agent messages, command executions, file changes; each
 * completed message or command counts as one model turn),
 * `turn.completed` (usage), `turn.failed` and `error`. Codex exits 0 even when
 * the turn failed, so `turn.failed` becomes an error `result`.
 * Returns `undefined` for a line that is not a JSON object.
 *
 * @example
 * ```ts
 * parseCodexLine('{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"done"}}');
 * // [{ type: 'message', text: 'done' }]
 * ```
 */
export function parseCodexLine(line: string): readonly AgentEvent[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'thread.started':
      return [{ type: 'start', ...(typeof value.thread_id === 'string' ? { sessionId: value.thread_id } : {}) }];
    case 'item.started':
      return isObject(value.item) ? itemEvents(value.item, false) : [];
    case 'item.completed':
      return isObject(value.item) ? itemEvents(value.item, true) : [];
    case 'turn.completed': {
      const usage = isObject(value.usage) ? value.usage : {};
      return [
        {
          type: 'usage',
          usage: {
            inputTokens: Math.max(0, num(usage.input_tokens) - num(usage.cached_input_tokens)),
            outputTokens: num(usage.output_tokens),
            cachedInputTokens: num(usage.cached_input_tokens),
          },
          cumulative: false,
        },
      ];
    }
    case 'error': {
      const message = str(value.message);
      return [
        {
          type: 'model_error',
          kind: modelErrorKind(undefined, message),
          message,
          retrying: /^Reconnecting/i.test(message),
        },
      ];
    }
    case 'turn.failed': {
      const message = isObject(value.error) ? str(value.error.message) : 'the turn failed';
      return [
        { type: 'model_error', kind: modelErrorKind(undefined, message), message, retrying: false },
        { type: 'result', text: message, isError: true, reason: 'turn_failed' },
      ];
    }
    default:
      return [];
  }
}
