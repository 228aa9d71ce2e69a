import { describe, expect, it } from 'vitest';
import { createPlatformaticPort } from '../../../src/streams/internals/platformatic/port.ts';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, kafka, quietLogger } from './helpers.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Exactly-once with one producer per instance (KIP-447): a task's new owner restores only once no former
 * owner's transaction still holds its input offsets. The transaction here comes from another client
 * (kafkajs), as a former owner's would from another process.
 */
describe('waiting for stable committed offsets before a restore (real broker)', () => {
  it('waits while a transaction holds offsets of the partitions, answers when it ends, and gives up at its deadline', async () => {
    const topic = uniqueName('stable-in');
    const group = uniqueName('stable-group');
    await createTopics([[topic, 2]]);
    const port = createPlatformaticPort({ clientId: uniqueName('stable'), brokers: kafkaBrokers(), logger: quietLogger });
    const producer = kafka().producer({ transactionalId: uniqueName('stable-txn'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const open = await producer.transaction();
      await open.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: '5' }] }] });
      // A partition the transaction does not hold is stable at once.
      await port.admin.waitForStableOffsets(group, [{ topic, partitions: [1] }], 5_000);

      let settled = false;
      const waiting = port.admin.waitForStableOffsets(group, [{ topic, partitions: [0, 1] }], 30_000).then(() => {
        settled = true;
      });
      await sleep(1_500);
      expect(settled).toBe(false);
      await open.commit();
      await waiting;
      expect(settled).toBe(true);

      const stuck = await producer.transaction();
      await stuck.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }] });
      await expect(port.admin.waitForStableOffsets(group, [{ topic, partitions: [0] }], 500)).rejects.toMatchObject({ code: 'PS_ERR_RESTORE_FAILED', message: expect.stringContaining(`${topic}[0]`) });
      await stuck.abort();
      await port.admin.waitForStableOffsets(group, [{ topic, partitions: [0] }], 10_000);
    } finally {
      await producer.disconnect();
      await port.close();
    }
  });
});
