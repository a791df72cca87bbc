import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
 * it is `scan-worker.ts`, loaded through tsx's module hooks registered inside
 * the worker by a tiny bootstrap.
 */
function startWorker(input: ScanWorkerInput): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    return new Worker(new URL('./scan-worker.js', here), { workerData: input });
  }
  const target = new URL('./scan-worker.ts', here).href;
  const require = createRequire(here);
  const tsxDir = dirname(require.resolve('tsx/package.json'));
  const pkg = JSON.parse(readFileSync(join(tsxDir, 'package.json'), 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const apiPath = join(tsxDir, pkg.exports['./esm/api']?.import?.default ?? 'dist/esm/api/index.mjs');
  if (!existsSync(apiPath)) throw new Error('tsx is needed to run the scan worker from source');
  const api = pathToFileURL(apiPath).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true, workerData: input });
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
    let worker: Worker;
    try {
      worker = startWorker(input);
    } catch (thrown) {
      resolve(
        err(
          new ConveyorError(PKG, 'internal', 'the secrets scan worker could not start', {
            cause: thrown,
          }),
        ),
      );
      return;
    }
    const children = new Set<number>();
    let settled = false;
    const finish = (r: Result<SecretsScanResult, ConveyorError>, kill: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (kill) {
        killAll(children);
        void worker.terminate();
      }
      resolve(r);
    };
    const stop = (why: string) =>
      finish(err(new ConveyorError(PKG, 'timeout', `secrets scan stopped: ${why}`, { details: { deadlineMs } })), true);
    const onAbort = () => stop('the gate was aborted');
    const timer = setTimeout(() => stop(`deadline of ${deadlineMs} ms passed`), deadlineMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on(
      'message',
      (m: {
        kind: string;
        pid?: number;
        ok?: boolean;
        value?: SecretsScanResult;
        error?: { code: string; message: string };
      }) => {
        if (m.kind === 'child' && typeof m.pid === 'number') children.add(m.pid);
        if (m.kind !== 'done') return;
        if (m.ok && m.value) finish(ok(m.value), false);
        else {
          const e = m.error ?? { code: 'internal', message: 'secrets scan failed' };
          finish(err(new ConveyorError(PKG, e.code as ConveyorErrorCode, e.message)), false);
        }
        void worker.terminate();
      },
    );
    worker.on('error', (e) => {
      finish(err(new ConveyorError(PKG, 'internal', 'the secrets scan worker failed', { cause: e })), true);
    });
    worker.on('exit', (code) => {
      finish(
        err(new ConveyorError(PKG, 'internal', `the secrets scan worker exited (${code}) without a result`)),
        true,
      );
    });
  });
}
