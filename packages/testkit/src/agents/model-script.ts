import type { RecordedRequest } from '../http/fake-server.js';

/** A tool call a scripted model makes; each fake maps it onto its CLI's own tools. */
export type FakeToolCall =
  /** create or replace a file (relative paths resolve against the agent's working directory) */
  | { readonly kind: 'write'; readonly path: string; readonly content: string }
  /** run a shell command in the working directory */
  | { readonly kind: 'bash'; readonly command: string }
  /** a tool by its wire name and input, as the CLI defines it */
  | { readonly kind: 'raw'; readonly name: string; readonly input: unknown };

/** One scripted model answer. */
export interface FakeTurn {
  /** text the model writes (before the tool call, if any) */
  readonly text?: string;
  /** the tool the model calls; without one the turn ends the run */
  readonly tool?: FakeToolCall;
  /** token counts the fake reports for this answer (default 100 in, 20 out) */
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
}

/** What a scripted step sees: the request and the agent's working directory, when the request names it. */
export interface FakeTurnContext {
  readonly request: RecordedRequest;
  /** the parsed request body */
  readonly body: Record<string, unknown>;
  /** the working directory the CLI told the model about */
  readonly cwd: string | undefined;
  /** 0 for the first model call of the script */
  readonly index: number;
}

/** A script step: a fixed answer or one computed from the request. */
export type FakeStep = FakeTurn | ((context: FakeTurnContext) => FakeTurn);

/** One model call the fake answered. */
export interface FakeModelCall {
  readonly index: number;
  readonly body: Record<string, unknown>;
  /** the request body as sent, to search for text the agent received */
  readonly raw: string;
  readonly turn: FakeTurn;
}

/** The model server fakes' shared options. */
export interface FakeModelOptions {
  /** the scripted answers, in order; after the last one the model answers `finalText` */
  readonly script?: readonly FakeStep[];
  /** default `Done.` */
  readonly finalText?: string;
  /** when set, any other key gets a 401 */
  readonly apiKey?: string;
}

/** A running fake model server. */
export interface FakeModelServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** every model call answered from the script, in order */
  readonly calls: FakeModelCall[];
  /** every request received (faulted ones and unknown routes included) */
  readonly requests: RecordedRequest[];
  /** `METHOD /path` of requests no route knew (answered 404) */
  readonly unknownRoutes: string[];
  /** replaces the script and starts it again */
  script(steps: readonly FakeStep[]): void;
  /** the next `times` model calls answer `status` (429 with `retry-after: 0`, 5xx, 401…) */
  failNext(status: number, times?: number): void;
  /** true when some model call's request body contains `text` */
  received(text: string): boolean;
  close(): Promise<void>;
}

/** Finds the working directory a CLI told the model about in its request. */
export function cwdFromRequest(raw: string): string | undefined {
  const patterns = [/Primary working directory: ([^\n\\"]+)/, /<cwd>([^<]+)<\/cwd>/];
  for (const pattern of patterns) {
    const match = pattern.exec(raw);
    if (match?.[1]) return match[1].trim();
  }
  return undefined;
}

/** Token counts a scripted turn reports when it names none. */
export const DEFAULT_USAGE = Object.freeze({ inputTokens: 100, outputTokens: 20 });
