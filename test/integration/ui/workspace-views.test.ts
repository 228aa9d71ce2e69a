import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { workspaceViewSources } from '../../../src/app/adapters/workspace-view-sources.ts';
import type { Deployment } from '../../../src/config/deployment.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, customEvent, screenView } from '../../unit/profiles/support/batches.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CALCULATED = `calculated_attributes:
  - { name: plays_7d, workspace: "1", calculation: count, event: { type: custom_event, name: Play Song }, within_days: 7 }
  - { name: last_drink, workspace: "1", calculation: last_value, event: { type: custom_event, name: Order }, attribute: drink }
`;
const AUDIENCES = `audiences:
  - id: listeners
    name: Listeners
    workspace: "1"
    criteria: { event: { type: custom_event, name: Play Song }, at_least: 2, within_days: 7 }
`;

describe('Live Stream, Audiences and Calculated attributes in a real browser (Debian Chromium, headless) against the real pipeline', () => {
  const base = testDeployment({ partitions: 2, sources: ['web', 'ios'] }).deployment;
  const calculatedAttributes = parseCalculatedAttributesConfig(CALCULATED, 'c.yaml');
  const deployment: Deployment = { ...base, calculatedAttributes, audiences: parseAudiencesConfig(AUDIENCES, 'a.yaml', { calculatedAttributes }) };
  const keys = new ApiKeyStore([{ key: 'demo-key-0001', workspaces: ['1'], secretHash: hashSecret('demo-secret') }]);
  const web = deployment.app.rawTopics[0]!;
  let stateDir: string;
  let service: StreamsService;
  let views: ReturnType<typeof workspaceViewSources>;
  let api: FastifyInstance;
  let producer: BatchProducer;
  let browser: Browser;
  let url: string;
  const now = () => Date.now();
  const ws1 = (b: Partial<Batch> & { id: string }): Batch => batch({ workspace_id: '1', source: 'web', timestamp_unixtime_ms: now(), ...b });
  const play = () => customEvent('Play Song', now());
  const order = (drink: string) => customEvent('Order', now(), attrs({ drink }));

  async function profileOf(mpid: string, until: (p: ProfileState) => boolean, what: string): Promise<ProfileState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const p = await service.app.store<string, ProfileState>(PROFILES_STORE).get(mpid).catch(() => undefined);
      if (p && until(p)) return p;
      if (Date.now() > deadline) throw new Error(`${what}: not seen within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function login(page: Page, hash: string): Promise<void> {
    await page.goto(`${url}#/${hash}`);
    await page.getByLabel('API key').fill('demo-key-0001');
    await page.getByLabel('Secret').fill('demo-secret');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('demo-key-0001 · workspaces 1').waitFor();
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (.ci/run does this)`);
    stateDir = await mkdtemp(join(tmpdir(), 'ps-ui-views-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    const logger = pino({ level: 'warn' });
    service = new StreamsService({ deployment, env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once' }), brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger, commitIntervalMs: 100 });
    const lookup = new StreamsProfileLookup(service.app, deployment.app.rawTopics);
    views = workspaceViewSources({ deployment, app: service.app, brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger, applicationServer: undefined });
    api = await buildApi({ readiness: service, lookup, keys, activityView: { history: lookup, uiDir: 'ui', integrations: deployment.integrations }, workspaceViews: views.options });
    url = await api.listen({ host: '127.0.0.1', port: 0 });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), service.start()]);
    // Users for the calculated-attributes page: last drinks Tea, Coffee, Tea; plays 1, 1, 0.
    await producer.send(web, [
      ws1({ id: 'ca-1', mpid: '9101', events: [order('Tea'), play()] }),
      ws1({ id: 'ca-2', mpid: '9102', events: [order('Coffee'), play()] }),
      ws1({ id: 'ca-3', mpid: '9103', events: [order('Tea')] }),
    ]);
    await profileOf('9103', (p) => p.workspaces['1']?.calculated_attributes['last_drink']?.value === 'Tea', 'user 9103\'s last drink');
    await profileOf('9102', (p) => p.workspaces['1']?.calculated_attributes['last_drink']?.value === 'Coffee', 'user 9102\'s last drink');
    await profileOf('9101', (p) => p.workspaces['1']?.calculated_attributes['last_drink']?.value === 'Tea', 'user 9101\'s last drink');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await views?.close();
    await producer?.disconnect();
    await service?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('shows a batch produced to Kafka in the Live Stream within 2 s, filters by environment, pauses, shows the JSON, and its MPID opens the right profile', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await login(page, 'live');
    await page.getByText(/^live · /).waitFor({ timeout: 20_000 });

    // Same user, same partition, in this order: when the development batch shows, the production one was read before it.
    await producer.send(web, [
      ws1({ id: 'live-prod', mpid: '9201', environment: 'production', events: [play()] }),
      ws1({ id: 'live-dev', mpid: '9201', environment: 'development', user_attributes: attrs({ tier: 'platinum' }), events: [play(), screenView('Checkout', now())] }),
    ]);
    const sentAt = Date.now();
    const rows = page.locator('#live-rows tr', { hasText: '9201' });
    await rows.first().waitFor({ timeout: 2000 });
    const appearedMs = Date.now() - sentAt;
    expect(appearedMs).toBeLessThan(2000);
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('development');
    // Once the pipeline processed it, the row says where it went (the test deployment's two integrations).
    await rows.first().locator('.pill.sent', { hasText: '→ all' }).waitFor({ timeout: 30_000 });
    await expect(rows.first().locator('.forwarding').textContent()).resolves.toContain('→ ads');

    await rows.first().locator('td').first().click();
    const json = JSON.parse((await page.locator('#live-detail .batch-json').textContent())!) as Batch;
    expect(json).toMatchObject({ source_request_id: 'live-dev', mpid: '9201', environment: 'development', user_attributes: { tier: 'platinum' } });

    // Paused: a new batch is held, not shown; resumed: it shows.
    await page.getByRole('button', { name: 'Pause' }).click();
    await producer.send(web, [ws1({ id: 'live-dev-2', mpid: '9202', environment: 'development', events: [play()] })]);
    await page.getByText('1 new while paused').waitFor({ timeout: 5000 });
    await expect(page.locator('#live-rows tr', { hasText: '9202' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#live-rows tr', { hasText: '9202' }).waitFor({ timeout: 2000 });
    await page.locator('#live-rows tr', { hasText: '9201' }).locator('td').first().click();
    await page.screenshot({ path: 'docs/live-stream.png', fullPage: true });

    // The Live Stream shows a raw batch before the pipeline processed it; the profile page needs the
    // processed profile (both batches: 9202's is the second), so wait for it before following the link.
    await profileOf('9201', (p) => p.workspaces['1']?.user_attributes['tier']?.value === 'platinum', 'user 9201\'s tier');
    await rows.first().getByRole('link', { name: '9201' }).click();
    await page.getByRole('heading', { name: 'Profile · MPID 9201' }).waitFor();
    const tierRow = page.locator('#profile tr', { hasText: 'tier' });
    await expect(tierRow.locator('td').nth(1).textContent()).resolves.toBe('platinum');
    // The activity view's additions: events per day (the 2 batches above: 2 plays and a screen view) and where each batch went.
    // Both load after the profile (their own requests): wait for what they must say, not for the first paint.
    await page.locator('#per-day-total', { hasText: '3 event(s) in 2 batch(es) over the last 30 days' }).waitFor({ timeout: 10_000 });
    await page.locator('#timeline > li').first().locator('.forwarding', { hasText: '→ all' }).waitFor({ timeout: 10_000 });
    await page.close();
  });

  it('moves an audience\'s size and joins chart when a user joins, and lists the member', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await login(page, 'audiences');
    const card = page.locator('article[data-audience="listeners"]');
    await card.waitFor();
    const sizeBefore = Number(await card.locator('[data-size]').getAttribute('data-size'));
    const joinsBefore = Number((await card.locator('rect[data-series="joins"]').last().getAttribute('data-value')) ?? 0);

    // 9101 has played once; a second play within 7 days makes it a listener.
    await producer.send(web, [ws1({ id: 'aud-1', mpid: '9101', events: [play()] })]);
    await card.locator(`[data-size="${sizeBefore + 1}"]`).waitFor({ timeout: 30_000 });
    await expect(card.locator('rect[data-series="joins"]').last().getAttribute('data-value')).resolves.toBe(String(joinsBefore + 1));
    await expect(card.locator('.stat-value.joins').textContent()).resolves.toBe(`+${joinsBefore + 1}`);

    await card.getByRole('button', { name: 'Members' }).click();
    await card.locator('.members').getByRole('link', { name: '9101' }).waitFor();
    await page.screenshot({ path: 'docs/audiences.png', fullPage: true });
    await card.locator('.members').getByRole('link', { name: '9101' }).click();
    await page.getByRole('heading', { name: 'Profile · MPID 9101' }).waitFor();
    await expect(page.locator('#profile').textContent()).resolves.toContain('Listeners');
    await page.close();
  });

  it('shows the calculated attributes with their versions and the distribution of current values', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await login(page, 'calculated');
    const drink = page.locator('article[data-attribute="last_drink"]');
    await drink.waitFor();
    // Written from the batches above: last drinks Tea (9101, 9103) and Coffee (9102).
    await expect(drink.locator('rect[data-label="Tea"]').getAttribute('data-value')).resolves.toBe('2');
    await expect(drink.locator('rect[data-label="Coffee"]').getAttribute('data-value')).resolves.toBe('1');
    const version = calculatedAttributes.find((c) => c.name === 'last_drink')!.version;
    await expect(drink.textContent()).resolves.toContain(`version ${version}`);
    await expect(drink.locator('table').textContent()).resolves.toContain('current');
    await expect(page.locator('article[data-attribute="plays_7d"]').textContent()).resolves.toContain('count · last 7 day(s)');
    await page.screenshot({ path: 'docs/calculated-attributes.png', fullPage: true });
    await page.close();
  });
});
