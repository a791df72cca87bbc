import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The path of a file under `test/fixtures`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** Starts `node --import tsx <script> ...args` with stdout piped. */
export function runTs(script: string, args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/** Resolves with the exit code (or the signal) of a child. */
export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Resolves with the first stdout line of a child. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const at = buffer.indexOf('\n');
      if (at >= 0) resolve(buffer.slice(0, at));
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing a line`)));
  });
}

/** Starts `node <script> ...args` (a plain `.js`/`.mjs` file, no loader) with stdout piped. */
export function runJs(script: string, args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/** The stdout lines of a child, as they arrive. */
export interface LineCollector {
  /** every line so far */
  readonly lines: string[];
  /** resolves once stdout ended */
  readonly closed: Promise<void>;
  /** resolves true when `line` is (or was) printed, false when stdout ends first */
  waitFor(line: string): Promise<boolean>;
}

/** Collects every stdout line of a child. */
export function collectLines(child: ChildProcess): LineCollector {
  const lines: string[] = [];
  const waiters: { line: string; resolve: (seen: boolean) => void }[] = [];
  let ended = false;
  let buffer = '';
  const push = (line: string): void => {
    lines.push(line);
    for (const w of waiters.filter((x) => x.line === line)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(true);
    }
  };
  const closed = new Promise<void>((resolve) => {
    const end = (): void => {
      if (buffer !== '') push(buffer);
      ended = true;
      for (const w of waiters.splice(0)) w.resolve(false);
      resolve();
    };
    if (!child.stdout) {
      end();
      return;
    }
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let at = buffer.indexOf('\n');
      while (at >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        push(line);
        at = buffer.indexOf('\n');
      }
    });
    child.stdout.once('close', end);
  });
  return {
    lines,
    closed,
    waitFor(line) {
      if (lines.includes(line)) return Promise.resolve(true);
      if (ended) return Promise.resolve(false);
      return new Promise((resolve) => waiters.push({ line, resolve }));
    },
  };
}
