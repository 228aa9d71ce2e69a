import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { StreamsDsrGateway } from '../../../src/app/adapters/streams-dsr-gateway.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { eventually } from '../../support/eventually.ts';
import { kafkaBrokers, kafkaClientEnv, schemaRegistryUrl } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, identities } from '../../unit/profiles/support/batches.ts';
import { acceptFutureTimestamps } from './future-timestamps.ts';
import { ShiftedClock } from './shifted-clock.ts';

const auth = { authorization: `Basic ${Buffer.from('key-ws1:secret-one').toString('base64')}` };
/** Of the clock the test moves: real time alone never reaches it while the test runs, so only the test commits. */
const COMMIT_INTERVAL_MS = 5 * 60_000;

/**
 * `GET /v1/dsr/{id}` reports `pending`, then `completed`. Under at-least-once the erasure's outputs leave
 * within a fetch, so the completion can follow the request within milliseconds and a poll may never see
 * `pending` (retention-erasure.test.ts therefore checks only the order of what it sees). Here the
 * erasure command and its completion travel in exactly-once transactions, which become visible only when
 * a commit ends them, and the commit interval is on a clock only the test moves: the request stays
 * `pending` for as long as the test holds that clock, and completes when it lets it move.
 */
describe('an erasure request is pending until the commits that carry it, then completed', () => {
  const { deployment } = testDeployment({ partitions: 2, sources: ['web'] });
  const { app } = deployment;
  const clock = new ShiftedClock();
  const keys = new ApiKeyStore([{ key: 'key-ws1', workspaces: ['1'], secretHash: hashSecret('secret-one') }]);
  let stateDir: string;
  let service: StreamsService;
  let dsr: StreamsDsrGateway;
  let api: FastifyInstance;
  let producer: BatchProducer;

  const profile = (mpid: string) => service.app.store<string, ProfileState>(PROFILES_STORE).get(mpid);
  const status = async (id: string) => {
    const res = await api.inject({ url: `/v1/dsr/${id}`, headers: auth });
    return { code: res.statusCode, body: res.json() as { status?: string; result?: string | null; completed_ms?: number | null; error?: string } };
  };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-dsr-status-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'exactly_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      commitIntervalMs: COMMIT_INTERVAL_MS,
      clock,
    });
    dsr = new StreamsDsrGateway(service.app, kafkaBrokers(), app.dsrTopic);
    api = await buildApi({ readiness: service, lookup: new StreamsProfileLookup(service.app, app.rawTopics), keys, dsr });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), dsr.connect(), service.start()]);
    // The test moves the clock by commit intervals, and records are stamped by it.
    await acceptFutureTimestamps(kafkaBrokers(), app.applicationId);
    await producer.send(app.rawTopics[0]!, [
      batch({ id: 'dora-1', mpid: '404', workspace_id: '1', timestamp_unixtime_ms: Date.now(), user_identities: identities({ email: 'dora@example.com' }), user_attributes: attrs({ tier: 'gold' }) }),
    ]);
    // Reads see the task's write cache: the profile is there before any commit.
    await eventually('dora merged', () => profile('404'));
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await service?.close();
    await producer?.disconnect();
    await dsr?.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('answers pending while the commits are held, completed (erased) once they happen, and never goes back', async () => {
    const posted = await api.inject({ method: 'POST', url: '/v1/dsr', headers: auth, payload: { workspace_id: '1', mpid: '404' } });
    expect(posted.statusCode).toBe(202);
    expect(posted.json().status).toBe('pending');
    const id = posted.json().request_id as string;

    // 404 until the router reads the request, then pending: the command to erase is in a transaction no commit ended.
    const first = await eventually('the request read', async () => {
      const s = await status(id);
      if (s.code === 404) return undefined;
      return s;
    });
    expect(first.code).toBe(200);
    expect(first.body).toMatchObject({ status: 'pending', result: null, completed_ms: null });
    // And it stays so while the clock stands: nothing is erased, nothing completes.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      expect((await status(id)).body.status).toBe('pending');
    }
    expect(await profile('404')).toBeDefined();

    // Let commits happen: one ends the transaction with the command, a later one that with the completion.
    const seen: string[] = ['pending'];
    const done = await eventually('the request completed', async () => {
      clock.advance(COMMIT_INTERVAL_MS);
      const s = await status(id);
      expect(s.code).toBe(200);
      seen.push(s.body.status!);
      return s.body.status === 'completed' ? s.body : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(done).toMatchObject({ status: 'completed', result: 'erased', completed_ms: expect.any(Number) });
    // Pending, then completed, never back.
    expect(seen.join(' ')).toMatch(/^(pending )+completed$/);
    expect(await profile('404')).toBeUndefined();
  });
});
