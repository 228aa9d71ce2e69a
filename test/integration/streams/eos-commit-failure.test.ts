import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, partitionForKey } from '../../../src/streams/index.ts';
import { StreamsError } from '../../../src/streams/errors.ts';
import { createKafkaPort, type KafkaPortFactory } from '../../../src/streams/internals/kafka-client.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, kafka, quietLogger, storeContents, tempDir } from './helpers.ts';

/**
 * Exactly-once with one transaction for every task: a refused commit aborts every task's outputs since the
 * last commit, and the transaction opened after it holds outputs of records processed meanwhile. Every task
 * must drop its uncommitted state and the producer be replaced (its InitProducerId aborts that transaction),
 * or outputs would be lost or doubled. The refusal is injected into the real port once.
 */
describe('a refused exactly-once commit', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('drops every task and the open transaction, and the counts and outputs stay exact', async () => {
    const input = uniqueName('refused-in');
    const output = uniqueName('refused-out');
    await createTopics([[input, 2], [output, 2]]);
    const dir = await tempDir('ps-refused-');
    cleanups.push(dir.remove);
    let commits = 0;
    let transactionalProducers = 0;
    const faulty: KafkaPortFactory = async (context) => {
      const port = await createKafkaPort('platformatic', context);
      // The real port rejoins the group when a commit is refused (a rebalance then gives the tasks back at once).
      let consumer: { rejoin(): void } | undefined;
      const createGroupConsumer = port.createGroupConsumer.bind(port);
      port.createGroupConsumer = (options) => {
        const c = createGroupConsumer(options);
        consumer = c as unknown as { rejoin(): void };
        return c;
      };
      const createProducer = port.createProducer.bind(port);
      port.createProducer = async (options) => {
        const producer = await createProducer(options);
        if (!options.transactionalId) return producer;
        transactionalProducers++;
        const commit = producer.sendTransactionally.bind(producer);
        producer.sendTransactionally = (records, groupId, offsets) => {
          // The 5th commit with offsets is refused as the group would refuse a zombie's: nothing of it is sent.
          if (offsets.length > 0 && ++commits === 5) {
            consumer?.rejoin();
            return Promise.reject(new StreamsError('PS_ERR_TASK_MIGRATED', 'injected: the group moved on'));
          }
          return commit(records, groupId, offsets);
        };
        return producer;
      };
      return port;
    };
    const app = new StreamsApp(countingTopology(input, output), {
      applicationId: uniqueName('refused'), brokers: kafkaBrokers(), stateDir: dir.path, processingGuarantee: 'exactly_once',
      commitIntervalMs: 100, logger: quietLogger, kafkaClient: faulty, ...fastGroup,
    });
    cleanups.unshift(() => app.close());
    await app.start();
    await app.waitForState('RUNNING');

    const seen: Array<{ key: string; count: number }> = [];
    const reader = kafka().consumer({ groupId: uniqueName('refused-reader'), readUncommitted: false, maxWaitTimeInMs: 100 });
    await reader.connect();
    cleanups.unshift(() => reader.disconnect());
    await reader.subscribe({ topics: [output], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void seen.push({ key: message.key!.toString(), count: Number(message.value!.readBigInt64BE(0)) }) });

    const producer = kafka().producer();
    await producer.connect();
    cleanups.unshift(() => producer.disconnect());
    const keys = ['a', 'b', 'c', 'd'];
    const sent = new Map<string, number>();
    // In rounds, so commits (and the refused one) fall between records of every task.
    for (let round = 0; round < 30; round++) {
      await producer.send({ topic: input, acks: -1, messages: keys.map((key) => ({ key, value: 'x', partition: partitionForKey(Buffer.from(key), 2) })) });
      for (const k of keys) sent.set(k, (sent.get(k) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 40));
    }
    await eventually(() => seen.length >= 120, 60_000, 'an output for every input');
    await new Promise((r) => setTimeout(r, 1_000));

    expect(commits, 'the refusal was injected').toBeGreaterThanOrEqual(5);
    expect(transactionalProducers, 'the producer was replaced').toBeGreaterThanOrEqual(2);
    // Exactly once: per key the counts 1..n, each once, none missing.
    for (const k of keys) {
      expect(seen.filter((s) => s.key === k).map((s) => s.count), `outputs of ${k}`).toEqual(Array.from({ length: sent.get(k)! }, (_, i) => i + 1));
    }
    const counts = await storeContents<number>(app, 'counts');
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(sent));
  });
});
