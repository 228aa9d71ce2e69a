import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/streams/clock.ts';
import { beginCommit, commitTasks, sendOutputsEarly, type CommitContext, type CommitUnit } from '../../../src/streams/internals/commit.ts';
import type { OffsetToCommit, ProduceResult, ProducerPort } from '../../../src/streams/internals/kafka-port.ts';
import { InMemoryBytesStore } from '../../../src/streams/internals/memory-store.ts';
import type { OutgoingRecord } from '../../../src/streams/internals/record-collector.ts';
import { StreamTask, type RawRecord } from '../../../src/streams/internals/stream-task.ts';
import { countingTopology } from './support.ts';

/** Every call of the commit, in order, as the fakes saw them. */
type Step = string;

/** A producer whose acks the test releases by hand, recording what it was asked to send. */
class FakeProducer implements ProducerPort {
  readonly sent: OutgoingRecord[][] = [];
  #next = new Map<string, bigint>();
  #gate: Promise<void> = Promise.resolve();
  fail: Error | undefined;
  constructor(private readonly steps: Step[]) {}
  hold(): () => void {
    let release!: () => void;
    this.#gate = new Promise((r) => (release = r));
    return release;
  }
  async send(records: readonly OutgoingRecord[]): Promise<ProduceResult[]> {
    this.steps.push(`produce ${records.length}`);
    this.sent.push([...records]);
    await this.#gate;
    if (this.fail) throw this.fail;
    const out: ProduceResult[] = [];
    for (const r of records) {
      const k = `${r.topic}/${r.partition}`;
      const base = this.#next.get(k) ?? 0n;
      if (!out.some((o) => o.topic === r.topic && o.partition === r.partition)) out.push({ topic: r.topic, partition: r.partition, baseOffset: base });
      this.#next.set(k, base + 1n);
    }
    this.steps.push(`acked ${records.length}`);
    return out;
  }
  sendInTransaction = (records: readonly OutgoingRecord[]): Promise<ProduceResult[]> => this.send(records);
  async sendTransactionally(records: readonly OutgoingRecord[], _groupId: string, offsets: readonly OffsetToCommit[]): Promise<ProduceResult[]> {
    const r = await this.send(records);
    this.steps.push(`txn offsets ${offsets.map((o) => String(o.offset)).join(',')}`);
    return r;
  }
  async close(): Promise<void> {}
}

function fakeDb(steps: Step[]): NonNullable<CommitUnit['db']> & { written: Array<Map<string, bigint>> } {
  const written: Array<Map<string, bigint>> = [];
  return {
    written,
    hasStaged: () => true,
    commitStaged: async (offsets: ReadonlyMap<string, bigint>) => {
      steps.push('rocksdb write');
      written.push(new Map(offsets));
    },
  };
}

async function setup(exactlyOnce = false) {
  const steps: Step[] = [];
  const built = countingTopology('in', 'out').build('commit-test');
  const task = new StreamTask({
    topology: built,
    subTopology: built.subTopologies[0]!,
    partition: 0,
    clock: new ManualClock(0),
    bytesStoreFor: (_def, name) => new InMemoryBytesStore(name),
    deadLetterTopic: undefined,
  });
  task.moveTo('RESTORING');
  task.moveTo('RUNNING');
  await task.init();
  const producer = new FakeProducer(steps);
  const db = fakeDb(steps);
  const unit: CommitUnit = { task, db, changelogOffsets: new Map(), committedInput: new Map(), inFlight: [] };
  const ctx: CommitContext = {
    groupId: 'g',
    partitionsOf: () => 2,
    producer,
    exactlyOnce,
    commitInputOffsets: async (offsets) => {
      steps.push(`offsets ${offsets.map((o) => String(o.offset)).join(',')}`);
    },
  };
  const feed = (from: number, n: number): Promise<number> =>
    task.process('in', Array.from({ length: n }, (_, i): RawRecord => ({ topic: 'in', partition: 0, offset: String(from + i), key: Buffer.from(`k${(from + i) % 2}`), value: Buffer.from('x'), timestamp: 0, headers: {} })));
  return { steps, task, producer, db, unit, ctx, feed };
}

