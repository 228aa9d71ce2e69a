import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { kafkaBrokers, testKafkaClient, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, produce, quietLogger, storeContents, tempDir } from './helpers.ts';

describe('state directory deleted while stopped', () => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('rebuilds every store from its changelog, holding exactly what it held before', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const applicationId = uniqueName('rebuild-app');
    await createTopics([[input, 4], [output, 4]]);
    const dir = await tempDir('ps-rebuild-');
    cleanups.push(dir.remove);
    const make = (): StreamsApp => {
      const app = new StreamsApp(countingTopology(input, output), { applicationId, brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, logger: quietLogger, kafkaClient: testKafkaClient(), ...fastGroup });
      apps.push(app);
      return app;
    };
    const recs: Array<[string, string]> = [];
    for (let i = 0; i < 600; i++) recs.push([`k${(i * 7) % 97}`, 'x']);
    const first = make();
    await first.start();
    await first.waitForState('RUNNING');
    await produce(input, 4, recs);
    await eventually(async () => [...(await storeContents<number>(first, 'counts')).values()].reduce((a, b) => a + b, 0) === 600, 30_000, 'all counted');
    const before = await storeContents<number>(first, 'counts');
    await first.close();

    await rm(dir.path, { recursive: true, force: true });

    const second = make();
    await second.start();
    await second.waitForState('RUNNING');
    const after = await storeContents<number>(second, 'counts');
    expect(after.size).toBe(before.size);
    for (const [k, v] of before) expect(after.get(k), k).toBe(v);
    expect(second.restoreStatus().reduce((s, t) => s + Number(t.total), 0)).toBeGreaterThan(0);
  });
});
