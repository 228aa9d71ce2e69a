import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamsApp, partitionForKey, type StreamsConfig, type StreamsState } from '../../../src/streams/index.ts';
import { eventually } from '../../support/eventually.ts';
import { FakeKafka } from './fake-kafka.ts';
import { countingTopology } from './support.ts';

/**
 * StreamsApp's own logic (task lifecycle across rebalances, restore, commits, a refused commit, fatal errors)
 * against an in-memory Kafka (`fake-kafka.ts`), with real RocksDB state: what `test/integration/streams/`
 * checks against a broker, in a second or two per case.
 */

type Guarantee = NonNullable<StreamsConfig['processingGuarantee']>;

const APP = 'counter';
const PARTITIONS = 4;
const CHANGELOG = `${APP}-counts-changelog`;
/** Each case takes a second or two: ten means something is stuck. */
const WAIT = { timeoutMs: 10_000, intervalMs: 20 };

const partitionOf = (key: string): number => partitionForKey(Buffer.from(key), PARTITIONS);

/** Three keys per input partition, so every task has work. */
const KEYS = ((): string[] => {
  const keys: string[] = [];
  const per = new Array<number>(PARTITIONS).fill(0);
  for (let i = 0; keys.length < 3 * PARTITIONS; i++) {
    const key = `user-${i}`;
    const p = partitionOf(key);
    if (per[p]! < 3) {
      per[p] = per[p]! + 1;
      keys.push(key);
    }
  }
  return keys;
})();

let fake: FakeKafka;
const apps: StreamsApp[] = [];
const dirs: string[] = [];

