import { describe, expect, it } from 'vitest';
import { CoalescingSender } from '../../../src/streams/internals/coalescing-sender.ts';
import type { ProduceResult } from '../../../src/streams/internals/kafka-port.ts';
import type { OutgoingRecord } from '../../../src/streams/internals/record-collector.ts';

const rec = (topic: string, partition: number, value = 'v'): OutgoingRecord => ({ topic, partition, key: null, value: Buffer.from(value), timestamp: 0, headers: {} });

/** A broker log per partition: each request appends its records and answers the base offset per partition. */
function fakeBroker() {
  const logs = new Map<string, number>();
  const requests: number[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const request = async (chunk: readonly OutgoingRecord[]): Promise<ProduceResult[]> => {
    requests.push(chunk.length);
    if (hold) await new Promise<void>((r) => (release = r));
    const out = new Map<string, ProduceResult>();
    for (const r of chunk) {
      const key = `${r.topic}/${r.partition}`;
      const at = logs.get(key) ?? 0;
      if (!out.has(key)) out.set(key, { topic: r.topic, partition: r.partition, baseOffset: BigInt(at) });
      logs.set(key, at + 1);
    }
    return [...out.values()];
  };
  return { request, requests, holdNext: () => (hold = true), release: () => { hold = false; release?.(); } };
}

describe('CoalescingSender', () => {
  it('sends what queued behind the request in flight as one request, each caller getting its own first offsets', async () => {
    const broker = fakeBroker();
    const sender = new CoalescingSender(broker.request);
    broker.holdNext();
    const first = sender.send([rec('out', 0), rec('out', 0)]);
    await new Promise((r) => setTimeout(r, 0));
    const second = sender.send([rec('out', 0), rec('changelog', 3)]);
    const third = sender.send([rec('out', 1), rec('out', 0), rec('changelog', 3), rec('changelog', 3)]);
    broker.release();
    expect(await first).toEqual([{ topic: 'out', partition: 0, baseOffset: 0n }]);
    expect(await second).toEqual([
      { topic: 'out', partition: 0, baseOffset: 2n },
      { topic: 'changelog', partition: 3, baseOffset: 0n },
    ]);
    expect(await third).toEqual([
      { topic: 'out', partition: 1, baseOffset: 0n },
      { topic: 'out', partition: 0, baseOffset: 3n },
      { topic: 'changelog', partition: 3, baseOffset: 1n },
    ]);
    expect(broker.requests).toEqual([2, 6]);
  });

  it('fails every caller of a failed request, and the next sends go on', async () => {
    let fail = true;
    const sender = new CoalescingSender(async (chunk) => {
      if (fail) throw new Error('NOT_ENOUGH_REPLICAS');
      return [{ topic: chunk[0]!.topic, partition: chunk[0]!.partition, baseOffset: 7n }];
    });
    await expect(sender.send([rec('out', 0)])).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    fail = false;
    expect(await sender.send([rec('out', 0)])).toEqual([{ topic: 'out', partition: 0, baseOffset: 7n }]);
    expect(await sender.send([])).toEqual([]);
  });
});
