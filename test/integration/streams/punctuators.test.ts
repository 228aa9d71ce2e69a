import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, Topology, stringSerde, type Processor, type ProcessorContext } from '../../../src/streams/index.ts';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
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
    const make = async (name: string): Promise<StreamsApp> => {
      const dir = await tempDir('ps-punct-');
      cleanups.push(dir.remove);
      const app = new StreamsApp(topology(name), { applicationId, brokers: kafkaBrokers(), stateDir: dir.path, logger: quietLogger, ...fastGroup });
      apps.push(app);
      return app;
    };
    const a = await make('a');
    await a.start();
    await a.waitForState('RUNNING');
    const count = (app: string, task: string, since = 0): number => fired.filter((f) => f.app === app && f.task === task && f.at >= since).length;
    await eventually(() => count('a', '0_0') >= 5 && count('a', '0_1') >= 5, 10_000, 'both tasks of a punctuate');
    // Roughly every 100 ms: consecutive firings of one task are at least the interval apart.
    const times = fired.filter((f) => f.task === '0_0').map((f) => f.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(100);

    const b = await make('b');
    await b.start();
    await eventually(() => a.restoreStatus().length === 1 && b.restoreStatus().length === 1 && a.state === 'RUNNING' && b.state === 'RUNNING', 30_000, 'one task each');
    const moved = b.restoreStatus()[0]!.taskId;
    await eventually(() => count('b', moved) >= 3, 10_000, 'b punctuates the moved task');
    const revokedAt = Date.now();
    await new Promise((r) => setTimeout(r, 500)); // a window in which a revoked task would have fired 5 times
    expect(count('a', moved, revokedAt)).toBe(0);
    const kept = a.restoreStatus()[0]!.taskId;
    expect(count('a', kept, revokedAt)).toBeGreaterThan(0);
  });
});
