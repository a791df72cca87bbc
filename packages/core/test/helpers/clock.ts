import type { Clock } from '../../src/ports/runtime.js';

/** A clock the test moves by hand. */
export interface TestClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

/** A manual clock for tests, starting at `start`. */
export function testClock(start = 1_700_000_000_000): TestClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}
