import { loadavg } from 'node:os';

export interface LoadAverageSummary {
  readonly min: number;
  readonly mean: number;
  readonly max: number;
  readonly samples: number;
}

/**
 * The machine's 1-minute load average every 5 s while a scenario runs: the figures of a run on a shared
 * two-core machine mean little without it (the one at the start alone says nothing of the rest).
 */
export class LoadAverageSampler {
  readonly #samples: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  start(): void {
    this.#samples.push(loadavg()[0]!);
    this.#timer = setInterval(() => this.#samples.push(loadavg()[0]!), 5000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  summary(): LoadAverageSummary {
    const s = this.#samples;
    const round = (n: number): number => Math.round(n * 100) / 100;
    return { min: round(Math.min(...s)), mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), max: round(Math.max(...s)), samples: s.length };
  }
}
