import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/streams/clock.ts';
import { InMemoryBytesStore } from '../../../src/streams/internals/memory-store.ts';
import { StreamTask, type RawRecord } from '../../../src/streams/internals/stream-task.ts';
import { isStreamsError, numberSerde, Stores, stringSerde, Topology, type StreamsError } from '../../../src/streams/index.ts';
import { CountProcessor, countingTopology } from './support.ts';

function countingTask(): StreamTask {
  const built = countingTopology('in', 'out').build('task-test');
  return new StreamTask({
    topology: built,
    subTopology: built.subTopologies[0]!,
    partition: 0,
    clock: new ManualClock(0),
    bytesStoreFor: (_def, name) => new InMemoryBytesStore(name),
    deadLetterTopic: undefined,
  });
}

const records = (from: number, to: number): RawRecord[] =>
  Array.from({ length: to - from }, (_, i) => ({ topic: 'in', partition: 0, offset: String(from + i), key: Buffer.from('k'), value: Buffer.from('x'), timestamp: 0, headers: {} }));

describe('StreamTask', () => {
  it('applies a record fed again after a rebalance (below its position) only once', async () => {
    const task = countingTask();
    task.moveTo('RESTORING');
    task.moveTo('RUNNING');
    await task.init();
    expect(await task.process('in', records(0, 5))).toBe(5);
    // The consumer re-resolved its position to the last committed offset (2): offsets 2-4 come again.
    expect(await task.process('in', records(2, 8))).toBe(3);
    expect(await task.store('counts')!.get('k')).toBe(8);
    expect(task.committable.get('in')).toBe(8n);
  });
});

/** A value serde whose decoder needs a service that is down for the first `failures` calls (a registry restarting). */
function flakyDecoderTask(failures: number, waitMs: number, deadLetters: unknown[], error?: Error): StreamTask {
  let calls = 0;
  const unavailable = error ?? Object.assign(new Error('could not fetch schema id 7 from the schema registry: connect ECONNREFUSED'), { code: 'PS_ERR_SCHEMA_REGISTRY', retriable: true });
  const valueSerde = {
    serialize: (_t: string, v: string) => Buffer.from(v),
    deserialize: async (_t: string, b: Buffer) => {
      if (calls++ < failures) throw unavailable;
      return b.toString();
    },
  };
  const built = new Topology()
    .addSource('in', ['in'], { keySerde: stringSerde, valueSerde })
    .addProcessor('count', () => new CountProcessor(), 'in')
    .addStateStore(Stores.persistentKeyValueStore('counts', stringSerde, numberSerde), 'count')
    .addSink('out', 'out', { keySerde: stringSerde, valueSerde: numberSerde }, 'count')
    .build('task-test');
  const task = new StreamTask({
    topology: built,
    subTopology: built.subTopologies[0]!,
    partition: 0,
    clock: new ManualClock(0),
    bytesStoreFor: (_def, name) => new InMemoryBytesStore(name),
    deadLetterTopic: 'dlq',
    onDeadLetter: (err) => deadLetters.push(err),
    retriableDecodeWaitMs: waitMs,
  });
  task.moveTo('RESTORING');
  task.moveTo('RUNNING');
  return task;
}

describe('StreamTask decoding while a dependency of the decoder is unavailable', () => {
  it('waits a registry restart out instead of dead-lettering the records (the chaos registry scenario dead-lettered every batch a restarted instance read during the outage)', async () => {
    const deadLetters: unknown[] = [];
    const task = flakyDecoderTask(6, 10_000, deadLetters);
    await task.init();
    expect(await task.process('in', records(0, 3))).toBe(3);
    expect(deadLetters).toEqual([]);
    expect(await task.store('counts')!.get('k')).toBe(3);
    expect(task.committable.get('in')).toBe(3n);
  });

  it('fails with PS_ERR_DESERIALIZATION_UNAVAILABLE after the wait, having applied and dead-lettered nothing', async () => {
    const deadLetters: unknown[] = [];
    const task = flakyDecoderTask(Number.MAX_SAFE_INTEGER, 300, deadLetters);
    await task.init();
    const err = await task.process('in', records(0, 3)).then(() => undefined, (e: unknown) => e);
    expect(isStreamsError(err, 'PS_ERR_DESERIALIZATION_UNAVAILABLE')).toBe(true);
    expect((err as StreamsError).retriable).toBe(true);
    expect(deadLetters).toEqual([]);
    expect(await task.store('counts')!.get('k')).toBeUndefined();
    expect(task.committable.get('in')).toBeUndefined();
  });

  it('still dead-letters a record its decoder rejects for good', async () => {
    const deadLetters: unknown[] = [];
    const unknownId = Object.assign(new Error('schema id 99 is not in the registry'), { code: 'PS_ERR_SERDE_UNKNOWN_SCHEMA_ID', retriable: false });
    const task = flakyDecoderTask(1, 10_000, deadLetters, unknownId);
    await task.init();
    expect(await task.process('in', records(0, 3))).toBe(3);
    expect(deadLetters).toEqual([unknownId]);
    expect(await task.store('counts')!.get('k')).toBe(2);
  });
});
