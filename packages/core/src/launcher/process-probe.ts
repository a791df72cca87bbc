import { readFileSync } from 'node:fs';
import type { ProcessProbe } from '../ports/runtime.js';
import { conveyorError } from '../result/errors.js';
import { err, ok } from '../result/result.js';

/**
 * A {@link ProcessProbe} over `process.kill(pid, 0)`: `ESRCH` means dead,
 * `EPERM` means alive (it exists but belongs to someone else). On Linux a
 * zombie (exited, never reaped because its parent died and nothing reaps
 * orphans) counts as dead, read from `/proc/<pid>/stat`.
 *
 * @example
 * ```ts
 * const probe = createProcessProbe();
 * const alive = await probe.isAlive(job.pid);
 * ```
 */
export function createProcessProbe(): ProcessProbe {
  return Object.freeze({
    async isAlive(pid: number) {
      if (!Number.isInteger(pid) || pid <= 0) {
        return err(conveyorError('@conveyor/core', 'invalid_input', `pid must be a positive integer, got ${pid}`));
      }
      try {
        process.kill(pid, 0);
        return ok(!isZombie(pid));
      } catch (thrown) {
        const code = (thrown as NodeJS.ErrnoException).code;
        if (code === 'ESRCH') return ok(false);
        if (code === 'EPERM') return ok(true);
        return err(
          conveyorError('@conveyor/core', 'internal', `cannot probe pid ${pid}: ${String(code)}`, { cause: thrown }),
        );
      }
    },
  } satisfies ProcessProbe);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}
