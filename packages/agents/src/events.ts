/** Token counts of a run (or of one model call). */
export interface AgentUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** input tokens served from the provider's prompt cache */
  readonly cachedInputTokens: number;
}

/** What a model server's error was, as far as the agent's stream tells. */
export type ModelErrorKind = 'unauthorized' | 'rate_limited' | 'server_error' | 'other';

/**
 * One typed event parsed from an agent's output stream. Every runner maps its
 * CLI's own format onto this union, so transcripts, budgets and summaries work
 * the same for Claude Code, Codex and a plain command.
 */
export type AgentEvent =
  /** the agent started (session id, model) */
  | { readonly type: 'start'; readonly sessionId?: string; readonly model?: string }
  /** an assistant message (text the model wrote) */
  | { readonly type: 'message'; readonly text: string }
  /** the model asked for a tool */
  | { readonly type: 'tool_call'; readonly id: string; readonly name: string; readonly input: unknown }
  /** a tool's answer */
  | { readonly type: 'tool_result'; readonly id: string; readonly output: string; readonly isError: boolean }
  /** one model turn (counted against the turn budget); events with the same `id` are one turn */
  | { readonly type: 'turn'; readonly id?: string }
  /** token counts; `cumulative` when the numbers are totals of the run so far */
  | { readonly type: 'usage'; readonly usage: AgentUsage; readonly cumulative: boolean }
  /** money spent so far, as the CLI reports it */
  | { readonly type: 'cost'; readonly usd: number }
  /** the model server refused a call; `retrying` while the CLI retries on its own */
  | {
      readonly type: 'model_error';
      readonly kind: ModelErrorKind;
      readonly status?: number;
      readonly message: string;
      readonly retrying: boolean;
    }
  /** the run's end as the agent reports it */
  | { readonly type: 'result'; readonly text: string; readonly isError: boolean; readonly reason?: string }
  /** a plain output line (plain command runner, stderr) */
  | { readonly type: 'output'; readonly stream: 'stdout' | 'stderr'; readonly text: string };

/** The name of an {@link AgentEvent}. */
export type AgentEventType = AgentEvent['type'];

/** Parses one line of an agent's stdout into events; throws or returns `undefined` for a malformed line. */
export type AgentLineParser = (line: string) => readonly AgentEvent[] | undefined;

/** Classifies an HTTP status of a model server. */
export function modelErrorKind(status: number | undefined, message = ''): ModelErrorKind {
  if (status === 401 || status === 403 || /\b40[13]\b|unauthori[sz]ed|authentication|invalid.*api.?key/i.test(message))
    return 'unauthorized';
  if (status === 429 || /\b429\b|rate.?limit|too many requests/i.test(message)) return 'rate_limited';
  if ((status !== undefined && status >= 500) || /\b5\d\d\b|server.?error|overloaded|high demand/i.test(message))
    return 'server_error';
  return 'other';
}
