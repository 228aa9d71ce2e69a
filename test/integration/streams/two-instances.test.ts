import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { everyKafkaClient, kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, produce, quietLogger, storeContents, tempDir } from './helpers.ts';

describe.each(everyKafkaClient())('two instances in one group (%s)', (kafkaClient) => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('agree on the owner of every key, and one takes over all partitions with exact counts when the other stops', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const applicationId = uniqueName('pair-app');
    await createTopics([[input, 4], [output, 4]]);
    const make = async (server: string): Promise<StreamsApp> => {
      const dir = await tempDir('ps-pair-');
      cleanups.push(dir.remove);
      const app = new StreamsApp(countingTopology(input, output), {
        applicationId, brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, applicationServer: server, logger: quietLogger, kafkaClient, ...fastGroup,
      });
      apps.push(app);
      return app;
    };
    const a = await make('host-a:1');
    const b = await make('host-b:2');
    await a.start();
    await a.waitForState('RUNNING');
    await b.start();
    // Both members own tasks and both know the whole 4-task map.
    await eventually(() => a.state === 'RUNNING' && b.state === 'RUNNING' && a.restoreStatus().length > 0 && b.restoreStatus().length > 0 && a.hostMap().size === 4 && b.hostMap().size === 4, 30_000, 'both running with tasks');
    expect(a.restoreStatus().length + b.restoreStatus().length).toBe(4);

    const expected = new Map<string, number>();
    const recs: Array<[string, string]> = [];
    for (let i = 0; i < 400; i++) {
      const k = `u${i % 40}`;
      recs.push([k, 'x']);
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    await produce(input, 4, recs);
    const total = async (): Promise<number> =>
      [...(await storeContents<number>(a, 'counts')).values(), ...(await storeContents<number>(b, 'counts')).values()].reduce((x, y) => x + y, 0);
    await eventually(async () => (await total()) === 400, 30_000, 'all counted across both');

    for (const key of expected.keys()) {
      const fromA = await a.metadataForKey('counts', key);
      const fromB = await b.metadataForKey('counts', key);
      expect(fromB.applicationServer).toBe(fromA.applicationServer);
      expect(fromB.partition).toBe(fromA.partition);
      const owner = fromA.applicationServer === 'host-a:1' ? a : b;
      const other = owner === a ? b : a;
      expect(await owner.store<string, number>('counts').get(key)).toBe(expected.get(key));
      await expect(other.store<string, number>('counts').get(key)).rejects.toMatchObject({ code: 'PS_ERR_KEY_NOT_OWNED' });
    }

    await b.close();
    await eventually(() => a.state === 'RUNNING' && a.restoreStatus().length === 4 && a.restoreStatus().every((s) => s.state === 'RUNNING'), 40_000, 'a owns all tasks');
    const got = await storeContents<number>(a, 'counts');
    for (const [k, v] of expected) expect(got.get(k), k).toBe(v);
    await produce(input, 4, [['u1', 'x']]);
    await eventually(async () => (await a.store<string, number>('counts').get('u1')) === expected.get('u1')! + 1, 20_000, 'a keeps counting');
  });
});
