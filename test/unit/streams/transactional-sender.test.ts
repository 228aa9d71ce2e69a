import { describe, expect, it } from 'vitest';
import type { OffsetToCommit, ProduceResult } from '../../../src/streams/internals/kafka-port.ts';
import type { OutgoingRecord } from '../../../src/streams/internals/record-collector.ts';
import { TransactionalSender } from '../../../src/streams/internals/transactional-sender.ts';

const rec = (value: string, partition = 0): OutgoingRecord => ({ topic: 'out', partition, key: null, value: Buffer.from(value), timestamp: 0, headers: {} });

/** A client whose transactions record what went into them; a request can be held until released. */
function fakeClient() {
  let next = 0;
  const log: string[] = [];
  const offsets = new Map<number, number>();
  let hold: Promise<void> | undefined;
  let release: (() => void) | undefined;
  let failNextSend: Error | undefined;
  const steps = {
    begin: async () => {
      const txn = ++next;
      log.push(`begin ${txn}`);
      return txn;
    },
    send: async (txn: number, records: readonly OutgoingRecord[]): Promise<ProduceResult[]> => {
      log.push(`send ${txn}: ${records.map((r) => r.value!.toString()).join(',')}`);
      if (hold) await hold;
      if (failNextSend) {
        const err = failNextSend;
        failNextSend = undefined;
        throw err;
      }
      const out: ProduceResult[] = [];
      for (const r of records) {
        const at = offsets.get(r.partition) ?? 0;
        if (!out.some((o) => o.partition === r.partition)) out.push({ topic: r.topic, partition: r.partition, baseOffset: BigInt(at) });
        offsets.set(r.partition, at + 1);
      }
      return out;
    },
    commit: async (txn: number, _groupId: string, o: readonly OffsetToCommit[]) => void log.push(`commit ${txn} offsets ${o.map((x) => String(x.offset)).join(',')}`),
    abort: async (txn: number) => void log.push(`abort ${txn}`),
  };
  return {
    steps,
    log,
    holdRequests: () => (hold = new Promise((r) => (release = r))),
    releaseRequests: () => {
      hold = undefined;
      release?.();
    },
    failNextSend: (err: Error) => (failNextSend = err),
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('TransactionalSender (internals/transactional-sender.ts)', () => {
  it('sends queued behind the request in flight leave together; a commit ends the transaction of what came before it only', async () => {
    const client = fakeClient();
    const sender = new TransactionalSender(client.steps);
    client.holdRequests();
    const first = sender.send([rec('a')]);
    await tick();
    const second = sender.send([rec('b')]);
    const third = sender.send([rec('c', 1)]);
    const commit = sender.commit([rec('changelog', 2)], 'g', [{ topic: 'in', partition: 0, offset: 7n }]);
    const after = sender.send([rec('d')]);
    client.releaseRequests();
    expect(await first).toEqual([{ topic: 'out', partition: 0, baseOffset: 0n }]);
    expect(await second).toEqual([{ topic: 'out', partition: 0, baseOffset: 1n }]);
    expect(await third).toEqual([{ topic: 'out', partition: 1, baseOffset: 0n }]);
    expect(await commit).toEqual([{ topic: 'out', partition: 2, baseOffset: 0n }]);
    expect(await after).toEqual([{ topic: 'out', partition: 0, baseOffset: 2n }]);
    expect(client.log).toEqual(['begin 1', 'send 1: a', 'send 1: b,c,changelog', 'commit 1 offsets 7', 'begin 2', 'send 2: d']);
  });

  it('a transaction in which a send failed is aborted at its commit, and the next one starts clean', async () => {
    const client = fakeClient();
    const sender = new TransactionalSender(client.steps);
    client.failNextSend(new Error('broker said no'));
    await expect(sender.send([rec('a')])).rejects.toThrow('broker said no');
    await sender.send([rec('b')]);
    await expect(sender.commit([], 'g', [{ topic: 'in', partition: 0, offset: 2n }])).rejects.toThrow('broker said no');
    await sender.send([rec('c')]);
    await sender.commit([], 'g', [{ topic: 'in', partition: 0, offset: 3n }]);
    expect(client.log).toEqual(['begin 1', 'send 1: a', 'send 1: b', 'abort 1', 'begin 2', 'send 2: c', 'commit 2 offsets 3']);
  });
});
