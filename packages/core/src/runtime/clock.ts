import type { Clock } from '../ports/runtime.js';

/**
 * The real time (`Date.now()`).
 *
 * @example
 * ```ts
 * const registry = createGateRegistry({ clock: systemClock });
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock tests move by hand. */
export interface ManualClock extends Clock {
  /** Sets the time (epoch ms). */
  set(epochMs: number): void;
  /** Moves the time forward by `ms` (a negative `ms` moves it back); returns the new time. */
  advance(ms: number): number;
}

/**
 * A clock that only moves when told to: for tests of daemons, leases and durations.
 *
 * @example
 * ```ts
 * const clock = createManualClock(Date.parse('2025-01-01T00:00:00Z'));
 * clock.advance(60_000);
 * ```
 */
export function createManualClock(start = 0): ManualClock {
  let current = start;
  return {
    now: () => current,
    set(epochMs) {
      current = epochMs;
    },
    advance(ms) {
      current += ms;
      return current;
    },
  };
}
