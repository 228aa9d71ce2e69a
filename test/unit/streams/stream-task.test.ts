import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/streams/clock.ts';
import { InMemoryBytesStore } from '../../../src/streams/internals/memory-store.ts';
import { StreamTask, type RawRecord } from '../../../src/streams/internals/stream-task.ts';
import { countingTopology } from './support.ts';

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
