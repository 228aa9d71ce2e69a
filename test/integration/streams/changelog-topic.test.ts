import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, Stores, Topology, stringSerde, type KeyValueStore, type Processor, type ProcessorContext, type Record } from '../../../src/streams/index.ts';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, kafka, produce, quietLogger, storeContents, tempDir } from './helpers.ts';

/** Keeps the latest value per key: the store's changelog is then exactly "the topic's latest value per key". */
class Latest implements Processor<string, string, string, string> {
  #store!: KeyValueStore<string, string>;
  init(ctx: ProcessorContext<string, string>): void {
    this.#store = ctx.store('latest');
  }
  async process(r: Record<string, string>): Promise<void> {
    await this.#store.put(r.key, r.value);
  }
}

describe('a store logged to a topic of its own choosing', () => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('writes its changes there (no <app>-<store>-changelog) and restores from it, also after deleted records moved the log start', async () => {
    const input = uniqueName('in');
    const log = uniqueName('latest-log');
    const applicationId = uniqueName('log-topic-app');
    await createTopics([[input, 2], [log, 2]]);
    const dir = await tempDir('ps-log-topic-');
    cleanups.push(dir.remove);
    const topology = new Topology()
      .addSource('in', [input], { keySerde: stringSerde, valueSerde: stringSerde })
      .addProcessor('latest', () => new Latest(), 'in')
      .addStateStore(Stores.persistentKeyValueStore('latest', stringSerde, stringSerde).withChangelogTopic(log), 'latest');
    // A restore that stalls fails within 20 s instead of the default 5 minutes.
    const make = (): StreamsApp => {
      const app = new StreamsApp(topology, { applicationId, brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, restoreTimeoutMs: 20_000, logger: quietLogger, ...fastGroup });
      apps.push(app);
      return app;
    };
    const first = make();
    await first.start();
    await first.waitForState('RUNNING');
    await produce(input, 2, Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v1'] as [string, string]));
    await eventually(async () => (await storeContents<string>(first, 'latest')).size === 40, 30_000, 'first 40 stored');
    await produce(input, 2, Array.from({ length: 20 }, (_, i) => [`k${i + 40}`, 'v2'] as [string, string]));
    await eventually(async () => (await storeContents<string>(first, 'latest')).size === 60, 30_000, 'all 60 stored');
    await first.close();

    const admin = kafka().admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(topics).not.toContain(`${applicationId}-latest-changelog`);
      // Drop the first 20 records of each partition of the log topic, as time retention would.
      const ends = await admin.fetchTopicOffsets(log);
      expect(ends.reduce((s, p) => s + Number(p.high), 0)).toBe(60);
      await admin.deleteTopicRecords({ topic: log, partitions: ends.map((p) => ({ partition: p.partition, offset: String(Math.min(20, Number(p.high))) })) });
      // What the topic still holds, read by offset: the oracle for the restored store.
      const kept = new Map<string, string>();
      const consumer = kafka().consumer({ groupId: uniqueName('log-reader') });
      await consumer.connect();
      await consumer.subscribe({ topics: [log], fromBeginning: true });
      const total = ends.reduce((s, p) => s + Math.max(0, Number(p.high) - 20), 0);
      let seen = 0;
      await consumer.run({ eachMessage: async ({ message }) => void (kept.set(message.key!.toString(), message.value!.toString()), seen++) });
      await eventually(() => seen >= total, 30_000, 'the kept records read');
      await consumer.disconnect();

      await rm(dir.path, { recursive: true, force: true });
      const second = make();
      await second.start();
      await second.waitForState('RUNNING');
      const after = await storeContents<string>(second, 'latest');
      expect(after).toEqual(kept);
      expect(after.size).toBe(total);
    } finally {
      await admin.disconnect();
    }
  });
});
