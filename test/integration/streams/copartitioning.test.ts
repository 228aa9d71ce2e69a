import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, Topology, stringSerde } from '../../../src/streams/index.ts';
import { kafkaBrokers, testKafkaClient, uniqueName } from '../../support/stack-env.ts';
import { createTopics, quietLogger, tempDir } from './helpers.ts';

describe('co-partitioning check at start', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('refuses to start when a sub-topology reads topics with different partition counts, naming topics and counts', async () => {
    const a = uniqueName('left');
    const b = uniqueName('right');
    await createTopics([[a, 4], [b, 2]]);
    const dir = await tempDir('ps-copart-');
    cleanups.push(dir.remove);
    const topology = new Topology()
      .addSource('a', [a], { keySerde: stringSerde, valueSerde: stringSerde })
      .addSource('b', [b], { keySerde: stringSerde, valueSerde: stringSerde })
      .addProcessor('join', () => ({ process() {} }), 'a', 'b');
    const app = new StreamsApp(topology, { applicationId: uniqueName('copart'), brokers: kafkaBrokers(), stateDir: dir.path, logger: quietLogger, kafkaClient: testKafkaClient() });
    const err = await app.start().then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err?.code).toBe('PS_ERR_COPARTITIONING');
    expect(err?.message).toContain(`${a}: 4`);
    expect(err?.message).toContain(`${b}: 2`);
    expect(app.state).toBe('NOT_RUNNING');
    // The lock was released: the same state dir can be used again.
    const again = new StreamsApp(topology, { applicationId: uniqueName('copart'), brokers: kafkaBrokers(), stateDir: dir.path, logger: quietLogger, kafkaClient: testKafkaClient() });
    await expect(again.start()).rejects.toMatchObject({ code: 'PS_ERR_COPARTITIONING' });
  });
});
