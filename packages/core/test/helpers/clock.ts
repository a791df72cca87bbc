import { createManualClock, type ManualClock } from '../../src/runtime/clock.js';

/** The tests' manual clock. */
export type TestClock = ManualClock;

/** A manual clock for tests, starting at a fixed, realistic epoch. */
export function testClock(start = 1_700_000_000_000): TestClock {
  return createManualClock(start);
}
