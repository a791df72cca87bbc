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

const REBASE_FILE = 'conveyor-rebases';
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** One rebase the merge gate made of a decided head: `head` on `base` became `rebased`. */
export interface RecordedRebase {
  /** the decided head (the task branch's commit the decision judged) */
  readonly head: string;
  /** the base branch commit it was rebased onto */
  readonly base: string;
  /** the rebased commit (the tree that was retested and is merged) */
  readonly rebased: string;
}

/**
 * Records that the decided `head` was rebased onto `base` as `rebased` (one
 * line in a file of the clone's git dir). The merge gate reads it back to
 * tell "main already contains this decision's head" (exactly this commit or
 * its recorded rebase) from "main contains an older head of the same branch".
 *
 * @example
 * ```ts
 * recordRebase(cloneDir, { head: decided, base: mainSha, rebased: newHead });
 * ```
 */
export function recordRebase(gitDir: string, rebase: RecordedRebase): boolean {
  if (![rebase.head, rebase.base, rebase.rebased].every((sha) => SHA.test(sha))) return false;
  try {
    appendFileSync(join(gitDir, REBASE_FILE), `${rebase.head} ${rebase.base} ${rebase.rebased}\n`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every recorded rebase of the decided `head`, oldest first (empty when none
 * or the file is unreadable).
 *
 * @example
 * ```ts
 * const mine = rebasesOf(cloneDir, decided).map((r) => r.rebased);
 * ```
 */
export function rebasesOf(gitDir: string, head: string): readonly RecordedRebase[] {
  const path = join(gitDir, REBASE_FILE);
  if (!existsSync(path)) return [];
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((parts) => parts.length === 3 && parts[0] === head)
      .map(([h = '', base = '', rebased = '']) => ({ head: h, base, rebased }));
  } catch {
    return [];
  }
}
