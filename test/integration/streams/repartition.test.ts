import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, Stores, Topology, numberSerde, stringSerde, type Processor, type ProcessorContext, type Record } from '../../../src/streams/index.ts';
import { kafkaBrokers, testKafkaClient, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, produce, quietLogger, storeContents, tempDir } from './helpers.ts';

class ByPage implements Processor<string, string, string, string> {
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

describe('repartition topic feeding a second sub-topology', () => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('counts per re-keyed page in the second sub-topology, across a restart', async () => {
    const input = uniqueName('clicks');
    const applicationId = uniqueName('repart-app');
    await createTopics([[input, 3]]);
    const dir = await tempDir('ps-repart-');
    cleanups.push(dir.remove);
    const topology = (): Topology =>
      new Topology()
        .addSource('in', [input], { keySerde: stringSerde, valueSerde: stringSerde })
        .addProcessor('by-page-key', () => new ByPage(), 'in')
        .addRepartition('by-page', { keySerde: stringSerde, valueSerde: stringSerde }, 'by-page-key')
        .addProcessor('count', () => new PageCount(), 'by-page')
        .addStateStore(Stores.persistentKeyValueStore('page-counts', stringSerde, numberSerde), 'count');
    const make = (): StreamsApp => {
      const app = new StreamsApp(topology(), { applicationId, brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, logger: quietLogger, kafkaClient: testKafkaClient(), ...fastGroup });
      apps.push(app);
      return app;
    };
    const expected = new Map<string, number>();
    const send = async (n: number, offset: number): Promise<void> => {
      const recs: Array<[string, string]> = [];
      for (let i = 0; i < n; i++) {
        const page = `/page/${(i + offset) % 11}`;
        recs.push([`user-${i % 13}`, page]);
        expected.set(page, (expected.get(page) ?? 0) + 1);
      }
      await produce(input, 3, recs);
    };
    const matches = async (app: StreamsApp): Promise<boolean> => {
      const got = await storeContents<number>(app, 'page-counts');
      return got.size === expected.size && [...expected].every(([k, v]) => got.get(k) === v);
    };
    const first = make();
    expect(topology().describe(applicationId)).toContain(`Source: by-page (topics: [${applicationId}-by-page-repartition])`);
    await first.start();
    await first.waitForState('RUNNING');
    await send(300, 0);
    await eventually(() => matches(first), 30_000, 'page counts');
    await first.close();

    const second = make();
    await second.start();
    await second.waitForState('RUNNING');
    await send(150, 5);
    await eventually(() => matches(second), 30_000, 'page counts after restart');
    const md = await second.metadataForKey('page-counts', '/page/3');
    expect(md.taskId).toBe(`1_${md.partition}`);
  });
});
