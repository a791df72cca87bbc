import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConveyorError, type ConveyorErrorCode, err, ok, type Result } from '@conveyor/core';
import type { ScanWorkerInput } from './scan-worker.js';
import type { ScanSecretsOptions, SecretsScanResult } from './secrets.js';

const PKG = '@conveyor/gates';

/** Options of {@link scanSecretsOffThread}. */
export interface OffThreadScanOptions extends Omit<ScanSecretsOptions, 'onChild'> {
  /** the hard deadline in ms: the worker and its git processes are killed when it passes */
  readonly deadlineMs: number;
}

/**
 * How the worker is started. From the built package (`dist/`) the worker is
 * the bundled `scan-worker.js` next to this code. From source (tests, `tsx`)
 * `scan-worker.ts` is bundled once per process with esbuild (a dev
 * dependency) into `node_modules/.cache`, so each scan starts in
 * milliseconds; without esbuild, tsx's hooks are registered inside the worker.
 */
async function startWorker(input: ScanWorkerInput): Promise<Worker> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./scan-worker.js', here), { workerData: input });
  const bundled = await sourceWorkerBundle();
  if (bundled) return new Worker(bundled, { workerData: input });
  const target = new URL('./scan-worker.ts', here).href;
  const require = createRequire(here);
  const tsxDir = dirname(require.resolve('tsx/package.json'));
  const pkg = JSON.parse(readFileSync(join(tsxDir, 'package.json'), 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const apiPath = join(tsxDir, pkg.exports['./esm/api']?.import?.default ?? 'dist/esm/api/index.mjs');
  if (!existsSync(apiPath)) throw new Error('esbuild or tsx is needed to run the scan worker from source');
  const api = pathToFileURL(apiPath).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true, workerData: input });
}

let sourceBundle: Promise<URL | undefined> | undefined;

function sourceWorkerBundle(): Promise<URL | undefined> {
  sourceBundle ??= (async () => {
    const entry = fileURLToPath(new URL('./scan-worker.ts', import.meta.url));
    const packagesDir = join(dirname(entry), '..', '..', '..');
    const coreSource = join(packagesDir, 'core', 'src', 'index.ts');
    const cacheDir = join(packagesDir, '..', 'node_modules', '.cache', 'conveyor-scan-worker');
    try {
      const name = 'esbuild';
      const esbuild = (await import(name)) as {
        build(options: Record<string, unknown>): Promise<unknown>;
      };
      mkdirSync(cacheDir, { recursive: true });
      const outfile = join(cacheDir, `scan-worker-${process.pid}-${randomUUID()}.mjs`);
      await esbuild.build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        // the workspace's own core, from source (its dist may be stale)
        ...(existsSync(coreSource) ? { alias: { '@conveyor/core': coreSource } } : {}),
        logLevel: 'silent',
      });
      process.once('exit', () => rmSync(outfile, { force: true }));
      return pathToFileURL(outfile);
    } catch {
      return undefined;
    }
  })();
  return sourceBundle;
}

function killAll(pids: ReadonlySet<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Runs {@link scanSecrets} in a worker thread with a hard deadline, so no
 * input can stall the host's event loop (invariant 11): when `deadlineMs`
 * passes or `signal` aborts, the worker is terminated (a regex in progress
 * stops with it) and every git process it started is killed; the result is a
 * `timeout` error. Never rejects.
 *
 * @example
 * ```ts
 * const scan = await scanSecretsOffThread({ repoDir, range, deadlineMs: 60_000, signal: ctx.signal });
 * ```
 */
export function scanSecretsOffThread(options: OffThreadScanOptions): Promise<Result<SecretsScanResult, ConveyorError>> {
  const { signal, deadlineMs, ...rest } = options;
  const input: ScanWorkerInput = rest;
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(err(new ConveyorError(PKG, 'timeout', 'secrets scan not started: the gate was aborted')));
      return;
    }
    const children = new Set<number>();
    let worker: Worker | undefined;
    let settled = false;
    const finish = (r: Result<SecretsScanResult, ConveyorError>, kill: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (kill) killAll(children);
      void worker?.terminate();
      resolve(r);
    };
    const stop = (why: string) =>
      finish(err(new ConveyorError(PKG, 'timeout', `secrets scan stopped: ${why}`, { details: { deadlineMs } })), true);
    const onAbort = () => stop('the gate was aborted');
    // the deadline covers the worker's start too
    const timer = setTimeout(() => stop(`deadline of ${deadlineMs} ms passed`), deadlineMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    startWorker(input).then(
      (started) => {
        worker = started;
        if (settled) {
          void started.terminate();
          return;
        }
        started.on('message', (m: WorkerMessage) => {
          if (m.kind === 'child' && typeof m.pid === 'number') children.add(m.pid);
          if (m.kind !== 'done') return;
          if (m.ok && m.value) finish(ok(m.value), false);
          else {
            const e = m.error ?? { code: 'internal', message: 'secrets scan failed' };
            finish(err(new ConveyorError(PKG, e.code as ConveyorErrorCode, e.message)), false);
          }
        });
        started.on('error', (e) => {
          finish(err(new ConveyorError(PKG, 'internal', 'the secrets scan worker failed', { cause: e })), true);
        });
        started.on('exit', (code) => {
          finish(
            err(new ConveyorError(PKG, 'internal', `the secrets scan worker exited (${code}) without a result`)),
            true,
          );
        });
      },
      (thrown: unknown) =>
        finish(
          err(new ConveyorError(PKG, 'internal', 'the secrets scan worker could not start', { cause: thrown })),
          false,
        ),
    );
  });
}

/** What the worker posts. */
interface WorkerMessage {
  readonly kind: string;
  readonly pid?: number;
  readonly ok?: boolean;
  readonly value?: SecretsScanResult;
  readonly error?: { readonly code: string; readonly message: string };
}
