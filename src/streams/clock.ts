/** Where the runtime reads wall-clock time: commit interval, punctuators. Tests pass a ManualClock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (TopologyTestDriver.advanceWallClockTime). */
export class ManualClock implements Clock {
  #now: number;
  constructor(startMs = 0) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): number {
    if (ms < 0) throw new RangeError('a clock cannot go backwards');
    this.#now += ms;
    return this.#now;
  }
}
