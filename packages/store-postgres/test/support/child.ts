import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Starts `node --import tsx <script under test/support> ...args` from the repository root. */
export function runSupport(script: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${repoRoot}tsconfig.json` },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Resolves with each stdout line as it comes, through `next()`. */
export function lineReader(child: ChildProcess): { next(): Promise<string> } {
  const queued: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else queued.push(line);
    }
  });
  child.once('exit', (code, signal) => {
    for (const w of waiting.splice(0)) w(`exited ${code ?? signal}`);
  });
  return {
    next: () => {
      const line = queued.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}
