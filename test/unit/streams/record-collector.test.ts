import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/streams/clock.ts';
import { partitionForKey } from '../../../src/streams/partitioner.ts';
import { RecordCollector } from '../../../src/streams/internals/record-collector.ts';

const b = (s: string): Buffer => Buffer.from(s);

describe('RecordCollector', () => {
  it('partitions outputs by key as Kafka\'s Java default does, or by the sink\'s partitioner', async () => {
    const c = new RecordCollector(3, (s) => `app-${s}-changelog`, new ManualClock(5));
    c.send('out', b('user-1'), b('v'), 1, {});
    c.send('out', Promise.resolve(b('user-2')), b('v'), 2, {});
    c.send('out', b('user-3'), b('v'), 3, {}, () => 6);
    const records = await c.drainOutputs(() => 8);
    expect(records.map((r) => r.partition)).toEqual([partitionForKey(b('user-1'), 8), partitionForKey(b('user-2'), 8), 6]);
    expect(records.map((r) => r.key!.toString())).toEqual(['user-1', 'user-2', 'user-3']);
  });

  it('keeps changelog records for the commit when outputs are drained early, and counts them per changelog', async () => {
    const c = new RecordCollector(2, (s) => `app-${s}-changelog`, new ManualClock(5));
    c.send('out', b('a'), b('1'), 1, {});
    c.logChange('counts', b('a'), b('1'));
    c.logChange('counts', b('b'), null);
    c.send('out', b('b'), b('2'), 2, {});
    expect((await c.drainOutputs(() => 4)).map((r) => r.value!.toString())).toEqual(['1', '2']);
    const drained = await c.drain(() => 4);
    expect(drained.records.map((r) => [r.topic, r.partition, r.key!.toString(), r.value?.toString() ?? null])).toEqual([
      ['app-counts-changelog', 2, 'a', '1'],
      ['app-counts-changelog', 2, 'b', null],
    ]);
    expect(drained.changelogs).toEqual([{ store: 'counts', topic: 'app-counts-changelog', partition: 2, count: 2 }]);
    expect(c.size).toBe(0);
  });

  it('spreads keyless outputs round-robin', async () => {
    const c = new RecordCollector(0, (s) => s, new ManualClock(0));
    for (let i = 0; i < 4; i++) c.send('out', null, b(String(i)), i, {});
    expect((await c.drainOutputs(() => 2)).map((r) => r.partition)).toEqual([0, 1, 0, 1]);
  });
});
