import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../../stack/local-stack.ts';
import { processesMentioning } from '../../../stack/process-control.ts';
import { stackConfig } from '../../../stack/stack-config.ts';

// A second stack on its own ports and cache directory, so stopping it cannot disturb the shared one.
describe('the local stack', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'ps-stack-'));
  const stack = new LocalStack({ ...stackConfig(), cacheDir, kafkaPort: 29092, controllerPort: 29093, registryPort: 28081 });

  afterAll(async () => {
    await stack.down();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('starts Kafka and the registry, and a second up reuses them', async () => {
    const first = await stack.up();
    expect(first).toMatchObject({ brokers: '127.0.0.1:29092', kafka: 'started', registry: 'started' });
    const res = await fetch(`${first.schemaRegistryUrl}/subjects`);
    expect(res.status).toBe(200);
    const second = await stack.up();
    expect(second).toMatchObject({ kafka: 'reused', registry: 'reused' });
    const status = await stack.status();
    expect(status.kafka).toMatch(/^running/);
    expect(status.registry).toMatch(/^running/);
    // Two JVMs starting beside the shared stack: ≈30 s alone, minutes on a loaded 2-core machine.
  }, 300_000);

  it('stack down leaves no Java process of ours running', async () => {
    expect(processesMentioning(cacheDir).length).toBeGreaterThanOrEqual(2);
    const stopped = await stack.down();
    expect(stopped.length).toBeGreaterThanOrEqual(2);
    expect(processesMentioning(cacheDir)).toEqual([]);
    const status = await stack.status();
    expect(status).toMatchObject({ kafka: 'stopped', registry: 'stopped' });
  });
});
