import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchProducer } from '../../../src/app/batch-producer.ts';
import { PROFILES_STORE } from '../../../src/app/profile-processor.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/topic-admin.ts';
import { planTopics } from '../../../src/app/topic-plan.ts';
import { parseAudiencesConfig } from '../../../src/audiences/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/audiences/calculated-attributes-config.ts';
import type { Deployment } from '../../../src/config/deployment.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { AudienceMembershipChange } from '../../../src/schema/audience-membership-change.ts';
import type { Batch, BatchEvent } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, customEvent, identities, screenView } from '../../unit/profiles/support/batches.ts';
import { acceptFutureTimestamps } from '../retention/future-timestamps.ts';
import { ShiftedClock } from '../retention/shifted-clock.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const USERS = 500;
const WS = '1';

const CALCULATED = `calculated_attributes:
  - { name: plays_7d, workspace: "1", calculation: count, event: { type: custom_event, name: play song }, within_days: 7 }
  - name: usd_spend
    workspace: "1"
    calculation: sum
    event: { name: purchase, where: [{ attribute: currency, operator: equals, value: usd }] }
    attribute: amount
  - { name: top_genre, workspace: "1", calculation: most_frequent, event: { name: Play Song }, attribute: genre }
`;
const AUDIENCES = `audiences:
  - id: active
    name: Active listeners
    workspace: "1"
    criteria: { event: { name: Play Song }, at_least: 3, within_days: 7 }
  - id: big-spenders
    name: Big spenders
    workspace: "1"
    criteria:
      all:
        - { calculated_attribute: usd_spend, operator: greater_than_or_equal, value: 150 }
        - { identity_exists: email }
  - id: lapsed-vips
    name: Lapsed VIPs
    workspace: "1"
    criteria:
      all:
        - member_of: big-spenders
        - not: { member_of: active }
        - any:
            - { calculated_attribute: top_genre, operator: in, values: [JAZZ, rock] }
            - { user_attribute: tier, operator: equals, value: GOLD }
`;

/** mulberry32: the traffic is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type PlainEvent = { name: 'Play Song'; genre: string } | { name: 'purchase'; amount: number; currency: string } | { name: 'screen' };
type PlainBatch = { mpid: string; events: PlainEvent[]; email?: string; tier?: string };

/**
 * The reference: what a user's three values and three memberships must be after a sequence of batches,
 * computed directly from the plain events, independently of src/audiences. Every event is at most four
 * days old and the windows are seven days, so until the clock jumps all events count in every window.
 */
class ReferenceUser {
  plays = 0;
  usdSpend = 0;
  genres = new Map<string, number>();
  email = false;
  tier: string | undefined;

  apply(b: PlainBatch): void {
    if (b.email !== undefined) this.email = true;
    if (b.tier !== undefined) this.tier = b.tier;
    for (const e of b.events) {
      if (e.name === 'Play Song') {
        this.plays += 1;
        this.genres.set(e.genre, (this.genres.get(e.genre) ?? 0) + 1);
      } else if (e.name === 'purchase' && e.currency.toLowerCase() === 'usd') {
        this.usdSpend += e.amount;
      }
    }
  }

  topGenre(): string | null {
    let best: string | null = null;
    let bestCount = 0;
    for (const [genre, n] of this.genres) {
      if (n > bestCount || (n === bestCount && best !== null && genre < best)) [best, bestCount] = [genre, n];
    }
    return best;
  }

  values(windowsPassed: boolean): Record<string, string | null> {
    return { plays_7d: String(windowsPassed ? 0 : this.plays), usd_spend: String(this.usdSpend), top_genre: this.topGenre() };
  }

  memberships(windowsPassed: boolean): string[] {
    const active = !windowsPassed && this.plays >= 3;
    const big = this.usdSpend >= 150 && this.email;
    const genre = this.topGenre();
    const lapsed = big && !active && ((genre !== null && ['jazz', 'rock'].includes(genre)) || this.tier?.toLowerCase() === 'gold');
    return [...(active ? ['active'] : []), ...(big ? ['big-spenders'] : []), ...(lapsed ? ['lapsed-vips'] : [])];
  }
}

