import type { Admin } from 'kafkajs';
import { benchKafka, sleep } from '../lib/kafka.ts';

/**
 * The service's consumer lag on its input, as an operator's lag monitor sees it: every `everyMs`, the
 * input's end offsets minus the group's committed offsets (exactly-once: committed with each transaction),
 * summed over partitions. Read from the broker, not from the instances, so an instance that is starting,
 * leaving or restoring cannot misreport it.
 */
export class LagWatcher {
  /** [when (ms), records behind] */
  readonly samples: Array<[number, number]> = [];
  #admin: Admin | undefined;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly o: { brokers: readonly string[]; groupId: string; topic: string; everyMs: number }) {}

  async start(): Promise<void> {
    this.#admin = benchKafka(this.o.brokers, `${this.o.groupId}-lag`).admin();
    await this.#admin.connect();
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.#admin?.disconnect().catch(() => undefined);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const lag = await this.#lag().catch(() => undefined);
      if (lag !== undefined) this.samples.push([Date.now(), lag]);
      await sleep(this.o.everyMs);
    }
  }

  async #lag(): Promise<number> {
    const admin = this.#admin!;
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(this.o.topic), admin.fetchOffsets({ groupId: this.o.groupId, topics: [this.o.topic] })]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
    return ends.reduce((sum, e) => sum + Math.max(0, Number(e.high) - (done.get(e.partition) ?? 0)), 0);
  }

  /** The largest lag sampled from `from` until `to`. */
  peak(from: number, to: number): number {
    return this.samples.filter(([t]) => t >= from && t <= to).reduce((m, [, lag]) => Math.max(m, lag), 0);
  }

  /** Median and largest lag sampled from `from` until `to` (the steady state's, before a step). */
  summary(from: number, to: number): { median: number; max: number; samples: number } {
    const lags = this.samples.filter(([t]) => t >= from && t <= to).map(([, lag]) => lag).sort((a, b) => a - b);
    return { median: lags[Math.floor(lags.length / 2)] ?? 0, max: lags.at(-1) ?? 0, samples: lags.length };
  }

  /** Waits for the first sample taken at or after `from` with lag at most `threshold`; its time, or undefined at the deadline. */
  async waitAtMost(threshold: number, from: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.samples.find(([t, lag]) => t >= from && lag <= threshold);
      if (hit) return hit[0];
      if (Date.now() > deadline) return undefined;
      await sleep(100);
    }
  }
}
