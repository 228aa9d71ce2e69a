import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp, numberSerde } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { everyKafkaClient, kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { readToEnd } from '../retention/changelog-reader.ts';
import { createTopics, eventually, kafka, produce, quietLogger, readTopic, storeContents, tempDir } from './helpers.ts';
import { startCountingChild } from './fixtures/counting-child.ts';

/**
 * Input records past the group's committed offsets right after a kill: all the killed member may have
 * processed without committing (and some it never reached). Only these can be applied again after the
 * restart. Read before anything else commits, so a commit the broker took a moment after the kill only
 * makes the count larger, never smaller than the truth.
 */
async function uncommittedInput(groupId: string, topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let count = 0;
    for (const { partition, offset } of ends) {
      // -1: nothing committed yet, so everything from the start of the (new) topic counts.
      const from = Number(committed!.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
      count += Number(offset) - Math.max(0, from);
    }
    return count;
  } finally {
    await admin.disconnect();
  }
}

const cases = everyKafkaClient().flatMap((client) => (['exactly_once', 'at_least_once'] as const).map((guarantee) => [guarantee, client] as const));

describe.each(cases)('SIGKILL of a child process under %s (%s)', (guarantee, kafkaClient) => {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const apps: StreamsApp[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('keeps every input effect across kills while input flows: exactly once under EOS, under at-least-once repeating only input uncommitted at a kill', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const applicationId = uniqueName(`crash-${guarantee}`);
    await createTopics([[input, 2], [output, 2]]);
    const dir = await tempDir('ps-crash-');
    cleanups.push(dir.remove);
    const env = { INPUT: input, OUTPUT: output, APP_ID: applicationId, STATE_DIR: dir.path, GUARANTEE: guarantee, KAFKA_CLIENT: kafkaClient, BROKERS: kafkaBrokers().join(','), KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    const expected = new Map<string, number>();
    let sent = 0;
    // Summed over the kills: the most input any restart can apply a second time.
    let uncommittedAtKills = 0;
    const send = async (n: number): Promise<void> => {
      const recs: Array<[string, string]> = [];
      for (let i = 0; i < n; i++) {
        const k = `k${sent++ % 10}`;
        recs.push([k, 'x']);
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      await produce(input, 2, recs);
    };

    for (let round = 0; round < 2; round++) {
      const { child, running } = startCountingChild(env);
      children.push(child);
      await running;
      await send(50);
      await eventually(async () => (await readTopic(output, 1, 5000).catch(() => [])).length > 0, 10_000, 'some output');
      await send(50);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      uncommittedAtKills += await uncommittedInput(applicationId, input);
    }
    // Recover in-process with the same state dir and let it finish the input.
    const app = new StreamsApp(countingTopology(input, output), {
      applicationId, brokers: kafkaBrokers(), stateDir: dir.path, processingGuarantee: guarantee, commitIntervalMs: 100, logger: quietLogger, kafkaClient,
      sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, heartbeatIntervalMs: 500,
    });
    apps.push(app);
    await app.start();
    await app.waitForState('RUNNING', 40_000);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    const counts = async (): Promise<Map<string, number>> => storeContents<number>(app, 'counts');
    await eventually(async () => [...(await counts()).values()].reduce((a, b) => a + b, 0) >= total, 40_000, 'store caught up');

    // Exactly-once: exactly `total` committed outputs. At-least-once: outputs of records processed but not
    // committed before a kill are on the topic and come again after the restart, so there are more than
    // `total`: read to the end offsets (no transaction markers there), not just the first `total`.
    // The store is read live, so its count can be ahead of the output still in flight: read again until every
    // value is there (or 20 s passed; the assertions below then show what is missing).
    const readAll = async () => (await readToEnd(kafkaBrokers(), output)).map((e) => ({ key: e.key, value: e.value }));
    const complete = (recs: Array<{ key: string; value: Buffer | null }>) => [...expected].every(([k, n]) => {
      const seen = new Set(recs.filter((r) => r.key === k).map((r) => Number(numberSerde.deserialize(output, r.value!))));
      return Array.from({ length: n }, (_, i) => i + 1).every((v) => seen.has(v));
    });
    let outputs = guarantee === 'exactly_once' ? await readTopic(output, total, 20_000) : await readAll();
    for (const deadline = Date.now() + 20_000; guarantee === 'at_least_once' && !complete(outputs) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 500));
      outputs = await readAll();
    }
    const byKey = new Map<string, number[]>();
    for (const o of outputs) byKey.set(o.key, [...(byKey.get(o.key) ?? []), Number(numberSerde.deserialize(output, o.value!))]);
    const store = await counts();
    if (guarantee === 'exactly_once') {
      for (const [k, n] of expected) {
        expect(store.get(k), k).toBe(n);
        expect([...byKey.get(k)!].sort((a, b) => a - b), k).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      }
    } else {
      // No loss: every count reached, every output value 1..n seen at least once.
      for (const [k, n] of expected) {
        expect(store.get(k)!, k).toBeGreaterThanOrEqual(n);
        for (let v = 1; v <= n; v++) expect(byKey.get(k), `${k}=${v}`).toContain(v);
      }
      // And duplicates only from what was not committed at a kill: a record below the committed position is
      // never applied twice, so the store counts at most that many extra, and the topic holds at most that
      // many extra outputs (each such record emitted once before the kill and once after).
      const extraCounted = [...expected].reduce((sum, [k, n]) => sum + store.get(k)! - n, 0);
      expect(extraCounted).toBeLessThanOrEqual(uncommittedAtKills);
      expect(outputs.length - total).toBeLessThanOrEqual(uncommittedAtKills);
    }
  });
});
