import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ConveyorError, Result, Store } from '@conveyor/core';
import type { RacerOutcome, RacerRequest } from './store-conformance.js';

/**
 * Where a racer process opens its store, as JSON: a file path, a connection
 * string and schema, the options to open it with. The racer's `open` reads it.
 */
export type RacerTarget = Readonly<Record<string, unknown>>;

/** Options of {@link createRacerPool}. */
export interface RacerPoolOptions {
  /** the racer script, which calls {@link serveRacer} */
  readonly script: string;
  /** node flags before the script */
  readonly execArgv?: readonly string[];
  /**
   * Runs a TypeScript `script` through tsx (`--import tsx`) with this
   * tsconfig's paths (`TSX_TSCONFIG_PATH`), so `@conveyor/*` resolves to sources.
   */
  readonly tsconfig?: string;
  /** working folder of the racers (default: this process's) */
  readonly cwd?: string;
  /** environment of the racers (default: this process's) */
  readonly env?: NodeJS.ProcessEnv;
}

/** A set of long-lived racer processes, started once and reused by every race. */
export interface RacerPool {
  /**
   * Runs `request` in `count` real processes, each on the store `target`
   * names: every racer opens its store first, then all are released at the
   * same moment. Resolves to what each saw, in racer order.
   */
  race(target: RacerTarget, request: RacerRequest, count: number): Promise<RacerOutcome[]>;
  /** Ends the processes. */
  close(): void;
}

interface Racer {
  readonly child: ChildProcess;
  /** resolves with the next line the racer prints; rejects once it exited */
  nextLine(): Promise<string>;
}

function startRacer(options: RacerPoolOptions): Racer {
  const tsx = options.tsconfig === undefined ? [] : ['--import', 'tsx'];
  const env = options.env ?? process.env;
  const child = spawn(process.execPath, [...tsx, ...(options.execArgv ?? []), options.script], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: options.tsconfig === undefined ? env : { ...env, TSX_TSCONFIG_PATH: options.tsconfig },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const queued: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let stderr = '';
  let buffer = '';
  let exited: Error | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const w = waiting.shift();
      if (w) w.resolve(line);
      else queued.push(line);
    }
  });
  const onGone = (why: string): void => {
    exited = new Error(`racer process ${why}: ${stderr}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  };
  child.on('error', (e) => onGone(`failed: ${e.message}`));
  child.on('exit', (code, signal) => onGone(`exited ${code ?? signal}`));
  return {
    child,
    nextLine: () => {
      const line = queued.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (exited) return Promise.reject(exited);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}

/**
 * A pool of racer processes for `storeConformance`'s `spawnRacers` and a
 * store's own cross-process tests; processes start on first use. Each runs
 * `script`, which calls {@link serveRacer}.
 *
 * @example
 * ```ts
 * const pool = createRacerPool({ script: fileURLToPath(new URL('./racer.ts', import.meta.url)), tsconfig: '/repo/tsconfig.json' });
 * storeConformance('sqlite', open, { spawnRacers: (store, request, n) => pool.race({ path: store.path }, request, n) });
 * afterAll(() => pool.close());
 * ```
 */
export function createRacerPool(options: RacerPoolOptions): RacerPool {
  const racers: Racer[] = [];
  return {
    async race(target, request, count) {
      while (racers.length < count) racers.push(startRacer(options));
      const used = racers.slice(0, count);
      used.forEach((r, index) => {
        r.child.stdin?.write(`${JSON.stringify({ type: 'prepare', target, index, request })}\n`);
      });
      const prepared = await Promise.all(used.map((r) => r.nextLine()));
      const failed = prepared.find((line) => line !== 'ready');
      if (failed !== undefined) throw new Error(`a racer could not open ${JSON.stringify(target)}: ${failed}`);
      for (const r of used) r.child.stdin?.write(`${JSON.stringify({ type: 'go' })}\n`);
      const lines = await Promise.all(used.map((r) => r.nextLine()));
      return lines.map((line) => JSON.parse(line) as RacerOutcome);
    },
    close() {
      for (const r of racers.splice(0)) {
        r.child.stdin?.end();
        if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      }
    },
  };
}

/**
 * Performs one {@link RacerRequest} as racer `index` and reports what it saw
 * (an error becomes `ok: false` with its message).
 *
 * @example
 * ```ts
 * const outcome = await performRacerRequest(store, 0, { kind: 'claimJobs', maxConcurrency: 2, now: Date.now() });
 * ```
 */
export async function performRacerRequest(store: Store, index: number, request: RacerRequest): Promise<RacerOutcome> {
  if (request.kind === 'createTaskIfAbsent') {
    const res = await store.createTaskIfAbsent(request.input);
    return res.ok
      ? { index, ok: true, created: res.value.created, taskId: res.value.task.id }
      : { index, ok: false, error: res.error.message };
  }
  if (request.kind === 'claimJobs') {
    const res = await store.claimJobs({ maxConcurrency: request.maxConcurrency, now: request.now });
    return res.ok
      ? { index, ok: true, claimedJobIds: res.value.map((j) => j.id) }
      : { index, ok: false, error: res.error.message };
  }
  const res = await store.finishJob({
    jobId: request.jobId,
    status: 'succeeded',
    exitCode: index,
    reason: `racer ${index}`,
    now: request.now,
  });
  return res.ok ? { index, ok: true, won: res.value.won } : { index, ok: false, error: res.error.message };
}

/**
 * The body of a racer script: reads one JSON command per line on stdin —
 * `prepare` (opens the store its target names with `open`, prints `ready`),
 * then `go` (performs the request once, closes the store, prints the outcome
 * as JSON) — and exits when stdin closes. Opening before `go` lets the pool
 * release every racer at the same moment.
 *
 * @example
 * ```ts
 * // racer.ts
 * serveRacer((target) => createSqliteStore({ path: String(target.path) }));
 * ```
 */
export function serveRacer(
  open: (target: RacerTarget) => Result<Store, ConveyorError> | Promise<Result<Store, ConveyorError>>,
): void {
  let prepared: { store: Store; index: number; request: RacerRequest } | undefined;
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const command = JSON.parse(line) as
      | { type: 'prepare'; target: RacerTarget; index: number; request: RacerRequest }
      | { type: 'go' };
    if (command.type === 'prepare') {
      const opened = await open(command.target);
      if (!opened.ok) {
        say(JSON.stringify({ index: command.index, ok: false, error: opened.error.message }));
        return;
      }
      prepared = { store: opened.value, index: command.index, request: command.request };
      say('ready');
      return;
    }
    const current = prepared;
    prepared = undefined;
    if (!current) {
      say(JSON.stringify({ index: -1, ok: false, error: 'go without prepare' }));
      return;
    }
    const outcome = await performRacerRequest(current.store, current.index, current.request);
    await current.store.close();
    say(JSON.stringify(outcome));
  });
  lines.on('close', () => process.exit(0));
}
