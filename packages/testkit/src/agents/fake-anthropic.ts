import * as path from 'node:path';
import type { FakeReply } from '../http/fake-server.js';
import type { FakeModelOptions, FakeModelServer, FakeTurn } from './model-script.js';
import { type ScriptedCall, sseReply, startScriptedModelServer } from './scripted-model-server.js';

function toolUse(turn: FakeTurn, cwd: string | undefined): { name: string; input: unknown } | undefined {
  const tool = turn.tool;
  if (!tool) return undefined;
  if (tool.kind === 'write')
    return {
      name: 'Write',
      input: {
        file_path: path.isAbsolute(tool.path) ? tool.path : path.join(cwd ?? '/', tool.path),
        content: tool.content,
      },
    };
  if (tool.kind === 'bash') return { name: 'Bash', input: { command: tool.command, description: 'scripted command' } };
  return { name: tool.name, input: tool.input };
}

function anthropicError(status: number) {
  const type =
    status === 401
      ? 'authentication_error'
      : status === 429
        ? 'rate_limit_error'
        : status === 529
          ? 'overloaded_error'
          : 'api_error';
  return { type: 'error', error: { type, message: `injected ${status}` } };
}

/** The Messages API's reply to one scripted call: a JSON message, or its SSE stream. */
function messagesReply({ body, turn, usage, cwd, n }: ScriptedCall): FakeReply {
  const model = typeof body.model === 'string' ? body.model : 'claude-fake';
  const tool = toolUse(turn, cwd);
  const id = `msg_fake_${n}`;
  if (body.stream !== true) {
    const content: unknown[] = [];
    if (turn.text !== undefined) content.push({ type: 'text', text: turn.text });
    if (tool) content.push({ type: 'tool_use', id: `toolu_fake_${n}`, ...tool });
    return {
      status: 200,
      body: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: tool ? 'tool_use' : 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
      },
    };
  }
  const events: [string, Record<string, unknown>][] = [
    [
      'message_start',
      {
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: usage.inputTokens, output_tokens: 1 },
        },
      },
    ],
  ];
  let index = 0;
  if (turn.text !== undefined) {
    events.push(['content_block_start', { index, content_block: { type: 'text', text: '' } }]);
    events.push(['ping', {}]);
    events.push(['content_block_delta', { index, delta: { type: 'text_delta', text: turn.text } }]);
    events.push(['content_block_stop', { index }]);
    index += 1;
  }
  if (tool) {
    const json = JSON.stringify(tool.input);
    const cut = Math.floor(json.length / 2);
    events.push([
      'content_block_start',
      { index, content_block: { type: 'tool_use', id: `toolu_fake_${n}`, name: tool.name, input: {} } },
    ]);
    events.push([
      'content_block_delta',
      { index, delta: { type: 'input_json_delta', partial_json: json.slice(0, cut) } },
    ]);
    events.push(['content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(cut) } }]);
    events.push(['content_block_stop', { index }]);
  }
  events.push([
    'message_delta',
    {
      delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.outputTokens },
    },
  ]);
  events.push(['message_stop', {}]);
  return sseReply(events.map(([type, data]) => ({ type, ...data })));
}

/**
 * A fake Anthropic Messages API on 127.0.0.1 for the real Claude Code CLI
 * (`ANTHROPIC_BASE_URL=<url>`). `POST /v1/messages` with `stream: true`
 * answers the next scripted turn as SSE (`message_start`,
 * `content_block_start/delta/stop` with `text_delta` and `tool_use`
 * `input_json_delta`, `message_delta` with usage, `message_stop`); a
 * non-streaming call gets a JSON message; `count_tokens` and the CLI's
 * `HEAD /api/hello` are answered; other routes are logged in `unknownRoutes`.
 *
 * @example
 * ```ts
 * const model = await startFakeAnthropic({ script: [{ tool: { kind: 'write', path: 'hello.txt', content: 'hi\n' } }] });
 * // claude -p … with ANTHROPIC_BASE_URL=model.url writes hello.txt, then the model says "Done."
 * ```
 */
export async function startFakeAnthropic(options: FakeModelOptions = {}): Promise<FakeModelServer> {
  return startScriptedModelServer(options, {
    isModelCall: (request) => request.method === 'POST' && request.path === '/v1/messages',
    keyOf: (request) =>
      request.headers['x-api-key']?.toString() ?? String(request.headers.authorization ?? '').replace(/^Bearer /, ''),
    errorBody: anthropicError,
    answer: messagesReply,
    otherRoute(request) {
      if (request.method === 'HEAD' || (request.method === 'GET' && request.path === '/api/hello'))
        return { status: 200, body: '' };
      if (request.method === 'POST' && request.path === '/v1/messages/count_tokens')
        return { status: 200, body: { input_tokens: Math.ceil(request.body.length / 4) } };
      return undefined;
    },
  });
}
