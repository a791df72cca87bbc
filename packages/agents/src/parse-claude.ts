import type { AgentEvent, AgentUsage } from './events.js';
import { modelErrorKind } from './events.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function usageOf(raw: unknown): AgentUsage | undefined {
  if (!isObject(raw)) return undefined;
  return {
    inputTokens: num(raw.input_tokens) + num(raw.cache_creation_input_tokens),
    outputTokens: num(raw.output_tokens),
    cachedInputTokens: num(raw.cache_read_input_tokens),
  };
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((c) => (isObject(c) && typeof c.text === 'string' ? c.text : JSON.stringify(c))).join('\n');
  return content === undefined ? '' : JSON.stringify(content);
}

/**
 * Parses one line of `claude -p --output-format stream-json --verbose`:
 * `system/init`, `system/api_retry`, `assistant` (text and `tool_use` blocks),
 * `user` (`tool_result` blocks) and the final `result` (usage, cost, error status).
 * Returns `undefined` for a line that is not a JSON object.
 *
 * @example
 * ```ts
 * parseClaudeLine('{"type":"result","subtype":"success","result":"done","total_cost_usd":0.01}');
 * // [{ type: 'cost', usd: 0.01 }, { type: 'result', text: 'done', isError: false }]
 * ```
 */
export function parseClaudeLine(line: string): readonly AgentEvent[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const events: AgentEvent[] = [];
  switch (value.type) {
    case 'system':
      if (value.subtype === 'init') {
        events.push({
          type: 'start',
          ...(typeof value.session_id === 'string' ? { sessionId: value.session_id } : {}),
          ...(typeof value.model === 'string' ? { model: value.model } : {}),
        });
      } else if (value.subtype === 'api_retry') {
        const status = typeof value.error_status === 'number' ? value.error_status : undefined;
        const message = `model server error ${status ?? ''} (${str(value.error)}), retry ${num(value.attempt)} of ${num(value.max_retries)}`;
        events.push({
          type: 'model_error',
          kind: modelErrorKind(status, str(value.error)),
          ...(status === undefined ? {} : { status }),
          message,
          retrying: true,
        });
      }
      break;
    case 'assistant': {
      const message = isObject(value.message) ? value.message : {};
      if (message.model === '<synthetic>') break; // Claude Code's own error text, reported again by `result`
      // Claude Code emits one `assistant` line per content block; the message id ties them to one turn.
      events.push({ type: 'turn', ...(typeof message.id === 'string' ? { id: message.id } : {}) });
      for (const block of Array.isArray(message.content) ? message.content : []) {
        if (!isObject(block)) continue;
        if (block.type === 'text' && typeof block.text === 'string') events.push({ type: 'message', text: block.text });
        if (block.type === 'tool_use')
          events.push({ type: 'tool_call', id: str(block.id), name: str(block.name), input: block.input });
      }
      const usage = usageOf(message.usage);
      if (usage) events.push({ type: 'usage', usage, cumulative: false });
      break;
    }
    case 'user': {
      const message = isObject(value.message) ? value.message : {};
      for (const block of Array.isArray(message.content) ? message.content : []) {
        if (!isObject(block) || block.type !== 'tool_result') continue;
        events.push({
          type: 'tool_result',
          id: str(block.tool_use_id),
          output: toolResultText(block.content),
          isError: block.is_error === true,
        });
      }
      break;
    }
    case 'result': {
      const usage = usageOf(value.usage);
      if (usage) events.push({ type: 'usage', usage, cumulative: true });
      if (typeof value.total_cost_usd === 'number') events.push({ type: 'cost', usd: value.total_cost_usd });
      const isError = value.is_error === true || (typeof value.subtype === 'string' && value.subtype !== 'success');
      const status = typeof value.api_error_status === 'number' ? value.api_error_status : undefined;
      if (status !== undefined)
        events.push({
          type: 'model_error',
          kind: modelErrorKind(status),
          status,
          message: `model server answered ${status}`,
          retrying: false,
        });
      const reason =
        typeof value.terminal_reason === 'string'
          ? value.terminal_reason
          : typeof value.subtype === 'string' && value.subtype !== 'success'
            ? value.subtype
            : undefined;
      events.push({
        type: 'result',
        text: str(value.result),
        isError,
        ...(reason === undefined ? {} : { reason }),
      });
      break;
    }
    default:
      break;
  }
  return events;
}
