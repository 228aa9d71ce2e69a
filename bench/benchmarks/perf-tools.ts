import { BenchChild } from '../lib/child.ts';

/** Kafka's own kafka-producer-perf-test / kafka-consumer-perf-test, run from the stack's jars. */
export async function producerPerf(o: { kafkaLibs: string; brokers: string[]; topic: string; records: number; recordSize: number }): Promise<number> {
  const child = new BenchChild('producer-perf', 'java', [
    '-Xmx512m', '-cp', `${o.kafkaLibs}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', o.topic, '--num-records', String(o.records), '--record-size', String(o.recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${o.brokers.join(',')}`, 'acks=all', 'linger.ms=5', 'batch.size=262144',
  ]);
  const code = await child.exited;
  // Last line: "N records sent, X records/sec (Y MB/sec), ... ms avg latency, ..."
  const summary = child.lines.filter((l) => /records sent, [\d.]+ records\/sec/.test(l)).at(-1);
  if (code !== 0 || !summary) throw new Error(`ProducerPerformance failed (${code}): ${child.stderr.slice(-1000)}`);
  return Number(/records sent, ([\d.]+) records\/sec/.exec(summary)![1]);
}

export async function consumerPerf(o: { kafkaLibs: string; brokers: string[]; topic: string; records: number; groupId: string }): Promise<number> {
  const child = new BenchChild('consumer-perf', 'java', [
    '-Xmx512m', '-cp', `${o.kafkaLibs}/*`, 'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server', o.brokers.join(','), '--topic', o.topic, '--messages', String(o.records), '--group', o.groupId,
  ]);
  const code = await child.exited;
  // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const header = child.lines.findIndex((l) => l.includes('nMsg.sec'));
  const values = header >= 0 ? child.lines[header + 1]?.split(',').map((s) => s.trim()) : undefined;
  const names = header >= 0 ? child.lines[header]!.split(',').map((s) => s.trim()) : [];
  if (code !== 0 || !values) throw new Error(`ConsumerPerformance failed (${code}): ${child.lines.join('\n').slice(-800)} ${child.stderr.slice(-800)}`);
  // fetch.nMsg.sec excludes the group join, as the pipeline figures do.
  const i = names.indexOf('fetch.nMsg.sec');
  return Number(values[i >= 0 ? i : names.indexOf('nMsg.sec')]);
}
