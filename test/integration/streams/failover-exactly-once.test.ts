import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, partitionForKey } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, kafka, storeContents, tempDir } from './helpers.ts';
import { startCountingChild } from './fixtures/counting-child.ts';

/** The coordinator aborts an abandoned transaction only after its timeout (30 s) and its next abort check. */
const TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * Exactly-once with one transactional producer per instance: an instance killed mid-transaction leaves it
 * open, and read-committed readers of its output partitions see nothing newer until it ends. The survivor
 * fences the departed member's transactional id when it takes the tasks over, so outputs resume after the
 * session timeout, not after the transaction timeout, and every input still has exactly one output.
 */
describe('failover to another instance under exactly-once', () => {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const c of cleanups) await c();
  });

  it('aborts the killed instance\'s open transaction at once, and every input has exactly one output', async () => {
    const input = uniqueName('fo-in');
    const output = uniqueName('fo-out');
    const applicationId = uniqueName('fo-app');
    await createTopics([[input, 2], [output, 2]]);
    const dirA = await tempDir('ps-fo-a-');
    const dirB = await tempDir('ps-fo-b-');
    cleanups.push(dirA.remove, dirB.remove);

    const a = startCountingChild({ INPUT: input, OUTPUT: output, APP_ID: applicationId, STATE_DIR: dirA.path, GUARANTEE: 'exactly_once', BROKERS: kafkaBrokers().join(','), KAFKAJS_NO_PARTITIONER_WARNING: '1' });
    children.push(a.child);
    await a.running;
    const infos: string[] = [];
    const b = new StreamsApp(countingTopology(input, output), {
      applicationId, brokers: kafkaBrokers(), stateDir: dirB.path, processingGuarantee: 'exactly_once', commitIntervalMs: 100, ...fastGroup,
      logger: { debug: () => undefined, info: (_o, m) => void infos.push(m ?? ''), warn: () => undefined, error: (o, m) => console.error(m, o) },
    });
    cleanups.unshift(() => b.close());
    await b.start();
    await eventually(() => b.state === 'RUNNING' && b.restoreStatus().length === 1, 60_000, 'B running with one of the two tasks');

    // Read committed, as a downstream consumer reads the outputs.
    const seen = new Map<string, number>();
    const reader = kafka().consumer({ groupId: uniqueName('fo-reader'), readUncommitted: false, maxWaitTimeInMs: 100 });
    await reader.connect();
    cleanups.unshift(() => reader.disconnect());
    await reader.subscribe({ topics: [output], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void seen.set(message.key!.toString(), (seen.get(message.key!.toString()) ?? 0) + 1) });

    // Input flows to both partitions until after the kill, so the killed instance has a transaction open.
    const producer = kafka().producer();
    await producer.connect();
    cleanups.unshift(() => producer.disconnect());
    const sent: string[] = [];
    const send = async (key: string): Promise<void> => {
      await producer.send({ topic: input, acks: -1, messages: [{ key, value: 'x', partition: partitionForKey(Buffer.from(key), 2) }] });
      sent.push(key);
    };
    let flowing = true;
    const flow = (async () => {
      for (let i = 0; flowing; i++) {
        await send(`k-${i}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await eventually(() => seen.size >= 50, 30_000, 'outputs flowing');
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    const killed = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    flowing = false;
    await flow;

    await eventually(() => sent.every((k) => seen.has(k)), TRANSACTION_TIMEOUT_MS + 30_000, 'an output for every input');
    const resumedMs = Date.now() - killed;
    expect(infos).toContain('aborted the open transaction of a member that left the group');
    // Session timeout (6 s), rejoin and restore; waiting for the transaction timeout would take 30-40 s.
    expect(resumedMs, `every output readable ${resumedMs} ms after the kill`).toBeLessThan(TRANSACTION_TIMEOUT_MS * 0.6);
    // Exactly once: one output per input (each key is counted once, to 1).
    await new Promise((r) => setTimeout(r, 1_000));
    const repeated = [...seen].filter(([, n]) => n !== 1);
    expect(repeated, 'outputs seen more than once').toEqual([]);
    const counts = await storeContents<number>(b, 'counts');
    expect(sent.filter((k) => counts.get(k) !== 1)).toEqual([]);
  });
});
