import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { kafkaBrokers, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, consent, customEvent, decision, deviceInfo, identities, screenView } from '../../unit/profiles/support/batches.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the User Activity View in a real browser (Debian Chromium, headless)', () => {
  const { deployment } = testDeployment({ partitions: 2, sources: ['web', 'ios'] });
  const keys = new ApiKeyStore([{ key: 'demo-key-0001', workspaces: ['1'], secretHash: hashSecret('demo-secret') }]);
  let stateDir: string;
  let service: StreamsService;
  let api: FastifyInstance;
  let browser: Browser;
  let url: string;
  const t = Date.now() - 10 * 60_000;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (.ci/run does this)`);
    stateDir = await mkdtemp(join(tmpdir(), 'ps-ui-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({ deployment, env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once', ...kafkaClientEnv() }), brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger: pino({ level: 'warn' }), commitIntervalMs: 100 });
    const lookup = new StreamsProfileLookup(service.app, deployment.app.rawTopics);
    api = await buildApi({ readiness: service, lookup, keys, activityView: { history: lookup, uiDir: 'ui', integrations: deployment.integrations } });
    url = await api.listen({ host: '127.0.0.1', port: 0 });
    const producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), service.start()]);
    const who = identities({ email: 'ada@example.com', customer_id: 'ada-1' });
    await producer.send(deployment.app.rawTopics[0]!, [
      batch({ id: 'web-1', mpid: '7001', workspace_id: '1', source: 'web', timestamp_unixtime_ms: t, user_identities: who, user_attributes: attrs({ favourite_drink: 'Coffee', tier: 'silver' }), consent_state: consent({ marketing: decision(true, t) }), events: [screenView('Home', t), customEvent('add_to_cart', t + 1000)] }),
      batch({ id: 'web-2', mpid: '7001', workspace_id: '1', source: 'web', timestamp_unixtime_ms: t + 60_000, events: [customEvent('checkout', t + 60_000)] }),
    ]);
    await producer.send(deployment.app.rawTopics[1]!, [
      batch({ id: 'ios-1', mpid: '7001', workspace_id: '1', source: 'ios', timestamp_unixtime_ms: t + 120_000, user_identities: who, user_attributes: attrs({ tier: 'gold' }), device_info: deviceInfo({ device_application_stamp: 'ada-iphone', platform: 'iOS', device_model: 'iPhone15,2' }), events: [customEvent('purchase', t + 120_000)] }),
    ]);
    await producer.disconnect();
    const deadline = Date.now() + 30_000;
    while ((await service.app.store<string, IdentityOwner>(IDENTITY_INDEX_STORE).get('email:ada@example.com'))?.mpid !== '7001') {
      if (Date.now() > deadline) throw new Error('the test user was not indexed in time');
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await service?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('logs in, finds a user by email, shows the attribute the latest batch set, and opens a batch of the timeline', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await page.goto(url);
    await page.getByLabel('API key').fill('demo-key-0001');
    await page.getByLabel('Secret').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Unknown API key or wrong secret.').waitFor();
    await page.getByLabel('Secret').fill('demo-secret');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('demo-key-0001 · workspaces 1').waitFor();

    await page.getByLabel('Search by').selectOption('email');
    await page.getByLabel('Value (exact match)').fill('ada@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: 'Profile · MPID 7001' }).waitFor();

    // tier: silver from web, then gold from the latest batch (iOS).
    const tierRow = page.locator('#profile tr', { hasText: 'tier' });
    await expect(tierRow.locator('td').nth(1).textContent()).resolves.toBe('gold');
    await expect(tierRow.locator('td').nth(3).textContent()).resolves.toBe('ios');
    await expect(page.locator('#profile').textContent()).resolves.toContain('iPhone15,2');

    const entries = page.locator('#timeline > li');
    // The timeline is its own request after the profile's: wait for its three batches, don't count at once.
    await expect.poll(() => entries.count(), { timeout: 30_000 }).toBe(3);
    // Newest first: the iOS batch heads the timeline.
    await expect(entries.first().locator('summary').first().textContent()).resolves.toContain('ios');
    await entries.first().locator('summary').first().click();
    await page.locator('#timeline .batch-body', { hasText: 'purchase' }).waitFor();
    // Where each batch went: both test integrations take custom events; "ads" only those (1 of web-1's 2 events).
    await expect(entries.first().locator('summary .forwarding').first().textContent()).resolves.toBe('→ all→ ads');
    await expect(entries.nth(2).locator('.batch-body tr', { hasText: 'ads' }).textContent()).resolves.toContain('1 of 2 event(s)');
    // Events per day over the default 30 days: 2 + 1 + 1 events in 3 batches.
    // Loaded by a request of its own after the profile: wait for what it must say, not for the first paint.
    await page.locator('#per-day-total', { hasText: '4 event(s) in 3 batch(es) over the last 30 days' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: 'docs/activity-view.png', fullPage: true });
    await page.close();
  });
});
