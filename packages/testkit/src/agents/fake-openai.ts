import type { FakeReply } from '../http/fake-server.js';
import type { FakeModelOptions, FakeModelServer, FakeTurn } from './model-script.js';
import { type ScriptedCall, sseReply, startScriptedModelServer } from './scripted-model-server.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function functionCall(turn: FakeTurn): { name: string; arguments: string } | undefined {
  const tool = turn.tool;
  if (!tool) return undefined;
  if (tool.kind === 'write') {
    const b64 = Buffer.from(tool.content, 'utf8').toString('base64');
    const dir = tool.path.includes('/') ? tool.path.slice(0, tool.path.lastIndexOf('/')) : '';
    const cmd = `${dir ? `mkdir -p ${shellQuote(dir)} && ` : ''}printf '%s' ${shellQuote(b64)} | base64 -d > ${shellQuote(tool.path)}`;
    return { name: 'exec_command', arguments: JSON.stringify({ cmd }) };
  }
  if (tool.kind === 'bash') return { name: 'exec_command', arguments: JSON.stringify({ cmd: tool.command }) };
  return { name: tool.name, arguments: typeof tool.input === 'string' ? tool.input : JSON.stringify(tool.input) };
}

function openaiError(status: number) {
  const code = status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : 'server_error';
  return { error: { message: `injected ${status}`, type: code, code } };
}

/** The Responses API's reply to one scripted call: its SSE stream. */
function responsesReply({ turn, usage, n }: ScriptedCall): FakeReply {
  const responseId = `resp_fake_${n}`;
  const output: Record<string, unknown>[] = [];
  if (turn.text !== undefined)
    output.push({
      type: 'message',
      id: `msg_fake_${n}`,
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: turn.text, annotations: [] }],
    });
  const call = functionCall(turn);
  if (call)
    output.push({
      type: 'function_call',
      id: `fc_fake_${n}`,
      call_id: `call_fake_${n}`,
      status: 'completed',
      ...call,
    });
  const events: Record<string, unknown>[] = [
    { type: 'response.created', response: { id: responseId, object: 'response', status: 'in_progress', output: [] } },
  ];
  output.forEach((item, outputIndex) => {
    const empty =
      item.type === 'message' ? { ...item, status: 'in_progress', content: [] } : { ...item, arguments: '' };
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: empty });
    if (item.type === 'message' && turn.text !== undefined)
      events.push({
        type: 'response.output_text.delta',
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        delta: turn.text,
      });
    if (item.type === 'function_call')
      events.push({
        type: 'response.function_call_arguments.delta',
        item_id: item.id,
        output_index: outputIndex,
        delta: item.arguments,
      });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
  });
  events.push({
    type: 'response.completed',
    response: {
      id: responseId,
      object: 'response',
      status: 'completed',
      output,
      usage: {
        input_tokens: usage.inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: usage.outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.inputTokens + usage.outputTokens,
      },
    },
  });
  return sseReply(events);
}

/**
 * A fake OpenAI Responses API on 127.0.0.1 for the real Codex CLI (a
 * `model_providers.<id>` with `base_url = "<url>/v1"` and
 * `wire_api = "responses"`). `POST /v1/responses` answers the next scripted
 * turn as SSE: `response.created`, `response.output_item.added`,
 * `response.output_text.delta`, `response.output_item.done` (a `message` or a
 * `function_call` to `exec_command`) and `response.completed` with usage.
 * Other routes are logged in `unknownRoutes`.
 *
 * @example
 * ```ts
 * const model = await startFakeOpenAI({ script: [{ tool: { kind: 'bash', command: 'node run-tests.mjs' } }] });
 * ```
 */
export async function startFakeOpenAI(options: FakeModelOptions = {}): Promise<FakeModelServer> {
  return startScriptedModelServer(options, {
    isModelCall: (request) => request.method === 'POST' && request.path === '/v1/responses',
    keyOf: (request) => String(request.headers.authorization ?? '').replace(/^Bearer /, ''),
    errorBody: openaiError,
    answer: responsesReply,
    otherRoute: (request) =>
      request.method === 'GET' && request.path === '/v1/models'
        ? { status: 200, body: { object: 'list', data: [] } }
        : undefined,
  });
}