beforeEach(() => {
  fake = new FakeKafka();
  fake.createTopic('in', PARTITIONS);
  fake.createTopic('out', PARTITIONS);
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await fake.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface Instance {
  readonly app: StreamsApp;
  /** Every state the app moved to, in order. */
  readonly states: StreamsState[];
  /** What it logged at error level: a fatal error always is. */
  readonly errors: Array<{ msg: string; code: unknown }>;
}

async function instance(processingGuarantee: Guarantee, config: Partial<StreamsConfig> = {}): Promise<Instance> {
  const stateDir = await mkdtemp(join(tmpdir(), 'ps-fake-kafka-'));
  dirs.push(stateDir);
  const errors: Instance['errors'] = [];
  const quiet = (): void => undefined;
  const app = new StreamsApp(countingTopology('in', 'out'), {
    applicationId: APP,
    brokers: ['fake:9092'],
    stateDir,
    processingGuarantee,
    kafkaClient: fake.port(),
    commitIntervalMs: 100,
    sessionTimeoutMs: 6000,
    rebalanceTimeoutMs: 6000,
    heartbeatIntervalMs: 100,
    logger: { debug: quiet, info: quiet, warn: quiet, error: (obj, msg) => errors.push({ msg: msg ?? '', code: (obj as { code?: unknown }).code }) },
    ...config,
  });
  const states: StreamsState[] = [];
  app.on('state', (next) => states.push(next));
  apps.push(app);
  return { app, states, errors };
}

/** Keyed input, partitioned as Java's producer would; counts what was sent per key. */
class Input {
  readonly sent = new Map<string, number>();

  /** The offset of each record. */
  send(keys: readonly string[], value = 'x'): bigint[] {
    for (const k of keys) this.sent.set(k, (this.sent.get(k) ?? 0) + 1);
    return fake.produce('in', keys.map((key) => ({ key, value, partition: partitionOf(key) })));
  }

  /**
   * A round of every key every few ms until `until()` holds, then `after` rounds more: input that keeps
   * coming while the group changes, so rebalances and commits fall between records of every task.
   */
  async flow(until: () => boolean, after: number): Promise<void> {
    for (let round = 0, left = after; round < 1000 && (!until() || left-- > 0); round++) {
      this.send(KEYS);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** A count as the topology's numberSerde writes it (8 bytes, big-endian). */
const countOf = (bytes: Buffer): number => Number(bytes.readBigInt64BE(0));

const byKey = <V>(m: ReadonlyMap<string, V>): Record<string, V> => Object.fromEntries(m);

const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** Per key, the counts 1..n: what the topology sends for n records of the key, each counted once. */
function sequences(sent: ReadonlyMap<string, number>): Record<string, number[]> {
  return Object.fromEntries([...sent].map(([k, n]) => [k, oneTo(n)]));
}

/** Per key, the counts on "out" in the order a read-committed reader sees them. */
function outputs(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of fake.records('out')) {
    const key = r.key!.toString();
    out.set(key, [...(out.get(key) ?? []), countOf(r.value!)]);
  }
  return out;
}

/** Per key, the last count in the changelog: what a restore would rebuild. */
function changelog(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of fake.records(CHANGELOG)) out.set(r.key!.toString(), countOf(r.value!));
  return out;
}

/** Every input partition's committed offset is its end. */
function inputCommitted(): boolean {
  const committed = fake.committed(APP);
  return fake.ends('in').every((end, p) => committed.get(`in:${p}`) === end);
}

/** Every input record was processed (by whichever instance owned its partition then). */
function processedAll(...instances: StreamsApp[]): boolean {
  return fake.ends('in').every((end, p) => instances.some((a) => a.lastProcessedOffsets().get(`in:${p}`) === String(end - 1n)));
}

/** Every app RUNNING, and their RUNNING tasks cover every partition once. */
function settled(...instances: StreamsApp[]): boolean {
  const tasks = instances.flatMap((a) => a.restoreStatus());
  return instances.every((a) => a.state === 'RUNNING') && tasks.every((t) => t.state === 'RUNNING') && tasks.length === PARTITIONS && new Set(tasks.map((t) => t.taskId)).size === PARTITIONS;
}

/** The "counts" store across the instances, through interactive queries; a key in two stores fails. */
async function counts(...instances: StreamsApp[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const app of instances) {
    for await (const { key, value } of app.store<string, number>('counts').range()) {
      expect(out, `key ${key} counted by two instances`).not.toHaveProperty(key);
      out[key] = value;
    }
  }
  return out;
}

/**
 * After tasks moved between instances and every app closed: nothing was committed for a partition after it moved,
 * each count went out once and in order, the changelog holds the exact counts, every input is committed, no
 * transaction is left open and nothing was logged as an error.
 */
function expectMovedExactly(input: Input, ...instances: Instance[]): void {
  expect(fake.lateCommits(APP)).toEqual([]);
  expect(byKey(outputs())).toEqual(sequences(input.sent));
  expect(byKey(changelog())).toEqual(byKey(input.sent));
  expect(inputCommitted()).toBe(true);
  expect(fake.openTransactions).toBe(0);
  expect(instances.flatMap((i) => i.errors)).toEqual([]);
}

describe.each<Guarantee>(['at_least_once', 'exactly_once'])('StreamsApp on a fake Kafka, %s', (guarantee) => {
  it('one instance counts every input once, sends each count, commits the input offsets and logs the counts to the changelog', async () => {
    const { app, errors } = await instance(guarantee);
    await app.start();
    await app.waitForState('RUNNING');
    const input = new Input();
    for (let round = 0; round < 10; round++) input.send(KEYS);

    await eventually('every input offset committed', inputCommitted, WAIT);
    expect(await counts(app)).toEqual(byKey(input.sent));
    expect(byKey(outputs())).toEqual(sequences(input.sent));
    expect(byKey(changelog())).toEqual(byKey(input.sent));
    await app.close();
    expect(fake.openTransactions).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a second instance joining while input flows: the first commits before its tasks move, the second restores them first, no count lost or doubled', async () => {
    // No commit by interval: what the first processed before the rebalance is committed by its revoke commit or not at all.
    const a = await instance(guarantee, { commitIntervalMs: 60_000 });
    const b = await instance(guarantee, { commitIntervalMs: 60_000 });
    await a.app.start();
    await a.app.waitForState('RUNNING');
    const input = new Input();
    input.send(KEYS);
    await eventually('the first processed input of every partition', () => processedAll(a.app), WAIT);

    const flowing = input.flow(() => b.app.restoreStatus().some((t) => t.state === 'RUNNING'), 10);
    await b.app.start();
    await flowing;
    await eventually('two tasks each, every input processed', () => settled(a.app, b.app) && b.app.restoreStatus().length === 2 && processedAll(a.app, b.app), WAIT);

    // The tasks the second took over held counts of the first: it read them from the changelog before processing.
    for (const t of b.app.restoreStatus()) {
      expect(BigInt(t.restored), t.taskId).toBeGreaterThan(0n);
      expect(t.restored, t.taskId).toBe(t.total);
    }
    expect(await counts(a.app, b.app)).toEqual(byKey(input.sent));
    await a.app.close();
    await b.app.close();
    // Everything the first processed of a moved partition was committed while the partition was still its own.
    expectMovedExactly(input, a, b);
  });

  it('an instance leaving hands its tasks back: the other restores them from the changelog, no count lost or doubled', async () => {
    const a = await instance(guarantee);
    const b = await instance(guarantee);
    await a.app.start();
    await a.app.waitForState('RUNNING');
    await b.app.start();
    await eventually('two tasks each', () => settled(a.app, b.app) && a.app.restoreStatus().length === 2, WAIT);
    const input = new Input();
    for (let round = 0; round < 5; round++) input.send(KEYS);
    await eventually('every input processed', () => processedAll(a.app, b.app), WAIT);
    const handedBack = b.app.restoreStatus().map((t) => t.taskId);

    const flowing = input.flow(() => settled(a.app), 5);
    await b.app.close();
    await flowing;
    await eventually('the first runs every task, every input processed', () => settled(a.app) && processedAll(a.app, b.app), WAIT);

    // The first never processed these partitions: everything it knows of them came from the changelog.
    const restored = a.app.restoreStatus().filter((t) => handedBack.includes(t.taskId));
    expect(restored).toHaveLength(2);
    for (const t of restored) expect(BigInt(t.restored), t.taskId).toBeGreaterThan(0n);
    expect(await counts(a.app)).toEqual(byKey(input.sent));
    await a.app.close();
    expectMovedExactly(input, a, b);
  });
});

describe('StreamsApp on a fake Kafka, a commit refused because the group moved to a new generation', () => {
  /** Input in rounds, the refusal injected once a commit has gone through, and input after it until all is committed again. */
  async function refuseOneCommit(app: StreamsApp): Promise<Input> {
    await app.start();
    await app.waitForState('RUNNING');
    const input = new Input();
    await input.flow(() => fake.committed(APP).size > 0, 0);
    fake.refuseNextCommit(APP);
    await input.flow(() => fake.refusedCommits > 0, 10);
    await eventually('every input committed, every task running again', () => inputCommitted() && settled(app), WAIT);
    return input;
  }

  it('exactly-once: the app stays RUNNING, drops and recreates every task with a new producer, and counts and outputs stay exact', async () => {
    const { app, states, errors } = await instance('exactly_once', { commitIntervalMs: 50 });
    const input = await refuseOneCommit(app);

    expect(fake.refusedCommits).toBe(1);
    expect(states).not.toContain('ERROR');
    // The member rejoined and the assignment recreated the tasks.
    expect(states.slice(states.indexOf('RUNNING'))).toContain('REBALANCING');
    // Replaced once: the new producer aborted the transaction opened after the refused one.
    expect([...fake.producerInits().values()]).toEqual([2]);
    expect(byKey(outputs())).toEqual(sequences(input.sent));
    expect(await counts(app)).toEqual(byKey(input.sent));
    expect(byKey(changelog())).toEqual(byKey(input.sent));
    await app.close();
    expect(fake.openTransactions).toBe(0);
    expect(errors).toEqual([]);
  });

  it('at-least-once: the app stays RUNNING, recreates its tasks, and every input is counted at least once', async () => {
    const { app, states, errors } = await instance('at_least_once', { commitIntervalMs: 50 });
    const input = await refuseOneCommit(app);

    expect(fake.refusedCommits).toBe(1);
    expect(states).not.toContain('ERROR');
    expect(states.slice(states.indexOf('RUNNING'))).toContain('REBALANCING');
    // The refused commit's RocksDB write went through, its input offsets did not: records after the last
    // committed offset are applied again, as after a crash.
    const got = await counts(app);
    const sent = outputs();
    for (const [key, n] of input.sent) {
      expect(got[key], key).toBeGreaterThanOrEqual(n);
      expect(sent.get(key), key).toEqual(expect.arrayContaining(oneTo(n)));
    }
    expect(errors).toEqual([]);
  });
});

describe('StreamsApp on a fake Kafka, a processor that throws', () => {
  it('moves the app to ERROR, logged as "stream runtime stopped" with PS_ERR_PROCESSING: it leaves the group and the record stays uncommitted', async () => {
    const { app, states, errors } = await instance('at_least_once');
    await app.start();
    await app.waitForState('RUNNING');
    const input = new Input();
    const key = KEYS[0]!;
    input.send(KEYS);
    const [boom] = input.send([key], 'boom');
    input.send(KEYS);

    await app.waitForState('ERROR', 5_000);
    const p = partitionOf(key);
    const task = `0_${p}`;
    expect(errors).toEqual([
      { msg: `stream runtime stopped: processing failed in task ${task}: task ${task}: record in/${p}@${boom} failed and no dead-letter topic is configured: value was boom`, code: 'PS_ERR_PROCESSING' },
    ]);
    await expect(app.store<string, number>('counts').get(key)).rejects.toMatchObject({ code: 'PS_ERR_APP_NOT_RUNNING' });
    await eventually('the instance left the group', () => fake.members(APP).length === 0, WAIT);
    // Not skipped: whoever runs the partition next reads the record again.
    expect(fake.committed(APP).get(`in:${p}`) ?? 0n).toBeLessThanOrEqual(boom!);
    await app.close();
    expect(states).toEqual(['REBALANCING', 'RUNNING', 'ERROR', 'NOT_RUNNING']);
  });
});
