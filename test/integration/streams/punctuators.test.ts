import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, StreamsApp, Topology, stringSerde, type Processor, type ProcessorContext } from '../../../src/streams/index.ts';
import { kafkaBrokers, testKafkaClient, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, quietLogger, tempDir } from './helpers.ts';

describe('wall-clock punctuators', () => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('fire on schedule per task and stop when the task is revoked', async () => {
    const input = uniqueName('in');
    const applicationId = uniqueName('punct-app');
    await createTopics([[input, 2]]);
    // Shared by both instances in this process: which task fired when.
    const fired: Array<{ app: string; task: string; at: number }> = [];
    const topology = (app: string): Topology =>
      new Topology()
        .addSource('in', [input], { keySerde: stringSerde, valueSerde: stringSerde })
        .addProcessor('tick', (): Processor<string, string> => ({
          init(ctx: ProcessorContext) {
            ctx.schedule(100, (now) => {
              fired.push({ app, task: ctx.taskId, at: now });
            });
          },
          process() {},
        }), 'in');
    // A manual clock shared by both instances: punctuators fire when it is advanced, not when a busy
    // machine happens to run a timer, so the schedule can be asserted exactly.
    const clock = new ManualClock(1_000_000);
    const make = async (name: string): Promise<StreamsApp> => {
      const dir = await tempDir('ps-punct-');
      cleanups.push(dir.remove);
      const app = new StreamsApp(topology(name), { applicationId, brokers: kafkaBrokers(), stateDir: dir.path, logger: quietLogger, kafkaClient: testKafkaClient(), clock, ...fastGroup });
      apps.push(app);
      return app;
    };
    const a = await make('a');
    await a.start();
    await a.waitForState('RUNNING');
    const count = (app: string, task: string, since = 0): number => fired.filter((f) => f.app === app && f.task === task && f.at > since).length;
    // Each 100 ms of wall-clock time fires each task's punctuator once, with the time it is due.
    for (let k = 1; k <= 3; k++) {
      clock.advance(100);
      await eventually(() => count('a', '0_0') === k && count('a', '0_1') === k, 10_000, `both tasks of a punctuate ${k} times`);
    }
    // A long pause fires once, not once per missed interval (Kafka Streams' wall-clock semantics).
    clock.advance(350);
    await eventually(() => count('a', '0_0') === 4 && count('a', '0_1') === 4, 10_000, 'one firing after a pause');
    await new Promise((r) => setTimeout(r, 300));
    expect(count('a', '0_0')).toBe(4);

    const b = await make('b');
    await b.start();
    await eventually(() => a.restoreStatus().length === 1 && b.restoreStatus().length === 1 && a.state === 'RUNNING' && b.state === 'RUNNING', 30_000, 'one task each');
    const moved = b.restoreStatus()[0]!.taskId;
    const revokedAt = clock.now();
    for (let k = 1; k <= 3; k++) {
      clock.advance(100);
      await eventually(() => count('b', moved, revokedAt) === k, 10_000, `b punctuates the moved task ${k} times`);
    }
    const kept = a.restoreStatus()[0]!.taskId;
    await eventually(() => count('a', kept, revokedAt) === 3, 10_000, `a keeps punctuating its remaining task (${JSON.stringify(fired.slice(-12))}, kept ${kept}, since ${revokedAt})`);
    expect(count('a', moved, revokedAt)).toBe(0);
  });
});
