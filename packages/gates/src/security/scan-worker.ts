// The worker-thread entry of the secrets scan: runs `scanSecrets` off the
// host's main thread and posts the result. The host kills this thread at its
// deadline; the pids of the git processes started here are posted first so
// the host can end them too.
import { parentPort, workerData } from 'node:worker_threads';
import { type ScanSecretsOptions, scanSecrets } from './secrets.js';

/** What the host sends: the scan options without the signal (the host's deadline kills the thread instead). */
export type ScanWorkerInput = Omit<ScanSecretsOptions, 'signal' | 'onChild'>;

const port = parentPort;
if (port) {
  const input = workerData as ScanWorkerInput;
  const fail = (code: string, message: string) =>
    port.postMessage({ kind: 'done', ok: false, error: { code, message } });
  scanSecrets({ ...input, onChild: (pid) => port.postMessage({ kind: 'child', pid }) }).then(
    (result) => {
      if (result.ok) port.postMessage({ kind: 'done', ok: true, value: result.value });
      else fail(result.error.code, result.error.message);
    },
    (thrown: unknown) =>
      fail('internal', `secrets scan threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`),
  );
}
