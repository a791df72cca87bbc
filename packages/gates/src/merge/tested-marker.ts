// What the merge gate remembers between runs in its local clone: the trees
// that passed the retest and the rebases it made of a decided head. The clone
// is within reach of the code the gate judges (the retest runs the branch's
// tests in a worktree of it), so with a `key` every line carries an HMAC and a
// line that does not verify is ignored: the merge gate keeps its key in
// memory only, so a branch cannot forge "already green" or "already merged".
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MARKER_FILE = 'conveyor-green-retests';
const REBASE_FILE = 'conveyor-rebases';
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A key that authenticates marker lines (kept in memory by its owner). */
export type MarkerKey = string | Uint8Array;

function commandKey(command: string): string {
  return createHash('sha256').update(command).digest('hex').slice(0, 16);
}

function seal(payload: string, key: MarkerKey | undefined): string {
  if (key === undefined) return payload;
  return `${payload} ${createHmac('sha256', key).update(payload).digest('hex').slice(0, 32)}`;
}

/** The payloads of the lines of `file` that verify under `key` (every line when no key). */
function readSealed(path: string, fields: number, key: MarkerKey | undefined): string[][] {
  if (!existsSync(path)) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    if (parts.length !== fields + (key === undefined ? 0 : 1)) continue;
    const payload = parts.slice(0, fields);
    if (key !== undefined && seal(payload.join(' '), key) !== line) continue;
    out.push(payload);
  }
  return out;
}

function append(path: string, line: string): boolean {
  try {
    appendFileSync(path, `${line}\n`);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when `sha` already passed `command` in this local clone (recorded by
 * {@link recordGreenRetest} with the same `key`). A re-run at the same sha
 * skips the retest.
 *
 * @example
 * ```ts
 * const key = randomBytes(32);
 * if (!hasGreenRetest(cloneDir, head, 'npm test', key)) await retest('npm test', { cwd });
 * ```
 */
export function hasGreenRetest(gitDir: string, sha: string, command: string, key?: MarkerKey): boolean {
  const wanted = commandKey(command);
  return readSealed(join(gitDir, MARKER_FILE), 2, key).some(([s, c]) => s === sha && c === wanted);
}

/**
 * Records that `sha` passed `command` (one line in a file of the clone's git
 * dir, sealed with `key` when given).
 *
 * @example
 * ```ts
 * recordGreenRetest(cloneDir, head, 'npm test', key);
 * ```
 */
export function recordGreenRetest(gitDir: string, sha: string, command: string, key?: MarkerKey): boolean {
  if (!SHA.test(sha)) return false;
  return append(join(gitDir, MARKER_FILE), seal(`${sha} ${commandKey(command)}`, key));
}

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
 * line in a file of the clone's git dir, sealed with `key` when given). The
 * merge gate reads it back to tell "main already contains this decision's
 * head" (exactly this commit or its recorded rebase) from "main contains an
 * older head of the same branch".
 *
 * @example
 * ```ts
 * recordRebase(cloneDir, { head: decided, base: mainSha, rebased: newHead }, key);
 * ```
 */
export function recordRebase(gitDir: string, rebase: RecordedRebase, key?: MarkerKey): boolean {
  if (![rebase.head, rebase.base, rebase.rebased].every((sha) => SHA.test(sha))) return false;
  return append(join(gitDir, REBASE_FILE), seal(`${rebase.head} ${rebase.base} ${rebase.rebased}`, key));
}

/**
 * Every recorded rebase of the decided `head` that verifies under `key`,
 * oldest first (empty when none or the file is unreadable).
 *
 * @example
 * ```ts
 * const mine = rebasesOf(cloneDir, decided, key).map((r) => r.rebased);
 * ```
 */
export function rebasesOf(gitDir: string, head: string, key?: MarkerKey): readonly RecordedRebase[] {
  return readSealed(join(gitDir, REBASE_FILE), 3, key)
    .filter(([h]) => h === head)
    .map(([h = '', base = '', rebased = '']) => ({ head: h, base, rebased }));
}
