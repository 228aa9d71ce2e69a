import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTopicFor } from '../../../src/config/app-config.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { deleteSubject, registerAsAnotherClient } from '../../support/foreign-registry-client.ts';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { readTopic } from '../../support/topic-reader.ts';

const BIN = resolve('bin/profile-stream.js');

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * kafkajs 2.2.4's request queue (requestQueue/index.js, scheduleCheckPendingRequests) computes a negative
 * delay from a broker's throttle answer, and Node 24 warns about it on stderr; that warning is kafkajs's,
 * not this command's, and is the only stderr output tolerated here.
 */
function withoutKafkajsTimerWarning(stderr: string): string {
  return stderr
    .replace(/\(node:\d+\) TimeoutNegativeWarning: -\d+ is a negative number\.\nTimeout duration was set to 1\.\n(\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n)?/g, '');
}

describe('profile-stream produce when another client registered the raw subject first', () => {
  const { deployment, appYaml, integrationsYaml } = testDeployment({ sources: ['web'], partitions: 1 });
  const topic = rawTopicFor(deployment.app.applicationId, 'web');
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-cli-foreign-'));
    await writeFile(join(dir, 'app.yaml'), appYaml);
    await writeFile(join(dir, 'integrations.yaml'), integrationsYaml);
    await ensureTopics(kafkaBrokers(), [{ topic, partitions: 1, purpose: 'test raw batches', config: {} }]);
    await registerAsAnotherClient(`${topic}-value`, SCHEMAS.batch, 'FORWARD_TRANSITIVE');
  }, 60_000);

  afterAll(async () => {
    await deleteSubject(`${topic}-value`);
    await rm(dir, { recursive: true, force: true });
  });

  it('produces the batches, whatever compatibility level the subject has', async () => {
    const env = { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), SCHEMA_REGISTRY_URL: schemaRegistryUrl(), TOPOLOGY_DIR: dir, LOG_LEVEL: 'warn' };
    const produced = await cli(['produce', '--sample', '4'], env);
    expect(withoutKafkajsTimerWarning(produced.stderr)).toBe('');
    expect(produced.code).toBe(0);
    expect(produced.stdout).toContain('4 batch(es)');
    expect(await readTopic(kafkaBrokers(), topic, 4, 15_000)).toHaveLength(4);
  }, 120_000);
});