/** Deterministic traffic: per user, 1–3 batches of 1–4 events (plays, purchases in USD/usd/EUR, screen views). */
function traffic(rand: () => number, mpids: readonly string[], firstPhase: boolean): PlainBatch[] {
  const genres = ['jazz', 'rock', 'pop', 'blues'];
  const currencies = ['USD', 'usd', 'EUR'];
  const out: PlainBatch[] = [];
  for (const mpid of mpids) {
    const batches = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < batches; i++) {
      const events: PlainEvent[] = [];
      const n = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < n; j++) {
        const r = rand();
        if (r < 0.5) events.push({ name: 'Play Song', genre: genres[Math.floor(rand() * genres.length)]! });
        else if (r < 0.85) events.push({ name: 'purchase', amount: 1 + Math.floor(rand() * 120), currency: currencies[Math.floor(rand() * currencies.length)]! });
        else events.push({ name: 'screen' });
      }
      const b: PlainBatch = { mpid, events };
      if (firstPhase && i === 0 && rand() < 0.75) b.email = `${mpid}@example.com`;
      if (firstPhase && i === 0 && rand() < 0.3) b.tier = rand() < 0.5 ? 'gold' : 'silver';
      out.push(b);
    }
  }
  return out;
}

describe('calculated attributes and audiences over the real pipeline (500 users, exactly-once)', () => {
  const base = testDeployment({ partitions: 4, sources: ['web'] }).deployment;
  const calculatedAttributes = parseCalculatedAttributesConfig(CALCULATED, 'c.yaml');
  const deployment: Deployment = { ...base, calculatedAttributes, audiences: parseAudiencesConfig(AUDIENCES, 'a.yaml', { calculatedAttributes }) };
  const { app } = deployment;
  const clock = new ShiftedClock();
  const mpids = Array.from({ length: USERS }, (_, i) => String(7_000_000_000 + i * 7919));
  const reference = new Map(mpids.map((m) => [m, new ReferenceUser()]));
  /** Per user and audience, the membership after each batch and after the clock jump: the changes expected. */
  const expectedChanges = new Map<string, string[]>();
  const rand = random(6);
  let stateDir: string;
  let service: StreamsService;
  let producer: BatchProducer;
  let produced = 0;

  const profile = (mpid: string) => service.app.store<string, ProfileState>(PROFILES_STORE).get(mpid);

  /** Builds real batches from plain ones, times spread over the last four days (minus an hour), in order per user. */
  function toBatches(plain: readonly PlainBatch[]): Batch[] {
    const now = Date.now();
    return plain.map((p, i) => {
      const at = now - HOUR - Math.floor(rand() * 3 * DAY);
      const events: BatchEvent[] = p.events.map((e) =>
        e.name === 'Play Song' ? customEvent('Play Song', at, attrs({ genre: e.genre }))
          : e.name === 'purchase' ? customEvent('purchase', at, attrs({ amount: e.amount, currency: e.currency }))
            : screenView('home', at));
      produced += 1;
      return batch({
        id: `aud-${produced}-${i}`,
        mpid: p.mpid,
        workspace_id: WS,
        timestamp_unixtime_ms: at,
        events,
        user_identities: identities(p.email === undefined ? {} : { email: p.email }),
        user_attributes: p.tier === undefined ? attrs({}) : attrs({ tier: p.tier }),
      });
    });
  }

  function expectMemberships(plain: readonly PlainBatch[]): void {
    for (const p of plain) {
      const user = reference.get(p.mpid)!;
      const before = new Set(user.memberships(false));
      user.apply(p);
      record(p.mpid, before, new Set(user.memberships(false)));
    }
  }

  function record(mpid: string, before: Set<string>, after: Set<string>): void {
    for (const audience of ['active', 'big-spenders', 'lapsed-vips']) {
      if (before.has(audience) === after.has(audience)) continue;
      const key = `${mpid}:${audience}`;
      expectedChanges.set(key, [...(expectedChanges.get(key) ?? []), after.has(audience) ? 'add' : 'delete']);
    }
  }

  const expectedCount = () => [...expectedChanges.values()].reduce((n, list) => n + list.length, 0);

  /** Every change read back (read-committed), as `mpid:audience` -> actions in topic order (one partition per user). */
  const seen = new Map<string, string[]>();
  let listener: Consumer;
  const seenCount = () => [...seen.values()].reduce((n, l) => n + l.length, 0);

  async function listen(): Promise<void> {
    const registry = createSchemaRegistry(schemaRegistryUrl());
    listener = new Kafka({ clientId: 'audience-listener', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).consumer({ groupId: `audience-listener-${randomUUID()}`, readUncommitted: false });
    await listener.connect();
    await listener.subscribe({ topic: app.audienceMembershipsTopic, fromBeginning: true });
    await listener.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        const change = (await registry.decode(message.value!)) as AudienceMembershipChange;
        if (change.mpid !== key) throw new Error(`change keyed ${key} names mpid ${change.mpid}`);
        for (const a of change.audiences) seen.set(`${key}:${a.audience_id}`, [...(seen.get(`${key}:${a.audience_id}`) ?? []), a.action]);
      },
    });
  }

  async function storedState(windowsPassed: boolean): Promise<{ actual: Map<string, unknown>; wanted: Map<string, unknown> }> {
    const actual = new Map<string, unknown>();
    const wanted = new Map<string, unknown>();
    for (const mpid of mpids) {
      const p = await profile(mpid);
      const calc = p?.workspaces[WS]?.calculated_attributes ?? {};
      actual.set(mpid, {
        values: Object.fromEntries(['plays_7d', 'usd_spend', 'top_genre'].map((n) => [n, calc[n]?.value ?? null])),
        memberships: Object.keys(p?.audience_memberships ?? {}).sort(),
      });
      const ref = reference.get(mpid)!;
      wanted.set(mpid, { values: ref.values(windowsPassed), memberships: ref.memberships(windowsPassed) });
    }
    return { actual, wanted };
  }

  /** Polls until the stores equal the reference (or the deadline), then asserts equality: a failure shows the diff. */
  async function expectStoresToMatch(windowsPassed: boolean, what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    let state = await storedState(windowsPassed);
    while (Date.now() < deadline && !sameMaps(state.actual, state.wanted)) {
      await new Promise((r) => setTimeout(r, 500));
      state = await storedState(windowsPassed);
    }
    expect(Object.fromEntries(state.actual), what).toEqual(Object.fromEntries(state.wanted));
  }

  /**
   * Waits for at least the expected number of changes, then a little longer (many commit intervals) so a
   * duplicate would show, and compares them all: no more, no fewer, in order per user and audience.
   */
  async function expectChangesOnTopic(what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && seenCount() < expectedCount()) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(Object.fromEntries([...seen].sort()), what).toEqual(Object.fromEntries([...expectedChanges].sort()));
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-audiences-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'exactly_once' }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      commitIntervalMs: 100,
      clock,
      audiences: { sweepIntervalMs: 250 },
      // Profiles must outlive the 10-day jump below: expiry is issue 7's test, not this one's.
      retention: { profileSweepIntervalMs: 365 * DAY, historySweepIntervalMs: 365 * DAY },
    });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), service.start(), listen()]);
    // The clock jump stamps changelog and output records ten days ahead of the broker's clock.
    await acceptFutureTimestamps(kafkaBrokers(), app.applicationId);
  }, 120_000);

  afterAll(async () => {
    await listener?.disconnect();
    await service?.close();
    await producer?.disconnect();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('values and memberships equal the reference after every user\'s batches, each change emitted once', async () => {
    const first = traffic(rand, mpids, true);
    expectMemberships(first);
    await producer.send(app.rawTopics[0]!, toBatches(first));
    await expectStoresToMatch(false, 'after the first batches');
    await expectChangesOnTopic('changes after the first batches');

    // More traffic for a third of the users: some become active or big spenders, which moves lapsed VIPs too.
    const second = traffic(rand, mpids.filter((_, i) => i % 3 === 0), false);
    expectMemberships(second);
    await producer.send(app.rawTopics[0]!, toBatches(second));
    await expectStoresToMatch(false, 'after the second batches');
    await expectChangesOnTopic('changes after the second batches');

    // The traffic reaches every audience and every direction of change, or the comparison proves little.
    const all = [...expectedChanges.entries()];
    for (const audience of ['active', 'big-spenders', 'lapsed-vips']) expect(all.some(([k, l]) => k.endsWith(`:${audience}`) && l.includes('add')), audience).toBe(true);
    expect(all.some(([, l]) => l.includes('delete')), 'some user left an audience on a new batch').toBe(true);
    expect(expectedCount()).toBeGreaterThan(300);
  }, 180_000);

  it('with no new event, moving the clock past the window takes users out of the windowed audience, emitting each delete once', async () => {
    const before = new Map(mpids.map((m) => [m, new Set(reference.get(m)!.memberships(false))]));
    const activeBefore = [...before.values()].filter((s) => s.has('active')).length;
    expect(activeBefore).toBeGreaterThan(10);
    for (const mpid of mpids) record(mpid, before.get(mpid)!, new Set(reference.get(mpid)!.memberships(true)));

    clock.advance(10 * DAY);
    await expectStoresToMatch(true, 'ten days later');
    await expectChangesOnTopic('changes ten days later');
    const leftActive = [...seen].filter(([k, l]) => k.endsWith(':active') && l.at(-1) === 'delete').length;
    expect(leftActive).toBe(activeBefore);
  }, 120_000);
});

function sameMaps(a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (JSON.stringify(v) !== JSON.stringify(b.get(k))) return false;
  return true;
}
