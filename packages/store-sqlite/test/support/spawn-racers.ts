import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RacerOutcome, RacerRequest } from '@conveyor/testkit';

const racerScript = fileURLToPath(new URL('./racer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

interface Racer {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly ready: Promise<void>;
  readonly done: Promise<string>;
}

function startRacer(path: string, index: number, request: RacerRequest): Racer {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', racerScript, path, String(index), JSON.stringify(request)],
    {
      cwd: repoRoot,
      env: { ...process.env, TSX_TSCONFIG_PATH: `${repoRoot}tsconfig.json` },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      // "ready", or an outcome line when opening failed: either way it has stopped getting ready
      onReady();
      nl = buffer.indexOf('\n');
    }
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const last = lines.filter((l) => l !== 'ready').at(-1);
      if (last === undefined) reject(new Error(`racer ${index} exited ${code} without an outcome: ${stderr}`));
      else resolve(last);
    });
  });
  return { child, lines, ready, done };
}

/**
 * Starts `count` real node processes on the database file at `path`; once all
 * of them have opened the store, tells them all to go at once.
 */
export async function spawnSqliteRacers(path: string, request: RacerRequest, count: number): Promise<RacerOutcome[]> {
  const racers = Array.from({ length: count }, (_, i) => startRacer(path, i, request));
  try {
    await Promise.race([
      Promise.all(racers.map((r) => r.ready)),
      Promise.all(racers.map((r) => r.done)).then(() => undefined),
    ]);
    for (const r of racers) r.child.stdin?.end('go\n');
    const lines = await Promise.all(racers.map((r) => r.done));
    return lines.map((line) => JSON.parse(line) as RacerOutcome);
  } finally {
    for (const r of racers) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
}
