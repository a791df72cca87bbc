import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { AgentEvent, AgentLineParser, AgentUsage, ModelErrorKind } from './events.js';
import type { Redactor } from './redact.js';

/** How a job's agent run ended. */
export type AgentRunStatus = 'succeeded' | 'failed' | 'budget_exceeded' | 'killed';

/** Limits of one run. The wall-clock timeout always applies; turns and cost when set. */
export interface AgentBudget {
  /** wall-clock limit (default 30 minutes) */
  readonly timeoutMs?: number;
  /** model turns */
  readonly maxTurns?: number;
  /** US dollars, as the CLI reports them or as {@link AgentPricing} computes them */
  readonly maxCostUsd?: number;
  /** model-server retries (429, 5xx) the runner tolerates before it stops the agent (default 6) */
  readonly maxModelRetries?: number;
}

/** Prices per million tokens, for CLIs that report tokens but no cost (Codex). */
export interface AgentPricing {
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
  readonly cachedInputPerMTok?: number;
}

/** What a run produced. */
export interface AgentRunOutcome {
  readonly status: AgentRunStatus;
  /** the agent's last message (redacted, at most 4000 characters), or why it failed */
  readonly summary: string;
  /** why it did not succeed (redacted); absent on success */
  readonly reason?: string;
  /** set when a model server error decided the outcome */
  readonly modelError?: ModelErrorKind;
  readonly usage: AgentUsage;
  /** US dollars (0 when neither reported nor priced) */
  readonly costUsd: number;
  readonly turns: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** lines of output that were not valid events (logged in the transcript and skipped) */
  readonly malformedLines: number;
  readonly durationMs: number;
  readonly transcriptFile: string;
}

/** What to run: a complete environment (nothing of the host's is inherited). */
export interface AgentProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** parses stdout lines into events; without one each line is an `output` event */
  readonly parseLine?: AgentLineParser;
  /** where the JSONL transcript goes (created, replaced) */
  readonly transcriptFile: string;
  readonly redact: Redactor;
  readonly budget?: AgentBudget;
  readonly pricing?: AgentPricing;
  readonly signal?: AbortSignal;
  /** SIGKILL follows SIGTERM after this long (default 3000 ms) */
  readonly killGraceMs?: number;
  /** named in the error when the command is not installed, e.g. `@anthropic-ai/claude-code` */
  readonly installHint?: string;
  /** called with each event after it is written to the transcript */
  readonly onEvent?: (event: AgentEvent) => void;
  /** prompt text written to stdin, then stdin closes (default: stdin is closed at once) */
  readonly stdin?: string;
}

/** A started agent process. */
export interface AgentProcess {
  readonly pid: number;
  /** resolves when the process group is gone and the transcript is flushed; never rejects */
  readonly done: Promise<AgentRunOutcome>;
  /** stops the whole process group (the outcome is `killed` with this reason) */
  stop(reason?: string): void;
}

/** Why an agent could not start. */
export interface AgentStartFailure {
  readonly reason: 'not_installed' | 'spawn_failed' | 'transcript_failed';
  readonly message: string;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_MAX_MODEL_RETRIES = 6;
const MAX_LINE_CHARS = 8 * 1024 * 1024;
const SUMMARY_CHARS = 4000;
const ZERO_USAGE: AgentUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 });

/**
 * Finds an executable on `PATH` (or checks an explicit path). `undefined` when
 * there is none, so a missing CLI is a clear error before anything starts.
 *
 * @example
 * ```ts
 * resolveExecutable('claude', process.env.PATH ?? ''); // '/usr/local/bin/claude' or undefined
 * ```
 */
