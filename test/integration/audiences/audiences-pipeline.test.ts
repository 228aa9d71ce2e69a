import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import type { Deployment } from '../../../src/config/deployment.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { AudienceMembershipChange } from '../../../src/schema/audience-membership-change.ts';
import type { Batch, BatchEvent } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { partitionForKey } from '../../../src/streams/index.ts';
import { kafkaBrokers, schemaRegistryUrl, kafkaClientEnv, uniqueName } from '../../support/stack-env.ts';
import { eventually } from '../../support/eventually.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, consent, customEvent, decision, identities, screenView } from '../../unit/profiles/support/batches.ts';
import { acceptFutureTimestamps } from '../retention/future-timestamps.ts';
import { ShiftedClock } from '../retention/shifted-clock.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const USERS = 500;
const PARTITIONS = 4;
const WS = '1';

const CALCULATED = `calculated_attributes:
  - { name: plays_7d, workspace: "1", calculation: count, event: { type: custom_event, name: play song }, within_days: 7 }
  - name: usd_spend
    workspace: "1"
    calculation: sum
    event:
      type: custom_event
      name: Purchase
      where:
        - { attribute: currency, operator: equals, value: USD }
        - { attribute: amount, operator: greater_than, value: 0 }
    attribute: amount
  - { name: top_genre, workspace: "1", calculation: most_frequent, event: { name: Play Song }, attribute: genre, within_days: 5 }
`;
const AUDIENCES = `audiences:
  - id: active
    name: Active listeners
    workspace: "1"
    criteria: { event: { name: PLAY SONG }, at_least: 3, within_days: 3 }
  - id: big-spenders
    name: Big spenders
    workspace: "1"
    criteria:
      all:
        - { calculated_attribute: usd_spend, operator: greater_than_or_equal, value: 100 }
        - { identity_exists: email }
        - not: { ccpa_data_sale_opted_out: true }
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
const AUDIENCE_NAMES: Record<string, string> = { active: 'Active listeners', 'big-spenders': 'Big spenders', 'lapsed-vips': 'Lapsed VIPs' };
const AUDIENCE_IDS = Object.keys(AUDIENCE_NAMES).sort();

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

/** An event as generated: its age is relative to the service's clock at the start of the test (T0). */
type PlainEvent = { type: 'custom_event' | 'screen_view'; name: string; ageMs: number; attributes: Record<string, string | number> };
type PlainBatch = { mpid: string; events: PlainEvent[]; email?: string; tier?: string; optedOut?: boolean };
type Values = { plays_7d: string | null; usd_spend: string | null; top_genre: string | null };

const dayOf = (ms: number): number => Math.floor(ms / DAY);
/** `within_days: N`: the last N UTC calendar days, today included; an event on day `today - N` is out. */
const within = (eventMs: number, nowMs: number, days: number): boolean => dayOf(eventMs) > dayOf(nowMs) - days;
const is = (a: unknown, b: string): boolean => typeof a === 'string' && a.toLowerCase() === b;

/**
 * The reference: the values and memberships the definitions above mean, computed from the user's plain
 * list of events and latest identity / consent / tier with no code from src/audiences.
 */
class ReferenceUser {
  readonly events: Array<PlainEvent & { timeMs: number }> = [];
  email: string | undefined;
  optedOut = false;
  tier: string | undefined;

  apply(b: PlainBatch, t0: number): void {
    if (b.email !== undefined) this.email = b.email;
    if (b.tier !== undefined) this.tier = b.tier;
    if (b.optedOut !== undefined) this.optedOut = b.optedOut;
    for (const e of b.events) this.events.push({ ...e, timeMs: t0 - e.ageMs });
  }

  values(nowMs: number): Values {
    const plays = this.events.filter((e) => e.type === 'custom_event' && is(e.name, 'play song') && within(e.timeMs, nowMs, 7)).length;
    let cents = 0;
    for (const e of this.events) {
      if (e.type !== 'custom_event' || !is(e.name, 'purchase') || !is(e.attributes.currency, 'usd')) continue;
      const amount = Number(e.attributes.amount);
      if (amount > 0) cents += Math.round(amount * 100);
    }
    const genres = new Map<string, number>();
    for (const e of this.events) {
      if (!is(e.name, 'play song') || !within(e.timeMs, nowMs, 5) || typeof e.attributes.genre !== 'string') continue;
      genres.set(e.attributes.genre, (genres.get(e.attributes.genre) ?? 0) + 1);
    }
    const ranked = [...genres].sort(([ga, na], [gb, nb]) => nb - na || (ga < gb ? -1 : 1));
    // Whole cents over 100 print as the shortest decimal: what 12 significant digits of the float sum give.
    return { plays_7d: String(plays), usd_spend: String(cents / 100), top_genre: ranked[0]?.[0] ?? null };
  }

  memberships(nowMs: number): string[] {
    const { usd_spend, top_genre } = this.values(nowMs);
    const recentPlays = this.events.filter((e) => is(e.name, 'play song') && within(e.timeMs, nowMs, 3)).length;
    const active = recentPlays >= 3;
    const big = Number(usd_spend) >= 100 && this.email !== undefined && !this.optedOut;
    const lapsed = big && !active && (['jazz', 'rock'].includes(top_genre ?? '') || is(this.tier, 'gold'));
    return AUDIENCE_IDS.filter((id) => ({ active, 'big-spenders': big, 'lapsed-vips': lapsed })[id]);
  }
}

const GENRES = ['blues', 'jazz', 'pop', 'rock'];

/**
 * Deterministic traffic. Plays are spread so the windows (3, 5 and 7 days) each cut through them, with
 * look-alikes that must not count (a "Play Song Preview", plays as screen views that only the untyped
 * audience condition sees); purchases in USD under several spellings, in EUR, refunds (negative) and
 * amounts sent as numeric strings. The first phase gives some users an email, a tier and a CCPA
 * decision; the second phase changes some of those for a third of the users, with recent plays.
 */
function traffic(rand: () => number, mpids: readonly string[], phase: 1 | 2): PlainBatch[] {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo));
  const playAge = (): number => {
    if (phase === 2) return between(HOUR, 12 * HOUR);
    const r = rand();
    return r < 0.2 ? between(HOUR, 12 * HOUR) : r < 0.35 ? between(12 * HOUR, 36 * HOUR) : r < 0.65 ? between(36 * HOUR, 60 * HOUR) : between(60 * HOUR, 9 * DAY);
  };
  const out: PlainBatch[] = [];
  for (const mpid of mpids) {
    const batches = phase === 1 ? 1 + Math.floor(rand() * 3) : 1 + Math.floor(rand() * 2);
    for (let i = 0; i < batches; i++) {
      const events: PlainEvent[] = [];
      const n = 1 + Math.floor(rand() * 5);
      for (let j = 0; j < n; j++) {
        const r = rand();
        if (r < 0.45) events.push({ type: 'custom_event', name: pick(['Play Song', 'play song']), ageMs: playAge(), attributes: { genre: pick(GENRES) } });
        else if (r < 0.52) events.push({ type: 'screen_view', name: 'Play Song', ageMs: playAge(), attributes: {} });
        else if (r < 0.57) events.push({ type: 'custom_event', name: 'Play Song Preview', ageMs: playAge(), attributes: { genre: pick(GENRES) } });
        else if (r < 0.87) {
          const cents = (rand() < 0.15 ? -1 : 1) * between(10, 12_000);
          const amount = rand() < 0.3 ? (cents / 100).toFixed(2) : cents / 100;
          events.push({ type: 'custom_event', name: pick(['Purchase', 'purchase']), ageMs: between(HOUR, 9 * DAY), attributes: { amount, currency: pick(['USD', 'usd', 'Usd', 'EUR']) } });
        } else events.push({ type: 'screen_view', name: 'home', ageMs: between(HOUR, 9 * DAY), attributes: {} });
      }
      const b: PlainBatch = { mpid, events };
      if (i === 0) {
        if (phase === 1 && rand() < 0.75) b.email = `${mpid}@example.com`;
        if (rand() < (phase === 1 ? 0.35 : 0.2)) b.tier = pick(['gold', 'Gold', 'silver']);
        if (rand() < (phase === 1 ? 0.2 : 0.4)) b.optedOut = rand() < 0.5;
      }
      out.push(b);
    }
  }
  return out;
}

type SeenMessage = { text: string; timestampMs: number };

describe('calculated attributes and audiences over the real pipeline (500 users, exactly-once, moving clock)', () => {
  const base = testDeployment({ partitions: PARTITIONS, sources: ['web'] }).deployment;
  const calculatedAttributes = parseCalculatedAttributesConfig(CALCULATED, 'c.yaml');
  const deployment: Deployment = { ...base, calculatedAttributes, audiences: parseAudiencesConfig(AUDIENCES, 'a.yaml', { calculatedAttributes }) };
  const { app } = deployment;
  const rawTopic = app.rawTopics[0]!;
  const clock = new ShiftedClock();
  const mpids = Array.from({ length: USERS }, (_, i) => String(7_000_000_000 + i * 7919));
  /**
   * One user per partition whose batches flip its big-spenders membership: reading its k-th change means
   * the listener has read everything that partition's task emitted before the k-th marker batch.
   */
  const markers = Array.from({ length: PARTITIONS }, (_, p) => {
    for (let n = 1; ; n++) {
      const mpid = String(9_000_000_000 + n);
      if (partitionForKey(Buffer.from(mpid), PARTITIONS) === p) return mpid;
    }
  });
  const reference = new Map(mpids.map((m) => [m, new ReferenceUser()]));
  /** Per user, the membership messages the reference says must appear, in order: "add:a,delete:b" per evaluation that changed something. */
  const expected = new Map<string, string[]>(mpids.map((m) => [m, []]));
  const rand = random(6);
  /** The service's clock at the start: a UTC noon, so no run crosses a day boundary between the reference and the service. */
  let t0 = 0;
  let stateDir: string;
  let service: StreamsService;
  let producer: BatchProducer;
  let listener: Consumer;
  let lastStamp = 0;
  let sent = 0;

  /** Batch and consent times: real time (the broker keeps raw records by it), strictly increasing so later batches win merges. */
  const nextStamp = (): number => (lastStamp = Math.max(lastStamp + 1, Date.now()));

  function toBatch(p: PlainBatch): Batch {
    const stamp = nextStamp();
    const events: BatchEvent[] = p.events.map((e) =>
      e.type === 'screen_view' ? screenView(e.name, t0 - e.ageMs) : customEvent(e.name, t0 - e.ageMs, attrs(e.attributes)));
    sent += 1;
    return batch({
      id: `aud-${sent}`,
      mpid: p.mpid,
      workspace_id: WS,
      timestamp_unixtime_ms: stamp,
      events,
      user_identities: identities(p.email === undefined ? {} : { email: p.email }),
      user_attributes: attrs(p.tier === undefined ? {} : { tier: p.tier }),
      consent_state: p.optedOut === undefined ? null : consent({}, decision(p.optedOut, stamp)),
    });
  }

  function recordEvaluation(mpid: string, before: readonly string[], after: readonly string[]): void {
    const changes = AUDIENCE_IDS.filter((id) => before.includes(id) !== after.includes(id)).map((id) => `${after.includes(id) ? 'add' : 'delete'}:${id}`);
    if (changes.length > 0) expected.get(mpid)!.push(changes.join(','));
  }

  /** Each batch is evaluated on arrival, so each batch that changes a membership is one message. */
  async function sendPhase(plain: readonly PlainBatch[]): Promise<void> {
    for (const p of plain) {
      const user = reference.get(p.mpid)!;
      const before = user.memberships(t0);
      user.apply(p, t0);
      recordEvaluation(p.mpid, before, user.memberships(t0));
    }
    await producer.send(rawTopic, plain.map(toBatch));
  }

  /** The clock moves with no event: the sweep evaluates each due user once, so one message per user that changed. */
  function moveClock(fromMs: number, toMs: number): void {
    for (const mpid of mpids) recordEvaluation(mpid, reference.get(mpid)!.memberships(fromMs), reference.get(mpid)!.memberships(toMs));
    clock.advance(toMs - fromMs);
  }

  /** Every message read back (read-committed), per user in topic order (a user's messages share a partition). */
  const seen = new Map<string, SeenMessage[]>();
  const malformed: string[] = [];
  const emailOf = (mpid: string): string | undefined => (markers.includes(mpid) ? `${mpid}@example.com` : reference.get(mpid)?.email);

  async function listen(): Promise<void> {
    const registry = createSchemaRegistry(schemaRegistryUrl());
    listener = new Kafka({ clientId: 'audience-listener', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).consumer({ groupId: uniqueName('audience-listener'), readUncommitted: false });
    await listener.connect();
    await listener.subscribe({ topic: app.audienceMembershipsTopic, fromBeginning: true });
    await listener.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        const change = (await registry.decode(message.value!)) as AudienceMembershipChange;
        const email = emailOf(key);
        const wantedIdentities = email === undefined ? [] : [{ type: 'email', value: email }];
        if (change.mpid !== key || change.workspace_id !== WS || JSON.stringify(change.user_identities) !== JSON.stringify(wantedIdentities)
          || change.audiences.some((a) => a.audience_name !== AUDIENCE_NAMES[a.audience_id])) {
          malformed.push(`${key}: ${JSON.stringify(change)}`);
        }
        const text = change.audiences.map((a) => `${a.action}:${a.audience_id}`).join(',');
        seen.set(key, [...(seen.get(key) ?? []), { text, timestampMs: Number(change.timestamp_ms) }]);
      },
    });
  }

  /**
   * Makes "read to the end" exact without trusting offsets: a transaction's commit markers reach the
   * output partitions and the consumer-offsets partition at different moments, so neither the group's
   * committed offsets nor the last stable offset says the listener has seen everything. A marker batch
   * goes to every partition after the phase's traffic; the task emits its change after all it emitted
   * before, in the same partition, so once every marker change is read, so is everything before it.
   */
  let settles = 0;
  async function settle(what: string): Promise<void> {
    settles += 1;
    const first = settles === 1;
    await producer.send(rawTopic, markers.map((mpid) => {
      const stamp = nextStamp();
      return batch({
        id: `marker-${(sent += 1)}`,
        mpid,
        workspace_id: WS,
        timestamp_unixtime_ms: stamp,
        events: first ? [customEvent('purchase', t0 - HOUR, attrs({ amount: 100, currency: 'USD' }))] : [],
        user_identities: identities({ email: emailOf(mpid)! }),
        consent_state: consent({}, decision(settles % 2 === 0, stamp)),
      });
    }));
    await eventually(`${what}: every partition's marker change`, async () => markers.every((m) => (seen.get(m)?.length ?? 0) >= settles), { timeoutMs: 60_000 });
    const flips = Array.from({ length: settles }, (_, i) => (i % 2 === 0 ? 'add:big-spenders' : 'delete:big-spenders'));
    expect(Object.fromEntries(markers.map((m) => [m, seen.get(m)!.map((x) => x.text)])), `${what}: marker changes`).toEqual(Object.fromEntries(markers.map((m) => [m, flips])));
  }

  async function storedValues(): Promise<Map<string, { values: Values; memberships: string[] }>> {
    const profiles = service.app.store<string, ProfileState>(PROFILES_STORE);
    const out = new Map<string, { values: Values; memberships: string[] }>();
    for (const mpid of mpids) {
      const p = await profiles.get(mpid);
      const calc = p?.workspaces[WS]?.calculated_attributes ?? {};
      const value = (name: string) => (calc[name]?.value ?? null) as string | null;
      out.set(mpid, {
        values: { plays_7d: value('plays_7d'), usd_spend: value('usd_spend'), top_genre: value('top_genre') },
        memberships: Object.keys(p?.audience_memberships ?? {}).sort(),
      });
    }
    return out;
  }

  /** Waits for the stores to reach the reference at `nowMs` (the service works asynchronously), then asserts it: a failure shows the diff. */
  async function expectStoresAtReference(nowMs: number, what: string): Promise<void> {
    const wanted = Object.fromEntries(mpids.map((m) => [m, { values: reference.get(m)!.values(nowMs), memberships: reference.get(m)!.memberships(nowMs) }]));
    let actual: unknown;
    const reached = async () => {
      actual = Object.fromEntries(await storedValues());
      return JSON.stringify(actual) === JSON.stringify(wanted);
    };
    // On a timeout the assertion below fails with the diff, which says more than "timed out".
    await eventually(`${what}: the stores at the reference`, reached, { timeoutMs: 60_000, intervalMs: 250 }).catch(() => undefined);
    expect(actual, what).toEqual(wanted);
  }

  /** After `settle`, the topic holds exactly the expected messages: none missing, none twice, in order per user. */
  function expectMessagesOnTopic(what: string): void {
    expect(malformed, `${what}: malformed messages`).toEqual([]);
    const got = Object.fromEntries(mpids.map((m) => [m, (seen.get(m) ?? []).map((s) => s.text)]));
    expect(got, what).toEqual(Object.fromEntries(expected));
    expect([...seen.keys()].filter((k) => !reference.has(k) && !markers.includes(k)), `${what}: messages for users outside the traffic`).toEqual([]);
  }

  /** Per user and audience, the actions alternate add, delete, add… and the last one is the reference's membership. */
  function expectAlternationEndingAt(nowMs: number): void {
    const violations: string[] = [];
    for (const mpid of mpids) {
      const perAudience = new Map<string, string[]>();
      for (const { text } of seen.get(mpid) ?? []) {
        for (const change of text.split(',')) {
          const [action, audience] = change.split(':') as [string, string];
          perAudience.set(audience, [...(perAudience.get(audience) ?? []), action]);
        }
      }
      const member = reference.get(mpid)!.memberships(nowMs);
      for (const audience of AUDIENCE_IDS) {
        const actions = perAudience.get(audience) ?? [];
        if (actions.some((a, i) => a !== (i % 2 === 0 ? 'add' : 'delete'))) violations.push(`${mpid} ${audience}: ${actions.join(' ')}`);
        if ((actions.at(-1) === 'add') !== member.includes(audience)) violations.push(`${mpid} ${audience}: ends ${actions.at(-1) ?? 'never added'}, reference ${member.includes(audience)}`);
      }
    }
    expect(violations).toEqual([]);
  }

  const count = (texts: Iterable<string[]>, change: string): number => [...texts].flat().filter((t) => t.split(',').includes(change)).length;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-audiences-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'exactly_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      commitIntervalMs: 100,
      clock,
      audiences: { sweepIntervalMs: 200 },
      // Profiles must outlive the clock jumps below: expiry is issue 7's test, not this one's.
      retention: { profileSweepIntervalMs: 365 * DAY, historySweepIntervalMs: 365 * DAY },
    });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), service.start(), listen()]);
    // The service's clock runs up to ten days ahead of the broker's, and stamps its records with it.
    await acceptFutureTimestamps(kafkaBrokers(), app.applicationId);
    const now = Date.now();
    t0 = dayOf(now) * DAY + 12 * HOUR;
    if (t0 < now + 60_000) t0 += DAY;
    clock.advance(t0 - now);
  }, 120_000);

  afterAll(async () => {
    await listener?.disconnect();
    await service?.close();
    await producer?.disconnect();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('after each phase of traffic, values and memberships equal the reference and each change is on the topic once', async () => {
    await sendPhase(traffic(rand, mpids, 1));
    await expectStoresAtReference(t0, 'after the first phase');
    await settle('first phase');
    expectMessagesOnTopic('messages after the first phase');

    await sendPhase(traffic(rand, mpids.filter((_, i) => i % 3 === 0), 2));
    await expectStoresAtReference(t0, 'after the second phase');
    await settle('second phase');
    expectMessagesOnTopic('messages after the second phase');
    expectAlternationEndingAt(t0);

    // The traffic reaches every audience and both directions on arrival, or the comparison proves little.
    for (const id of AUDIENCE_IDS) expect(count(expected.values(), `add:${id}`), `adds to ${id}`).toBeGreaterThan(20);
    expect(count(expected.values(), 'delete:big-spenders'), 'opt-outs on a later batch').toBeGreaterThan(2);
    expect(count(expected.values(), 'delete:lapsed-vips'), 'lapsed VIPs active again').toBeGreaterThan(5);
    // And the windows cut through it: some plays and genres already outside their window at T0.
    const values = mpids.map((m) => reference.get(m)!.values(t0));
    const allPlays = mpids.map((m) => reference.get(m)!.events.filter((e) => e.type === 'custom_event' && is(e.name, 'play song')).length);
    expect(values.filter((v, i) => Number(v.plays_7d) < allPlays[i]!).length, 'users with plays older than 7 days').toBeGreaterThan(50);
  }, 180_000);

  it('one day later with no event, users leave the 3-day audience, windowed values drop and dependants follow, each change once', async () => {
    const before = mpids.map((m) => reference.get(m)!.values(t0));
    const counted = mpids.map((m) => (seen.get(m) ?? []).length);
    moveClock(t0, t0 + DAY);
    await expectStoresAtReference(t0 + DAY, 'one day later');
    await settle('one day later');
    expectMessagesOnTopic('messages one day later');
    expectAlternationEndingAt(t0 + DAY);

    const moved = mpids.flatMap((m, i) => (seen.get(m) ?? []).slice(counted[i]!));
    expect(moved.filter((s) => s.timestampMs < t0 + DAY), 'messages stamped before the clock moved').toEqual([]);
    expect(moved.filter((s) => s.text.includes('delete:active')).length, 'users who left the windowed audience').toBeGreaterThan(50);
    expect(moved.filter((s) => s.text.includes('add:lapsed-vips')).length, 'big spenders who became lapsed VIPs').toBeGreaterThan(5);
    const after = mpids.map((m) => reference.get(m)!.values(t0 + DAY));
    expect(after.filter((v, i) => Number(v.plays_7d) < Number(before[i]!.plays_7d)).length, 'users whose plays_7d dropped').toBeGreaterThan(20);
    expect(after.filter((v, i) => v.top_genre !== before[i]!.top_genre).length, 'users whose top_genre moved').toBeGreaterThan(10);
    // Not everyone: a window that moves by a day keeps the events still inside it.
    expect(after.filter((v) => Number(v.plays_7d) > 0).length).toBeGreaterThan(100);
  }, 120_000);

  it('ten days after the start with no event, every windowed value and the windowed audience are empty, each delete once', async () => {
    const activeBefore = mpids.filter((m) => reference.get(m)!.memberships(t0 + DAY).includes('active'));
    const counted = mpids.map((m) => (seen.get(m) ?? []).length);
    moveClock(t0 + DAY, t0 + 10 * DAY);
    await expectStoresAtReference(t0 + 10 * DAY, 'ten days later');
    await settle('ten days later');
    expectMessagesOnTopic('messages ten days later');
    expectAlternationEndingAt(t0 + 10 * DAY);

    const values = mpids.map((m) => reference.get(m)!.values(t0 + 10 * DAY));
    expect(values.every((v) => v.plays_7d === '0' && v.top_genre === null)).toBe(true);
    expect(activeBefore.length, 'users still active after a day').toBeGreaterThan(50);
    const leftActive = mpids.filter((m, i) => (seen.get(m) ?? []).slice(counted[i]!).some((s) => s.text.includes('delete:active')));
    expect(leftActive).toEqual(activeBefore);

    // Swept users are no longer due: later sweeps find nothing to emit.
    await new Promise((r) => setTimeout(r, 1_000));
    await settle('a second after the last sweep');
    expectMessagesOnTopic('messages a second after the last sweep');
  }, 120_000);
});
