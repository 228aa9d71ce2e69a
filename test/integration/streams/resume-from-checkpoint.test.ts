import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { kafkaBrokers, testKafkaClient, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, produce, quietLogger, storeContents, tempDir } from './helpers.ts';

describe('counting topology over a 4-partition topic', () => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('resumes from its checkpoint without a full restore after stop and start, with exact counts', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const applicationId = uniqueName('count-app');
    await createTopics([[input, 4], [output, 4]]);
    const dir = await tempDir('ps-resume-');
    cleanups.push(dir.remove);
    const make = (): StreamsApp => {
      const app = new StreamsApp(countingTopology(input, output), {
        applicationId, brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, logger: quietLogger, kafkaClient: testKafkaClient(), ...fastGroup,
      });
      apps.push(app);
      return app;
    };
    const expected = new Map<string, number>();
    const send = async (n: number): Promise<void> => {
      const recs: Array<[string, string]> = [];
      for (let i = 0; i < n; i++) {
        const k = `user-${i % 25}`;
        recs.push([k, 'x']);
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      await produce(input, 4, recs);
    };
    const matches = async (app: StreamsApp): Promise<boolean> => {
      const got = await storeContents<number>(app, 'counts');
      return got.size === expected.size && [...expected].every(([k, v]) => got.get(k) === v);
    };

    const first = make();
    await first.start();
    await first.waitForState('RUNNING');
    await send(400);
    await eventually(() => matches(first), 30_000, 'first counts');
    await first.close();

    const second = make();
    await second.start();
    await second.waitForState('RUNNING');
    // Every task's RocksDB was at the changelog end: nothing to restore.
    const status = second.restoreStatus();
    expect(status).toHaveLength(4);
    expect(status.every((s) => s.total === '0')).toBe(true);
    expect((await second.metrics.registry.getSingleMetric('streams_restore_records_total')!.get()).values.reduce((s, v) => s + v.value, 0)).toBe(0);
    await send(200);
    await eventually(() => matches(second), 30_000, 'counts after restart');
    await second.close();
    expect(second.state).toBe('NOT_RUNNING');
  });
});
