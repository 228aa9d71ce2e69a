import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { createBrokerKeystore } from '../../../stack/broker-security.ts';
import { findJava } from '../../../stack/java-runtime.ts';
import { deleteSubject } from '../../support/foreign-registry-client.ts';
import { kafkaBrokers, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { readTopic } from '../../support/topic-reader.ts';
import { startRegistryProxy } from './registry-proxy.ts';

const auth = { authorization: `Basic ${Buffer.from('key-reg-0001:secret-reg').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-reg-0001', workspaces: ['1'], secretHash: hashSecret('secret-reg') }]);
const ready = { readiness: () => ({ ready: true, detail: {} }) };

describe('POST /v2/events with the schema registry behind basic auth and TLS', () => {
  const topic = `${uniqueName('it-reg-auth')}.raw.web`;
  let root: string;
  let proxy: Awaited<ReturnType<typeof startRegistryProxy>>;
  let ca: string;
  const closers: Array<() => Promise<unknown>> = [];

  /** The API over a producer whose registry client has `basicAuth` (and trusts the proxy's certificate). */
  async function api(basicAuth: { username: string; password: string } | undefined): Promise<FastifyInstance> {
    const producer = new BatchProducer(kafkaBrokers(), proxy.url(''), uniqueName('reg-auth'), { registry: { ca, ...(basicAuth ? { basicAuth } : {}) } });
    await producer.connect();
    const app = await buildApi({ readiness: ready, keys, ingest: { sink: producer, rawTopicOf: () => topic, defaultSource: 'web' } });
    closers.push(() => app.close(), () => producer.disconnect());
    return app;
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ps-registry-auth-'));
    const tls = await createBrokerKeystore(await findJava(), root, { ips: ['127.0.0.1'] });
    ca = tls.caPem;
    proxy = await startRegistryProxy({ upstream: schemaRegistryUrl(), keystore: tls.keystore, username: 'registry-user', password: 'registry-pass' });
    await ensureTopics(kafkaBrokers(), [{ topic, partitions: 1, purpose: 'test raw batches', config: {} }]);
  }, 60_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await proxy?.close();
    await deleteSubject(`${topic}-value`);
    await rm(root, { recursive: true, force: true });
  });

  it('with the right credentials the schema is registered through the proxy and the batch is on the raw topic', async () => {
    const app = await api({ username: 'registry-user', password: 'registry-pass' });
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000021', source_request_id: 'reg-auth-ok' } });
    expect(res.statusCode, res.body).toBe(202);
    expect(proxy.counts.allowed).toBeGreaterThan(0);
    const records = await readTopic(kafkaBrokers(), topic, 1, 15_000);
    expect(records.map((r) => r.message.key!.toString())).toEqual(['8000000000000000021']);
  }, 30_000);

  it.each([
    ['a wrong password', { username: 'registry-user', password: 'wrong' }],
    ['no credentials', undefined],
  ])('with %s: 503 PS_ERR_API_SCHEMA_REGISTRY_UNAVAILABLE saying the registry refused the credentials, never Kafka', async (_what, basicAuth) => {
    const refusedBefore = proxy.counts.refused;
    const app = await api(basicAuth);
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000022' } });
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json().error).toBe('PS_ERR_API_SCHEMA_REGISTRY_UNAVAILABLE');
    expect(res.json().message).toContain('HTTP 401');
    expect(res.json().message).toContain('the registry refused the credentials: check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD');
    expect(res.json().message).not.toContain('wrong');
    expect(proxy.counts.refused).toBeGreaterThan(refusedBefore);
  }, 30_000);
});
