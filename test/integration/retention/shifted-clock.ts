import type { Clock } from '../../../src/streams/index.ts';

/**
 * Real time plus an offset the test moves forward: commits and punctuators keep running as with the
 * system clock, and a jump of 31 days makes the next punctuation see a month later.
 */
export class ShiftedClock implements Clock {
  #offsetMs = 0;
  now(): number {
    return Date.now() + this.#offsetMs;
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('a clock cannot go backwards');
    this.#offsetMs += ms;
  }
}