export function resolveExecutable(command: string, pathVariable: string): string | undefined {
  const executable = (file: string) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return executable(command) ? path.resolve(command) : undefined;
  for (const dir of pathVariable.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function priced(usage: AgentUsage, pricing: AgentPricing | undefined): number {
  if (!pricing) return 0;
  return (
    (usage.inputTokens * pricing.inputPerMTok +
      usage.outputTokens * pricing.outputPerMTok +
      usage.cachedInputTokens * (pricing.cachedInputPerMTok ?? pricing.inputPerMTok)) /
    1_000_000
  );
}

const MODEL_ERROR_TEXT: Record<ModelErrorKind, string> = {
  unauthorized: 'the model server rejected the API key (401/403): check the key the runner was given',
  rate_limited: 'the model server kept rate-limiting the agent (429)',
  server_error: 'the model server kept failing (5xx)',
  other: 'the model server refused the request',
};

/**
 * Starts an agent CLI in its own process group with a complete environment,
 * parses its stdout line by line into {@link AgentEvent}s, writes a redacted
 * JSONL transcript, and enforces the budget: the wall-clock timeout, the turn
 * and cost limits and the model-retry limit kill the whole group (SIGTERM, then
 * SIGKILL). A 401 from the model server stops the agent at once (the CLIs
 * would retry it). A malformed line is recorded and skipped.
 *
 * @example
 * ```ts
 * const started = startAgentProcess({ command: 'claude', args: ['-p', 'hi'], cwd, env, transcriptFile, redact,
 *   parseLine: parseClaudeLine, budget: { timeoutMs: 600_000, maxTurns: 20 } });
 * if ('pid' in started) console.log((await started.done).status);
 * ```
 */
export function startAgentProcess(spec: AgentProcessSpec): AgentProcess | AgentStartFailure {
  const resolved = resolveExecutable(spec.command, spec.env.PATH ?? '');
  if (resolved === undefined) {
    const hint = spec.installHint
      ? `: install the npm package ${spec.installHint} (npm install ${spec.installHint})`
      : '';
    return { reason: 'not_installed', message: `${spec.command} is not installed or not on PATH${hint}` };
  }
  let transcript: fs.WriteStream;
  try {
    fs.mkdirSync(path.dirname(spec.transcriptFile), { recursive: true });
    transcript = fs.createWriteStream(spec.transcriptFile, { flags: 'w', mode: 0o600 });
  } catch (thrown) {
    return {
      reason: 'transcript_failed',
      message: `cannot write the transcript ${spec.transcriptFile}: ${(thrown as Error).message}`,
    };
  }
  const started = Date.now();
  const child = spawn(resolved, [...spec.args], {
    cwd: spec.cwd,
    env: { ...spec.env },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    transcript.end();
    return { reason: 'spawn_failed', message: `cannot start ${spec.command}` };
  }
  const pid = child.pid;
  const budget = spec.budget ?? {};
  const redact = spec.redact;

  let usage: AgentUsage = ZERO_USAGE;
  let turnUsage: AgentUsage = ZERO_USAGE;
  let reportedCost: number | undefined;
  let turns = 0;
  let lastTurnId: string | undefined;
  let repeatedTurn = false;
  let malformed = 0;
  let modelRetries = 0;
  let lastMessage = '';
  let lastOutput = '';
  let result: Extract<AgentEvent, { type: 'result' }> | undefined;
  let lastModelError: Extract<AgentEvent, { type: 'model_error' }> | undefined;
  let stopped: { status: AgentRunStatus; reason: string; modelError?: ModelErrorKind } | undefined;
  let graceTimer: NodeJS.Timeout | undefined;

  // Records are batched: one write per 64 KB, not one per event.
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    transcript.write(pending);
    pending = '';
  };
  const write = (record: Record<string, unknown>) => {
    pending += `${redact(JSON.stringify({ t: Date.now() - started, ...record }))}\n`;
    if (pending.length >= 65_536) flush();
  };
  const cost = () => reportedCost ?? priced(usage, spec.pricing);

  const stop = (status: AgentRunStatus, reason: string, modelError?: ModelErrorKind) => {
    if (stopped) return;
    stopped = { status, reason, ...(modelError === undefined ? {} : { modelError }) };
    write({ type: 'stopped', status, reason });
    killGroup(pid, 'SIGTERM');
    graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), spec.killGraceMs ?? 3000);
    graceTimer.unref();
  };

  const onEvent = (event: AgentEvent) => {
    write(event as unknown as Record<string, unknown>);
    switch (event.type) {
      case 'message':
        if (event.text.trim() !== '') lastMessage = event.text;
        break;
      case 'output':
        if (event.stream === 'stdout') lastOutput = event.text;
        break;
      case 'turn':
        repeatedTurn = event.id !== undefined && event.id === lastTurnId;
        lastTurnId = event.id;
        if (repeatedTurn) break;
        turns += 1;
        if (budget.maxTurns !== undefined && turns > budget.maxTurns)
          stop('budget_exceeded', `budget exceeded: more than ${budget.maxTurns} turns`);
        break;
      case 'usage':
        if (event.cumulative) {
          usage = event.usage;
        } else if (!repeatedTurn) {
          turnUsage = {
            inputTokens: turnUsage.inputTokens + event.usage.inputTokens,
            outputTokens: turnUsage.outputTokens + event.usage.outputTokens,
            cachedInputTokens: turnUsage.cachedInputTokens + event.usage.cachedInputTokens,
          };
          usage = turnUsage;
        }
        break;
      case 'cost':
        reportedCost = event.usd;
        break;
      case 'model_error':
        lastModelError = event;
        if (event.kind === 'unauthorized') {
          stop('failed', MODEL_ERROR_TEXT.unauthorized, 'unauthorized');
        } else if (event.retrying) {
          modelRetries += 1;
          if (modelRetries > (budget.maxModelRetries ?? DEFAULT_MAX_MODEL_RETRIES))
            stop('failed', `${MODEL_ERROR_TEXT[event.kind]}: gave up after ${modelRetries - 1} retries`, event.kind);
        }
        break;
      case 'result':
        result = event;
        break;
      default:
        break;
    }
    if (budget.maxCostUsd !== undefined && cost() > budget.maxCostUsd)
      stop('budget_exceeded', `budget exceeded: spent $${cost().toFixed(4)} of $${budget.maxCostUsd}`);
    try {
      spec.onEvent?.(event);
    } catch {
      /* an observer never breaks the run */
    }
  };

  const onLine = (line: string, stream: 'stdout' | 'stderr') => {
    if (line.trim() === '') return;
    if (stream === 'stderr' || spec.parseLine === undefined) {
      onEvent({ type: 'output', stream, text: line });
      return;
    }
    let events: readonly AgentEvent[] | undefined;
    try {
      events = line.length > MAX_LINE_CHARS ? undefined : spec.parseLine(line);
    } catch {
      events = undefined;
    }
    if (events === undefined) {
      malformed += 1;
      write({ type: 'malformed', length: line.length, line: line.slice(0, 200) });
      return;
    }
    for (const event of events) onEvent(event);
  };

  const lines = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') =>
    new Promise<void>((resolve) => {
      const decoder = new StringDecoder('utf8');
      let buffer = '';
      stream.on('data', (chunk: Buffer) => {
        buffer += decoder.write(chunk);
        let start = 0;
        for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n', start)) {
          onLine(buffer.slice(start, newline), name);
          start = newline + 1;
        }
        if (start > 0) buffer = buffer.slice(start);
        if (buffer.length > MAX_LINE_CHARS) {
          malformed += 1;
          write({ type: 'malformed', length: buffer.length, line: buffer.slice(0, 200) });
          buffer = '';
        }
      });
      stream.on('end', () => {
        buffer += decoder.end();
        if (buffer !== '') onLine(buffer, name);
        resolve();
      });
      stream.on('error', () => resolve());
    });

  const stdoutDone = lines(child.stdout, 'stdout');
  const stderrDone = lines(child.stderr, 'stderr');
  child.stdin.on('error', () => {});
  child.stdin.end(spec.stdin ?? '');

  const timeoutMs = budget.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(() => stop('killed', `timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => stop('killed', 'stopped');
  if (spec.signal?.aborted) onAbort();
  else spec.signal?.addEventListener('abort', onAbort, { once: true });
  write({ type: 'spawn', command: spec.command, args: spec.args, cwd: spec.cwd, pid });

  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: null, signal: 'spawn error' }));
  });

  const done = (async (): Promise<AgentRunOutcome> => {
    const exit = await exited;
    // Whatever the leader left behind in its group goes too; then the pipes close.
    killGroup(pid, 'SIGKILL');
    await Promise.race([Promise.all([stdoutDone, stderrDone]), new Promise((r) => setTimeout(r, 2000))]);
    clearTimeout(timer);
    if (graceTimer) clearTimeout(graceTimer);
    spec.signal?.removeEventListener('abort', onAbort);

    let status: AgentRunStatus;
    let reason: string | undefined;
    let modelError: ModelErrorKind | undefined;
    if (stopped) {
      ({ status, reason, modelError } = stopped);
    } else if (result?.isError) {
      const budgetHit = /max.?turns|budget/i.test(result.reason ?? '');
      status = budgetHit ? 'budget_exceeded' : 'failed';
      if (lastModelError && !budgetHit) {
        modelError = lastModelError.kind;
        reason = `${MODEL_ERROR_TEXT[lastModelError.kind]}: ${lastModelError.message}`;
      } else {
        reason = budgetHit ? `budget exceeded: ${result.reason}` : result.text || result.reason || 'the agent failed';
      }
    } else if (exit.code !== 0) {
      status = exit.code === null ? 'killed' : 'failed';
      reason = exit.code === null ? `killed by ${exit.signal ?? 'a signal'}` : `exit code ${exit.code}`;
    } else {
      status = 'succeeded';
    }
    const said = lastMessage || result?.text || lastOutput;
    const summaryText = status === 'succeeded' ? said : lastMessage || reason || '';
    const outcome: AgentRunOutcome = {
      status,
      summary: redact(summaryText).slice(0, SUMMARY_CHARS),
      ...(reason === undefined ? {} : { reason: redact(reason).slice(0, SUMMARY_CHARS) }),
      ...(modelError === undefined ? {} : { modelError }),
      usage,
      costUsd: cost(),
      turns,
      exitCode: exit.code,
      signal: exit.signal,
      malformedLines: malformed,
      durationMs: Date.now() - started,
      transcriptFile: spec.transcriptFile,
    };
    write({ type: 'outcome', ...outcome });
    flush();
    await new Promise<void>((resolve) => transcript.end(resolve));
    return outcome;
  })();

  return {
    pid,
    done,
    stop: (reason = 'stopped') => stop('killed', reason),
  };
}
