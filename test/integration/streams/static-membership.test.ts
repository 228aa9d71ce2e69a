import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, produce, readTopic, tempDir } from './helpers.ts';
import { startCountingChild } from './fixtures/counting-child.ts';

/** Long enough that waiting for the dead member's session to expire would show plainly. */
const SESSION_TIMEOUT_MS = 45_000;

// Static membership is a feature of the platformatic client (kafkajs has none), so this runs on it whatever
// KAFKA_CLIENT says.
describe('static membership (platformatic client)', () => {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const c of cleanups) await c();
  });

  it('a member killed with SIGKILL and restarted on the same state dir processes again well before its session would expire', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    await createTopics([[input, 2], [output, 2]]);
    const dir = await tempDir('ps-static-');
    cleanups.push(dir.remove);
    const env = {
      INPUT: input, OUTPUT: output, APP_ID: uniqueName('static'), STATE_DIR: dir.path, GUARANTEE: 'exactly_once', KAFKA_CLIENT: 'platformatic',
      SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), BROKERS: kafkaBrokers().join(','), KAFKAJS_NO_PARTITIONER_WARNING: '1',
    };
    // Read committed from the beginning: under exactly-once each input record has exactly one output.
    const outputKeys = async (atLeast: number): Promise<Set<string>> => new Set((await readTopic(output, atLeast, 5000).catch(() => [])).map((e) => e.key));

    const first = startCountingChild(env);
    children.push(first.child);
    await first.running;
    await produce(input, 2, [['before-a', 'x'], ['before-b', 'x']]);
    await eventually(async () => (await outputKeys(2)).has('before-b'), 30_000, 'output before the kill');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const restarted = Date.now();
    const second = startCountingChild(env);
    children.push(second.child);
    await produce(input, 2, [['after-a', 'x'], ['after-b', 'x']]);
    await eventually(async () => {
      const keys = await outputKeys(4);
      return keys.has('after-a') && keys.has('after-b');
    }, SESSION_TIMEOUT_MS + 30_000, 'output after the restart');
    const resumedAfterMs = Date.now() - restarted;
    // Without static membership the join waits for the dead member's session (45 s) to expire.
    expect(resumedAfterMs, `processing resumed ${resumedAfterMs} ms after the restart`).toBeLessThan(SESSION_TIMEOUT_MS / 3);
    await second.running;
  });
});
