import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { everyKafkaClient, kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, produce, quietLogger, storeContents, tempDir } from './helpers.ts';

describe.each(everyKafkaClient())('standby replicas (%s)', (kafkaClient) => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('keep every task warm on the other instance, so a failover restores nothing and the counts are exact', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const applicationId = uniqueName('standby-app');
    await createTopics([[input, 4], [output, 4]]);
    const make = async (server: string): Promise<StreamsApp> => {
      const dir = await tempDir('ps-standby-');
      cleanups.push(dir.remove);
      const app = new StreamsApp(countingTopology(input, output), {
        applicationId, brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, applicationServer: server, logger: quietLogger, kafkaClient,
        processingGuarantee: 'exactly_once', numStandbyReplicas: 1, standbyPollMs: 200, ...fastGroup,
      });
      apps.push(app);
      return app;
    };
    const a = await make('host-a:1');
    const b = await make('host-b:2');
    await a.start();
    await a.waitForState('RUNNING');
    await b.start();
    await eventually(() => a.state === 'RUNNING' && b.state === 'RUNNING' && a.restoreStatus().length > 0 && b.restoreStatus().length > 0, 30_000, 'both running with tasks');

    const expected = new Map<string, number>();
    for (let round = 0; round < 4; round++) {
      const recs: Array<[string, string]> = [];
      for (let i = 0; i < 200; i++) {
        const k = `u${i % 40}`;
        recs.push([k, 'x']);
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      await produce(input, 4, recs);
      await new Promise((r) => setTimeout(r, 300)); // several commits: a changelog with history to tail
    }
    const counted = async (): Promise<number> =>
      [...(await storeContents<number>(a, 'counts')).values(), ...(await storeContents<number>(b, 'counts')).values()].reduce((x, y) => x + y, 0);
    await eventually(async () => (await counted()) === 800, 30_000, 'all counted across both');

    // Each instance keeps the other's tasks warm, never its own, and catches up with them.
    const tasksOf = (app: StreamsApp) => app.restoreStatus().map((s) => s.taskId).sort();
    const standbysOf = (app: StreamsApp) => app.standbyStatus().map((s) => s.taskId).sort();
    await eventually(
      () => JSON.stringify(standbysOf(a)) === JSON.stringify(tasksOf(b)) && JSON.stringify(standbysOf(b)) === JSON.stringify(tasksOf(a)) && [...a.standbyStatus(), ...b.standbyStatus()].every((s) => s.lag === '0'),
      30_000,
      'standbys of the other instance\'s tasks, caught up',
    ).catch((e: Error) => {
      throw new Error(`${e.message}: a owns ${tasksOf(a)} keeps ${JSON.stringify(a.standbyStatus())}; b owns ${tasksOf(b)} keeps ${JSON.stringify(b.standbyStatus())}`);
    });
    const moved = tasksOf(b);

    await b.close();
    await eventually(() => a.state === 'RUNNING' && a.restoreStatus().length === 4 && a.restoreStatus().every((s) => s.state === 'RUNNING'), 40_000, 'a owns all tasks');
    // The tasks that moved opened the standby's RocksDB at the changelog's end: nothing left to restore.
    for (const s of a.restoreStatus().filter((x) => moved.includes(x.taskId))) expect(s.total, s.taskId).toBe('0');
    expect(a.standbyStatus()).toEqual([]);
    const got = await storeContents<number>(a, 'counts');
    for (const [k, v] of expected) expect(got.get(k), k).toBe(v);
    await produce(input, 4, [['u1', 'x']]);
    await eventually(async () => (await a.store<string, number>('counts').get('u1')) === expected.get('u1')! + 1, 20_000, 'a keeps counting');
  });
});
