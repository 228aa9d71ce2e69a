import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { partitionForKey, StreamsApp, type StreamsState } from '../../../src/streams/index.ts';
import { findJava } from '../../../stack/java-runtime.ts';
import { startKafka, stopKafka } from '../../../stack/kafka-node.ts';
import { stackConfig, stackPaths } from '../../../stack/stack-config.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { eventually, fastGroup, tempDir } from './helpers.ts';

const { Kafka, logLevel } = kafkajs;

/**
 * A broker of this test's own (own ports and data directory; the jars of the shared stack), because the
 * test stops it: stopping the shared broker would break every other run using it.
 */
async function privateBroker(root: string): Promise<{ brokers: string; start(): Promise<void>; stop(): Promise<void> }> {
  const shared = stackPaths(stackConfig());
  const config = { ...stackConfig(), cacheDir: root, kafkaPort: 26292, controllerPort: 26293 };
  const paths = { ...stackPaths(config), kafkaLibs: shared.kafkaLibs };
  mkdirSync(join(root, 'run'), { recursive: true });
  const java = await findJava();
  return {
    brokers: `127.0.0.1:${config.kafkaPort}`,
    start: async () => {
      await startKafka(config, paths, java);
    },
    stop: async () => {
      await stopKafka(paths);
    },
  };
}

describe.each(['platformatic'] as const)('a broker restart (%s client)', (kafkaClient) => {
  const cleanups: Array<() => Promise<void>> = [];
  // After each test, not all: the next client's test starts its private broker on the same ports.
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('pauses processing instead of stopping, and resumes by itself with every count exact under exactly-once', async ({ onTestFailed }) => {
    const root = await tempDir(`ps-broker-restart-${kafkaClient}-`);
    cleanups.push(root.remove);
    const broker = await privateBroker(root.path);
    cleanups.push(broker.stop);
    await broker.start();
    const brokers = [broker.brokers];
    const client = new Kafka({ clientId: 'broker-restart-test', brokers, logLevel: logLevel.NOTHING });
    await ensureTopics(brokers, [
      { topic: 'in', partitions: 2, purpose: 'test', config: {} },
      { topic: 'out', partitions: 2, purpose: 'test', config: {} },
    ]);

    const warnings: string[] = [];
    const app = new StreamsApp(countingTopology('in', 'out'), {
      applicationId: 'restart-app',
      brokers,
      stateDir: join(root.path, 'state'),
      processingGuarantee: 'exactly_once',
      // kafkajs' consumer crashes as soon as the brokers are gone; platformatic retries inside the library
      // for about 17 s first, so a short outage may be ridden through before the runtime is told.
      kafkaClient,
      commitIntervalMs: 100,
      logger: { info: (o, m) => warnings.push(`INFO ${String(m)} ${JSON.stringify(o)}`), debug: (o, m) => warnings.push(`DEBUG ${String(m)} ${JSON.stringify(o).slice(0, 200)}`), warn: (o, m) => warnings.push(`${String(m)} ${JSON.stringify(o)}`), error: (o, m) => warnings.push(`ERROR ${String(m)} ${JSON.stringify(o)}`) },
      ...fastGroup,
    });
    cleanups.push(() => app.close());
    const states: StreamsState[] = [];
    app.on('state', (s) => states.push(s));

    const expected = new Map<string, number>();
    const send = async (n: number): Promise<void> => {
      const producer = client.producer();
      await producer.connect();
      const messages = [];
      for (let i = 0; i < n; i++) {
        const key = `user-${i % 20}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
        messages.push({ key, value: 'x', partition: partitionForKey(Buffer.from(key), 2) });
      }
      await producer.send({ topic: 'in', acks: -1, messages });
      await producer.disconnect();
    };
    const countsMatch = async (): Promise<boolean> => {
      if (app.state !== 'RUNNING') return false;
      try {
        const got = new Map<string, number>();
        for await (const { key, value } of app.store<string, number>('counts').range()) got.set(key, value);
        return got.size === expected.size && [...expected].every(([k, v]) => got.get(k) === v);
      } catch {
        return false; // a task restoring after the rejoin
      }
    };

    // On failure the reason is in what the runtime logged, not in the assertion.
    onTestFailed(() => console.log(`runtime log (last 40):\n${warnings.filter((w) => !w.startsWith('DEBUG')).slice(-40).join('\n')}`));
    await app.start();
    await app.waitForState('RUNNING');
    await send(300);
    await eventually(countsMatch, 30_000, 'counts before the restart');

    await broker.stop();
    // The runtime notices (a fetch or commit fails) and waits; it must not move to ERROR.
    await eventually(() => app.outage !== undefined, 60_000, 'the outage to be noticed');
    expect(app.outage?.part).toBe('kafka');
    expect(app.state).toBe('REBALANCING');
    await new Promise((r) => setTimeout(r, 5_000));
    expect(app.state).not.toBe('ERROR');
    // Reads go on from local state while Kafka is away (the Profile API answers as far as processing got).
    for (const [key, n] of expected) expect(await app.store<string, number>('counts').get(key), key).toBe(n);

    await broker.start();
    const back = Date.now();
    await send(300);
    await eventually(countsMatch, 60_000, 'counts after the restart').catch((e: Error) => {
      throw new Error(`${e.message}; app ${app.state}, outage ${JSON.stringify(app.outage)}, tasks ${JSON.stringify(app.restoreStatus())}`);
    });
    const resumedMs = Date.now() - back;
    console.log(`broker restart: processing caught up ${resumedMs} ms after the broker answered again`);
    expect(app.outage).toBeUndefined();
    expect(states).not.toContain('ERROR');

    // Exactly once: per key, the committed outputs are 1..n, each once, across the outage.
    const seen = new Map<string, number[]>();
    const consumer = client.consumer({ groupId: 'restart-reader', readUncommitted: false, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['out'], fromBeginning: true });
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    let received = 0;
    void consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        seen.set(key, [...(seen.get(key) ?? []), Number(message.value!.readBigInt64BE(0))]);
        received++;
      },
    });
    // A transaction the outage left open on the restarted broker holds read-committed readers back until
    // its coordinator aborts it: at most the producer's transaction timeout (30 s) plus the broker's
    // cleanup interval (10 s). Missing outputs still fail after that, with what arrived.
    await eventually(() => received >= total, 60_000, 'every output record').catch((e: Error) => {
      throw new Error(`${e.message}: ${received} of ${total}; per key ${JSON.stringify([...expected].map(([k, n]) => [k, n, seen.get(k)?.length ?? 0]))}`);
    });
    await new Promise((r) => setTimeout(r, 1000)); // anything beyond `total` would be a duplicate
    await consumer.disconnect();
    for (const [key, n] of expected) expect(seen.get(key), key).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(received).toBe(total);
  }, 300_000);
});
