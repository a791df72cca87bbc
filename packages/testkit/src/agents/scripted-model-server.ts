// Internal: what the fake Anthropic and fake OpenAI servers share (the script,
// the call log, injected failures, the key check and SSE replies). Not exported
// from the package.
import { type FakeReply, type RecordedRequest, startFakeHttpServer } from '../http/fake-server.js';
import {
  cwdFromRequest,
  DEFAULT_USAGE,
  type FakeModelCall,
  type FakeModelOptions,
  type FakeModelServer,
  type FakeStep,
  type FakeTurn,
} from './model-script.js';

/** One scripted model call as an API answers it. */
export interface ScriptedCall {
  readonly request: RecordedRequest;
  /** the parsed request body (`{}` when it is not JSON) */
  readonly body: Record<string, unknown>;
  readonly turn: FakeTurn;
  /** the turn's token counts ({@link DEFAULT_USAGE} when it names none) */
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
  readonly cwd: string | undefined;
  /** 1 for the first call answered, 2 for the next… (for ids) */
  readonly n: number;
}

/** What differs between the model APIs. */
export interface ModelApi {
  /** true for the route that answers a model call from the script */
  readonly isModelCall: (request: RecordedRequest) => boolean;
  /** the API key a request carries */
  readonly keyOf: (request: RecordedRequest) => string;
  /** the API's error body for a status */
  readonly errorBody: (status: number) => unknown;
  /** the reply to a scripted call */
  readonly answer: (call: ScriptedCall) => FakeReply;
  /** the API's other routes; `undefined` for a route it does not know */
  readonly otherRoute?: (request: RecordedRequest) => FakeReply | undefined;
}

/** A `text/event-stream` reply: one `event:`/`data:` pair per event, named by its `type`. */
export function sseReply(events: readonly Readonly<Record<string, unknown>>[]): FakeReply {
  return {
    status: 200,
    body: events.map((data) => `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`).join(''),
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  };
}

/** Starts a fake model server on 127.0.0.1 answering `api`'s model calls from `options.script`. */
export async function startScriptedModelServer(options: FakeModelOptions, api: ModelApi): Promise<FakeModelServer> {
  let steps: readonly FakeStep[] = options.script ?? [];
  let next = 0;
  const calls: FakeModelCall[] = [];
  const unknownRoutes: string[] = [];
  let failures: { status: number; remaining: number } | undefined;

  const answer = (request: RecordedRequest): FakeReply => {
    const body = (request.json ?? {}) as Record<string, unknown>;
    const stepIndex = next;
    const step = steps[stepIndex];
    next += 1;
    const cwd = cwdFromRequest(request.body);
    const turn: FakeTurn =
      step === undefined
        ? { text: options.finalText ?? 'Done.' }
        : typeof step === 'function'
          ? step({ request, body, cwd, index: stepIndex })
          : step;
    calls.push({ index: stepIndex, body, raw: request.body, turn });
    return api.answer({ request, body, turn, usage: turn.usage ?? DEFAULT_USAGE, cwd, n: calls.length });
  };

  const server = await startFakeHttpServer((request) => {
    if (api.isModelCall(request)) {
      if (options.apiKey !== undefined && api.keyOf(request) !== options.apiKey)
        return { status: 401, body: api.errorBody(401) };
      if (failures && failures.remaining > 0) {
        failures.remaining -= 1;
        return { status: failures.status, body: api.errorBody(failures.status), headers: { 'retry-after': '0' } };
      }
      return answer(request);
    }
    const other = api.otherRoute?.(request);
    if (other !== undefined) return other;
    unknownRoutes.push(`${request.method} ${request.path}`);
    return undefined;
  });

  return {
    url: server.url,
    calls,
    requests: server.requests,
    unknownRoutes,
    script(newSteps) {
      steps = newSteps;
      next = 0;
    },
    failNext(status, times = 1) {
      failures = { status, remaining: times };
    },
    received: (text) => calls.some((call) => call.raw.includes(text)),
    close: () => server.close(),
  };
}
