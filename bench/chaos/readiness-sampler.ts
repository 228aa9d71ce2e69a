import { sleep } from '../lib/kafka.ts';

/** One distinct answer of /health or /ready during a scenario, and when it was first and last seen. */
export interface SampledAnswer {
  readonly route: '/health' | '/ready';
  readonly answer: string;
  count: number;
  first_s: number;
  last_s: number;
}

/**
 * Asks every live instance's /health and /ready once a second and keeps each distinct answer (status,
 * and /ready's state and reason, numbers and times blanked), so the results show what an operator saw
 * during each fault: whether readiness said why, and whether /health said what was down.
 */
export class ReadinessSampler {
  readonly #answers = new Map<string, SampledAnswer>();
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly livePorts: () => number[], private readonly t0: number) {}

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  answers(): SampledAnswer[] {
    return [...this.#answers.values()].sort((a, b) => a.first_s - b.first_s);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      await Promise.all(this.livePorts().flatMap((port) => [this.#ask(port, '/health'), this.#ask(port, '/ready')]));
      await sleep(1000);
    }
  }

  async #ask(port: number, route: '/health' | '/ready'): Promise<void> {
    let answer: string;
    try {
      const res = await fetch(`http://127.0.0.1:${port}${route}`, { signal: AbortSignal.timeout(3000) });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const said = route === '/ready' ? { status: body.status, state: body.state, reason: body.reason } : body;
      answer = `${res.status} ${JSON.stringify(said).replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\d+/g, '#')}`.slice(0, 400);
    } catch {
      return; // not listening (killed, restarting): the API prober counts those
    }
    const key = `${route} ${answer}`;
    const now = (Date.now() - this.t0) / 1000;
    const seen = this.#answers.get(key);
    if (seen) {
      seen.count++;
      seen.last_s = now;
    } else {
      this.#answers.set(key, { route, answer, count: 1, first_s: now, last_s: now });
    }
  }
}
