import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MARKER_FILE = 'conveyor-green-retests';

function commandKey(command: string): string {
  return createHash('sha256').update(command).digest('hex').slice(0, 16);
}

/**
 * True when `sha` already passed `command` in this local clone (recorded by
 * {@link recordGreenRetest}). A re-run at the same sha skips the retest.
 *
 * @example
 * ```ts
 * if (!hasGreenRetest(cloneDir, head, 'npm test')) await retest('npm test', { cwd });
 * ```
 */
export function hasGreenRetest(gitDir: string, sha: string, command: string): boolean {
  const path = join(gitDir, MARKER_FILE);
  if (!existsSync(path)) return false;
  const wanted = `${sha} ${commandKey(command)}`;
  try {
    return readFileSync(path, 'utf8').split('\n').includes(wanted);
  } catch {
    return false;
  }
}

/**
 * Records that `sha` passed `command` (one line in a file of the clone's git dir).
 *
 * @example
 * ```ts
 * recordGreenRetest(cloneDir, head, 'npm test');
 * ```
 */
export function recordGreenRetest(gitDir: string, sha: string, command: string): boolean {
  try {
    appendFileSync(join(gitDir, MARKER_FILE), `${sha} ${commandKey(command)}\n`);
    return true;
  } catch {
    return false;
  }
}
