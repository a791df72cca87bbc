import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RacerOutcome, RacerRequest } from '@conveyor/testkit';

const racerScript = fileURLToPath(new URL('./racer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

interface Racer {
  readonly child: ChildProcess;
  /** resolves with the next line the racer prints */
  nextLine(): Promise<string>;
}

function startRacer(): Racer {
  const child = spawn(process.execPath, ['--import', 'tsx', racerScript], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${repoRoot}tsconfig.json` },
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

/** A set of long-lived racer processes, started once and reused by every cross-process case. */
export interface RacerPool {
  /** Runs `request` in `count` real processes on the store at (`url`, `schema`), released at the same moment. */
  race(url: string, schema: string, request: RacerRequest, count: number): Promise<RacerOutcome[]>;
  /** Ends the processes. */
  close(): void;
}

/** Creates a pool; processes start on first use. */
export function createRacerPool(): RacerPool {
  const racers: Racer[] = [];
  return {
    async race(url, schema, request, count) {
      while (racers.length < count) racers.push(startRacer());
      const used = racers.slice(0, count);
      used.forEach((r, index) => {
        r.child.stdin?.write(`${JSON.stringify({ type: 'prepare', url, schema, index, request })}\n`);
      });
      const prepared = await Promise.all(used.map((r) => r.nextLine()));
      const failed = prepared.find((line) => line !== 'ready');
      if (failed !== undefined) throw new Error(`a racer could not open schema ${schema}: ${failed}`);
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
