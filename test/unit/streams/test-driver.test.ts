import { describe, expect, it } from 'vitest';
import {
  Stores,
  Topology,
  TopologyTestDriver,
  numberSerde,
  stringSerde,
  type Processor,
  type ProcessorContext,
  type Record,
} from '../../../src/streams/index.ts';
import { countingTopology } from './support.ts';

describe('TopologyTestDriver', () => {
  it('counts per key through the real task code and captures outputs', async () => {
    const driver = new TopologyTestDriver(countingTopology('in', 'out'));
    const input = driver.createInputTopic('in', stringSerde, stringSerde);
    const output = driver.createOutputTopic('out', stringSerde, numberSerde);
    await input.pipeRecords([{ key: 'a', value: 'x' }, { key: 'b', value: 'x' }, { key: 'a', value: 'x' }]);
    expect(await output.readKeyValues()).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 1 }, { key: 'a', value: 2 }]);
    expect(await driver.getKeyValueStore<string, number>('counts').get('a')).toBe(2);
    expect(output.isEmpty()).toBe(true);
    await driver.close();
  });

  it('gives each processor the metadata of the record it processes, with its value\'s size as fetched', async () => {
    const seen: unknown[] = [];
    class Spy implements Processor<string, string> {
      private ctx!: ProcessorContext<unknown, unknown>;
      init(ctx: ProcessorContext<unknown, unknown>): void {
        this.ctx = ctx;
      }
      process(_record: Record<string, string>): void {
        seen.push(this.ctx.recordMetadata());
      }
    }
    const topology = new Topology().addSource('src', ['in'], { keySerde: stringSerde, valueSerde: stringSerde }).addProcessor('spy', () => new Spy(), 'src');
    const driver = new TopologyTestDriver(topology);
    await driver.createInputTopic('in', stringSerde, stringSerde).pipeRecords([{ key: 'a', value: 'héllo' }, { key: 'b', value: null }]);
    expect(seen).toEqual([
      { topic: 'in', partition: 0, offset: '0', serializedValueSize: 6 },
      { topic: 'in', partition: 0, offset: '1', serializedValueSize: -1 },
    ]);
    await driver.close();
  });

  it('writes the changelog of each store at commit', async () => {
    const driver = new TopologyTestDriver(countingTopology('in', 'out'), { applicationId: 'app' });
    const input = driver.createInputTopic('in', stringSerde, stringSerde);
    await input.pipeRecords([{ key: 'a', value: 'x' }, { key: 'a', value: 'x' }]);
    const changelog = driver.createOutputTopic('app-counts-changelog', stringSerde, numberSerde);
    // The cache deduplicates: one changelog record per key per commit.
    expect(await changelog.readKeyValues()).toEqual([{ key: 'a', value: 2 }]);
    await driver.close();
  });

  it('sends a record whose processor throws to the dead-letter topic and goes on', async () => {
    const driver = new TopologyTestDriver(countingTopology('in', 'out'), { deadLetterTopic: 'dlq' });
    const input = driver.createInputTopic('in', stringSerde, stringSerde);
    await input.pipeRecords([{ key: 'a', value: 'x' }, { key: 'a', value: 'boom' }, { key: 'a', value: 'x' }]);
    expect(await driver.createOutputTopic('out', stringSerde, numberSerde).readValues()).toEqual([1, 2]);
    const [dead] = await driver.createOutputTopic('dlq', stringSerde, stringSerde).readRecords();
    expect(dead!.value).toBe('boom');
    expect(dead!.headers['x-error-code']).toBe('PS_ERR_PROCESSING');
    expect(dead!.headers['x-error-message']).toBe('value was boom');
    expect(dead!.headers['x-source-offset']).toBe('1');
    await driver.close();
  });

  it('throws a bad record out of pipeInput when no dead-letter topic is configured', async () => {
    const driver = new TopologyTestDriver(countingTopology('in', 'out'));
    await expect(driver.createInputTopic('in', stringSerde, stringSerde).pipeInput('a', 'boom')).rejects.toMatchObject({ code: 'PS_ERR_PROCESSING' });
  });

  it('fires wall-clock punctuators when the clock advances, until cancelled', async () => {
    const fired: number[] = [];
    class Ticker implements Processor<string, string, string, string> {
      init(ctx: ProcessorContext<string, string>): void {
        const c = ctx.schedule(1000, async (now) => {
          fired.push(now);
          await ctx.forward({ key: 'tick', value: String(now), timestamp: now, headers: {} } as Record<string, string>);
          if (fired.length === 3) c.cancel();
        });
      }
      process(): void {}
    }
    const topology = new Topology()
      .addSource('in', ['in'], { keySerde: stringSerde, valueSerde: stringSerde })
      .addProcessor('tick', () => new Ticker(), 'in')
      .addSink('out', 'ticks', { keySerde: stringSerde, valueSerde: stringSerde }, 'tick');
    const driver = new TopologyTestDriver(topology);
    await driver.advanceWallClockTime(999);
    expect(fired).toEqual([]);
    await driver.advanceWallClockTime(1);
    await driver.advanceWallClockTime(2500); // overdue twice: fires once, then realigns
    await driver.advanceWallClockTime(1000);
    await driver.advanceWallClockTime(5000);
    expect(fired).toEqual([1000, 3500, 4500]);
    expect(await driver.createOutputTopic('ticks', stringSerde, stringSerde).readValues()).toEqual(['1000', '3500', '4500']);
    await driver.close();
  });

  it('feeds a repartition topic to the second sub-topology and its store', async () => {
    class Rekey implements Processor<string, string, string, string> {
      #ctx!: ProcessorContext<string, string>;
      init(ctx: ProcessorContext<string, string>): void {
        this.#ctx = ctx;
      }
      process(r: Record<string, string>): Promise<void> {
        return this.#ctx.forward(r.withKey(r.value).withValue(r.key));
      }
    }
    class PageCount implements Processor<string, string, never, never> {
      #ctx!: ProcessorContext<never, never>;
      init(ctx: ProcessorContext<never, never>): void {
        this.#ctx = ctx;
      }
      async process(r: Record<string, string>): Promise<void> {
        const s = this.#ctx.store<string, number>('page-counts');
        await s.put(r.key, ((await s.get(r.key)) ?? 0) + 1);
      }
    }
    const topology = new Topology()
      .addSource('in', ['clicks'], { keySerde: stringSerde, valueSerde: stringSerde })
      .addProcessor('rekey', () => new Rekey(), 'in')
      .addRepartition('by-page', { keySerde: stringSerde, valueSerde: stringSerde }, 'rekey')
      .addProcessor('count', () => new PageCount(), 'by-page')
      .addStateStore(Stores.persistentKeyValueStore('page-counts', stringSerde, numberSerde), 'count');
    expect(topology.describe('app')).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: in (topics: [clicks])',
        '      --> rekey',
        '    Processor: rekey (stores: [])',
        '      --> by-page-sink',
        '      <-- in',
        '    Sink: by-page-sink (topic: app-by-page-repartition)',
        '      <-- rekey',
        '   Sub-topology: 1',
        '    Source: by-page (topics: [app-by-page-repartition])',
        '      --> count',
        '    Processor: count (stores: [page-counts])',
        '      --> none',
        '      <-- by-page',
        '',
      ].join('\n'),
    );
    const driver = new TopologyTestDriver(topology, { applicationId: 'app' });
    await driver.createInputTopic('clicks', stringSerde, stringSerde).pipeRecords([
      { key: 'u1', value: '/home' },
      { key: 'u2', value: '/home' },
      { key: 'u1', value: '/about' },
    ]);
    const store = driver.getKeyValueStore<string, number>('page-counts');
    expect(await store.getMany(['/home', '/about'])).toEqual([2, 1]);
    await driver.close();
  });
});
