import type { BenchAdmin } from './kafka.ts';
import { sleep } from './kafka.ts';
import { Progress } from './progress.ts';
import type { BenchChild } from './child.ts';

/** No progress for this long means the system under test is stuck (group joins and restores take seconds). */
const STALL_MS = 90_000;

export interface ThroughputMeasure {
  readonly recordsPerS: number;
  readonly seconds: number;
  readonly peakRssMb: number | undefined;
  /**
   * CPU time (user + system, every thread) the measured processes used over the same window as the throughput,
   * per input record: unlike the rate, it hardly moves with what else runs on the machine. Undefined off Linux.
   */
  readonly cpuMsPerRecord: number | undefined;
}

/**
 * One method for every system, so the figures compare: poll Kafka every 100 ms; the clock starts when
 * the first output record appears (its topic's end offset moves) and stops when the consumer group has
 * committed every input record (lag zero). So start-up (JVM, group join, topic checks) is excluded, and
 * the last commit interval is included for all alike.
 */
export async function measureThroughput(o: {
  label: string;
  child: BenchChild;
  admin: BenchAdmin;
  groupId: string;
  inputTopic: string;
  outputTopic: string;
  records: number;
  timeoutMs: number;
  /** Processes whose CPU is counted (default: `child`); every instance of a system spread over several. */
  cpuOf?: readonly BenchChild[];
}): Promise<ThroughputMeasure> {
  const cpuChildren = o.cpuOf ?? [o.child];
  const cpuNow = (): number | undefined => {
    let sum = 0;
    for (const c of cpuChildren) {
      const us = c.cpuMicros();
      if (us === undefined) return undefined;
      sum += us;
    }
    return sum;
  };
  let cpuAtFirst: number | undefined;
  const progress = new Progress(o.label);
  const deadline = Date.now() + o.timeoutMs;
  let first: number | undefined;
  let peak: number | undefined;
  let lastCommitted = -1;
  let lastMoved = Date.now();
  for (;;) {
    if (o.child.hasExited) throw new Error(`${o.label}: ${o.child.deathReport()}`);
    if (Date.now() > deadline) throw new Error(`${o.label}: not done within ${o.timeoutMs} ms`);
    const now = Date.now();
    if (first === undefined && (await o.admin.endOffsetSum(o.outputTopic)) > 0) {
      first = now;
      cpuAtFirst = cpuNow();
    }
    const committed = await o.admin.committedSum(o.groupId, o.inputTopic);
    peak = o.child.peakRssMb() ?? peak;
    if (committed !== lastCommitted) {
      lastCommitted = committed;
      lastMoved = now;
    } else if (now - lastMoved > STALL_MS) {
      // A worker whose consumer died inside a live process commits nothing more: fail loudly, not at the deadline.
      throw new Error(`${o.label}: no input committed for ${STALL_MS / 1000} s (stuck at ${committed} of ${o.records}); stderr: ${o.child.stderrTail.slice(-1500)}`);
    }
    if (first !== undefined) {
      const rate = committed / Math.max(0.001, (Date.now() - first) / 1000);
      progress.update(committed, o.records, `committed, ~${Math.round(rate)}/s, rss peak ${peak ?? '?'} MB`);
    }
    if (committed >= o.records && first !== undefined) {
      const seconds = (now - first) / 1000;
      const cpuAtEnd = cpuNow();
      const cpuMsPerRecord = cpuAtFirst === undefined || cpuAtEnd === undefined ? undefined : (cpuAtEnd - cpuAtFirst) / 1000 / o.records;
      return { recordsPerS: o.records / Math.max(0.001, seconds), seconds, peakRssMb: o.child.peakRssMb() ?? peak, cpuMsPerRecord };
    }
    await sleep(100);
  }
}
