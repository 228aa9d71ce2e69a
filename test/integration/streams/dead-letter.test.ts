import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp } from '../../../src/streams/index.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { kafkaBrokers, testKafkaClient, uniqueName } from '../../support/stack-env.ts';
import { createTopics, eventually, fastGroup, produce, quietLogger, readTopic, storeContents, tempDir } from './helpers.ts';

describe('a record that throws in a processor', () => {
  const apps: StreamsApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const c of cleanups) await c();
  });

  it('lands on the dead-letter topic with its reason, and the records after it are processed', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const dlq = uniqueName('dlq');
    await createTopics([[input, 2], [output, 2], [dlq, 1]]);
    const dir = await tempDir('ps-dlq-');
    cleanups.push(dir.remove);
    const app = new StreamsApp(countingTopology(input, output), {
      applicationId: uniqueName('dlq-app'), brokers: kafkaBrokers(), stateDir: dir.path, commitIntervalMs: 200, deadLetterTopic: dlq, logger: quietLogger, kafkaClient: testKafkaClient(), ...fastGroup,
    });
    apps.push(app);
    await app.start();
    await app.waitForState('RUNNING');
    await produce(input, 2, [['u1', 'a'], ['u1', 'boom'], ['u1', 'b'], ['u1', 'c']]);
    await eventually(async () => (await storeContents<number>(app, 'counts')).get('u1') === 3, 30_000, 'records after the bad one');
    const [dead] = await readTopic(dlq, 1);
    expect(dead!.key).toBe('u1');
    expect(dead!.value?.toString()).toBe('boom');
    expect(dead!.headers['x-error-class']).toBe('Error');
    expect(dead!.headers['x-error-code']).toBe('PS_ERR_PROCESSING');
    expect(dead!.headers['x-error-message']).toBe('value was boom');
    expect(dead!.headers['x-source-topic']).toBe(input);
    expect(dead!.headers['x-source-offset']).toBe('1');
    expect(app.state).toBe('RUNNING');
  });
});