describe('commit (internals/commit.ts)', () => {
  it('at-least-once: acks, then RocksDB with the changelog offsets, then input offsets', async () => {
    const { steps, unit, ctx, feed, db } = await setup();
    await feed(0, 3);
    await commitTasks([unit], ctx);
    // 3 outputs and 2 changelog records (two keys) in one produce call.
    expect(steps).toEqual(['produce 5', 'acked 5', 'rocksdb write', 'offsets 3']);
    expect(db.written[0]).toEqual(new Map([['commit-test-counts-changelog:0', 2n]]));
    expect(unit.committedInput.get('in')).toBe(3n);
  });

  it('outputs sent early are acked before the commit writes RocksDB or commits offsets', async () => {
    const { steps, unit, ctx, feed, producer } = await setup();
    await feed(0, 2);
    const release = producer.hold();
    await sendOutputsEarly(unit, ctx);
    const commit = commitTasks([unit], ctx);
    await new Promise((r) => setTimeout(r, 10));
    expect(steps).toEqual(['produce 2', 'produce 2']); // outputs, then changelogs; nothing acked yet
    release();
    await commit;
    expect(steps.slice(2)).toEqual(['acked 2', 'acked 2', 'rocksdb write', 'offsets 2']);
  });

  it("holds a task's next step while its unacknowledged early sends carry more than the bound, and lets it go once the oldest is acked", async () => {
    const { steps, unit, ctx, feed, producer } = await setup();
    // Each step below outputs one record of a few bytes ("k0"/"k1" and a count): a bound of 2 such records' bytes.
    await feed(0, 1);
    const [one] = await unit.task.collector.drainOutputs(ctx.partitionsOf);
    const recordBytes = (one!.key?.length ?? 0) + (one!.value?.length ?? 0);
    const bounded = { ...ctx, maxUnackedBytes: 2 * recordBytes };
    const release = producer.hold();
    for (let i = 1; i <= 2; i++) {
      await feed(i, 1);
      await sendOutputsEarly(unit, bounded); // within the bound: returns without an ack
    }
    await feed(3, 1);
    let returned = false;
    const third = sendOutputsEarly(unit, bounded).then(() => (returned = true));
    await new Promise((r) => setTimeout(r, 20));
    // Sent, but the step does not return: its bytes took the task over the bound.
    expect(steps.filter((s) => s.startsWith('produce'))).toHaveLength(3);
    expect(returned).toBe(false);
    release();
    await third;
    expect(returned).toBe(true);
    // The waited-for sends stay for the commit, which still counts them.
    expect(unit.inFlight).toHaveLength(3);
    await commitTasks([unit], ctx);
    expect(unit.inFlight).toHaveLength(0);
    expect(unit.committedInput.get('in')).toBe(4n);
  });

  it('a step at a steady rate does not wait: a few small sends are far below the default bound', async () => {
    const { unit, ctx, feed, producer } = await setup();
    const release = producer.hold();
    for (let i = 0; i < 20; i++) {
      await feed(3 * i, 3);
      await sendOutputsEarly(unit, ctx); // would hang here if it waited for an ack
    }
    expect(unit.inFlight).toHaveLength(20);
    release();
    await commitTasks([unit], ctx);
    expect(unit.committedInput.get('in')).toBe(60n);
  });

  it('a failed early send the step waited for still fails the commit', async () => {
    const { unit, ctx, feed, producer } = await setup();
    producer.fail = new Error('broker said no');
    for (let i = 0; i < 3; i++) {
      await feed(i, 1);
      await sendOutputsEarly(unit, { ...ctx, maxUnackedBytes: 1 });
    }
    await expect(commitTasks([unit], ctx)).rejects.toThrow('broker said no');
    expect(unit.committedInput.get('in')).toBeUndefined();
  });

  it('lets processing go on while the acks are pending, and the next commit covers only what came after', async () => {
    const { steps, unit, ctx, feed, producer } = await setup();
    await feed(0, 2);
    const release = producer.hold();
    const first = await beginCommit([unit], ctx);
    expect(await feed(2, 2)).toBe(2); // processed while the first commit waits
    expect(steps).toEqual(['produce 4']);
    release();
    await first.settled;
    producer.hold()(); // open again
    await commitTasks([unit], ctx);
    expect(steps.filter((s) => s.startsWith('offsets'))).toEqual(['offsets 2', 'offsets 4']);
    expect(producer.sent[1]!.filter((r) => r.topic === 'out').map((r) => r.value!.readBigInt64BE(0))).toEqual([2n, 2n]);
  });

  it('a failed produce rejects with PS_ERR_COMMIT_FAILED and writes nothing to RocksDB or the input offsets', async () => {
    const { steps, unit, ctx, feed, producer } = await setup();
    await feed(0, 2);
    producer.fail = new Error('broker said no');
    await expect(commitTasks([unit], ctx)).rejects.toMatchObject({ code: 'PS_ERR_COMMIT_FAILED' });
    expect(steps).toEqual(['produce 4']);
    expect(unit.committedInput.size).toBe(0);
    expect(unit.changelogOffsets.size).toBe(0);
  });

  it('exactly-once: input offsets go into the transaction, RocksDB is written after it committed, no separate offset commit', async () => {
    const { steps, unit, ctx, feed } = await setup(true);
    await feed(0, 3);
    await commitTasks([unit], ctx);
    expect(steps).toEqual(['produce 5', 'acked 5', 'txn offsets 3', 'rocksdb write']);
  });

  it('exactly-once: every task goes into ONE transaction of the instance producer, early outputs first', async () => {
    const { steps, unit, ctx, feed, producer } = await setup(true);
    const built = countingTopology('in', 'out').build('commit-test');
    const other = new StreamTask({ topology: built, subTopology: built.subTopologies[0]!, partition: 1, clock: new ManualClock(0), bytesStoreFor: (_def, name) => new InMemoryBytesStore(name), deadLetterTopic: undefined });
    other.moveTo('RESTORING');
    other.moveTo('RUNNING');
    await other.init();
    const otherUnit: CommitUnit = { task: other, db: fakeDb(steps), changelogOffsets: new Map(), committedInput: new Map(), inFlight: [] };
    await feed(0, 3);
    await other.process('in', [0, 1].map((i): RawRecord => ({ topic: 'in', partition: 1, offset: String(i), key: Buffer.from('k'), value: Buffer.from('x'), timestamp: 0, headers: {} })));
    await sendOutputsEarly(otherUnit, ctx);
    await commitTasks([unit, otherUnit], ctx);
    // 2 early outputs of the second task, then one produce of the rest (3 outputs, 2 + 1 changelog records).
    expect(steps).toEqual(['produce 2', 'acked 2', 'produce 6', 'acked 6', 'txn offsets 3,2', 'rocksdb write', 'rocksdb write']);
    expect(producer.sent[1]!.filter((r) => r.topic === 'out')).toHaveLength(3);
    expect(unit.committedInput.get('in')).toBe(3n);
    expect(otherUnit.committedInput.get('in')).toBe(2n);
  });
});
