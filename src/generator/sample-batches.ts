import type { Batch } from '../schema/batch.ts';
import { fromJsonBatch } from '../schema/json-batch.ts';
import { SeededRandom } from './seeded-random.ts';
import { ZipfDistribution } from './zipf.ts';

/**
 * A deterministic, realistic workload of mParticle-style batches: Zipf-distributed users, each with
 * stable identities, MPID and one device per source; 1-10 events of several types, 5-30 user
 * attributes, consent and device info; about 1-2 KB per batch in Avro. Same options, same batches,
 * on every machine (no Math.random, no clock). Used by `profile-stream produce --sample N`, by
 * integration tests and by benchmarks.
 */
export type SampleOptions = {
  seed: number;
  /** Number of distinct users batches are spread over (Zipf: user 0 is the most active). */
  users: number;
  /** Number of batches to generate. */
  batches: number;
  /** Input sources (raw topics), e.g. `['web', 'ios', 'android']`. */
  sources: readonly string[];
  /** Time of the first batch (epoch ms); later batches are `batchIntervalMs` apart, with jitter. */
  startTimeMs: number;
  workspaceId: string;
  batchIntervalMs?: number;
  /** Zipf exponent; 1 by default. Larger is more skewed. */
  zipfExponent?: number;
};

/** The mParticle JSON batches, as a user would POST them. */
export function* sampleJsonBatches(options: SampleOptions): Generator<Record<string, unknown>> {
  validate(options);
  const random = new SeededRandom(options.seed);
  const zipf = new ZipfDistribution(options.users, options.zipfExponent ?? 1);
  const interval = options.batchIntervalMs ?? 1000;
  for (let i = 0; i < options.batches; i++) {
    const user = userProfile(options.seed, zipf.draw(random));
    const source = random.pick(options.sources);
    const time = options.startTimeMs + i * interval + random.int(0, interval - 1);
    yield batchFor(random, user, source, time, `${options.seed.toString(16)}-${i.toString(16).padStart(8, '0')}-${random.hex(8)}`, options.workspaceId);
  }
}

/** The same batches converted (and so validated) to what producers encode and processors receive. */
export function* sampleBatches(options: SampleOptions): Generator<Batch> {
  for (const json of sampleJsonBatches(options)) yield fromJsonBatch(json);
}

function validate(o: SampleOptions): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(o.seed)) problems.push(`seed must be an integer, got ${o.seed}`);
  if (!Number.isInteger(o.users) || o.users < 1) problems.push(`users must be at least 1, got ${o.users}`);
  if (!Number.isInteger(o.batches) || o.batches < 0) problems.push(`batches must be 0 or more, got ${o.batches}`);
  if (o.sources.length === 0) problems.push('sources must name at least one input source');
  if (!Number.isSafeInteger(o.startTimeMs) || o.startTimeMs < 0) problems.push(`startTimeMs must be epoch milliseconds, got ${o.startTimeMs}`);
  if (o.batchIntervalMs !== undefined && (!Number.isInteger(o.batchIntervalMs) || o.batchIntervalMs < 1)) problems.push(`batchIntervalMs must be at least 1, got ${o.batchIntervalMs}`);
  if (problems.length) throw new RangeError(`invalid sample options: ${problems.join('; ')}`);
}

export type SampleUser = { index: number; mpid: string; identities: Record<string, string>; deviceSeed: number };
type User = SampleUser;

const IDENTITY_CHOICES = ['customer_id', 'email', 'mobile_number', 'other', 'other_id_2'] as const;

/**
 * A user's stable facts depend only on (seed, user index), never on which batch drew them; exported so a
 * benchmark can build stored state for exactly the users a workload's batches will name.
 */
export function sampleUser(seed: number, index: number): SampleUser {
  return userProfile(seed, index);
}

function userProfile(seed: number, index: number): User {
  const random = new SeededRandom((seed * 2654435761 + index * 40503 + 1) >>> 0 ^ index);
  // A positive 63-bit MPID: most need more than 53 bits, so precision bugs show up in tests.
  const high = BigInt(random.nextUint32() & 0x7fffffff);
  const mpid = ((high << 32n) | BigInt(random.nextUint32())) || 1n;
  const identities: Record<string, string> = {};
  for (const type of random.sample(IDENTITY_CHOICES, random.int(2, 4))) {
    identities[type] = {
      customer_id: `cust-${index}`,
      email: `user${index}@example.com`,
      mobile_number: `+1555${String(index).padStart(7, '0')}`,
      other: `crm-${random.hex(10)}`,
      other_id_2: `loyalty-${index}`,
    }[type];
  }
  return { index, mpid: mpid.toString(), identities, deviceSeed: random.nextUint32() };
}

const EVENT_WEIGHTS = {
  custom_event: 40, screen_view: 25, commerce_event: 8, session_start: 5, session_end: 5, user_attribute_change: 7,
  user_identity_change: 2, opt_out: 1, application_state_transition: 4, push_registration: 1, crash_report: 1, breadcrumb: 1,
} as const;
type SampleEventType = keyof typeof EVENT_WEIGHTS;
const EVENT_NAMES = ['Play Song', 'Search', 'Add Friend', 'Share', 'Like', 'Open Settings', 'Rate App', 'Level Up'];
const SCREENS = ['Home', 'Search Results', 'Product Detail', 'Cart', 'Checkout', 'Profile', 'Settings'];
const WORDS = ['red', 'blue', 'beer', 'coke', 'jazz', 'rock', 'gold', 'silver', 'berlin', 'paris', 'tokyo', 'premium', 'basic'];

/** Attribute name -> how to make a value. 40 names, so 5-30 per batch overlap across batches. */
const ATTRIBUTE_MAKERS: [string, (r: SeededRandom, u: User) => unknown][] = [
  ['$FirstName', (r) => r.pick(['Bob', 'Alice', 'Carol', 'Dave', 'Eve'])],
  ['$LastName', (r) => r.pick(['Smith', 'Jones', 'Brown', 'Garcia'])],
  ['$Age', (r) => r.int(16, 90)],
  ['$Gender', (r) => r.pick(['M', 'F', 'X'])],
  ['$City', (r) => r.pick(['Berlin', 'Paris', 'Tokyo', 'Austin'])],
  ['$Country', (r) => r.pick(['DE', 'FR', 'JP', 'US'])],
  ['$Zip', (r) => String(r.int(10000, 99999))],
  ['favourite_drink', (r) => r.pick(['Beer', 'Coke', 'Tea', 'Water'])],
  ['favourite_genres', (r) => r.sample(WORDS, r.int(1, 4))],
  ['plan', (r) => r.pick(['free', 'plus', 'premium'])],
  ['lifetime_value', (r) => Math.round(r.next() * 100000) / 100],
  ['is_subscriber', (r) => r.chance(0.3)],
  ['push_enabled', (r) => r.chance(0.6)],
  ['last_login_ms', (r) => 1_600_000_000_000 + r.int(0, 100_000_000) * 1000],
  ['loyalty_points', (r) => r.int(0, 50000)],
  ['referral_code', (r) => r.hex(8)],
  ['nickname', (r, u) => `${r.pick(WORDS)}${u.index}`],
  ['__proto__', (r) => r.pick(WORDS)],
  ['constructor', (r) => r.pick(WORDS)],
  ...Array.from({ length: 21 }, (_, i) => [`custom_attr_${i}`, (r: SeededRandom) =>
    i % 3 === 0 ? r.int(0, 1000) : i % 3 === 1 ? r.pick(WORDS) : r.chance(0.5)] as [string, (r: SeededRandom, u: User) => unknown]),
];

function batchFor(random: SeededRandom, user: User, source: string, time: number, requestId: string, workspaceId: string) {
  const sessionId = String(random.int(1, 2 ** 31));
  const events = Array.from({ length: random.int(1, 10) }, (_, i) =>
    eventFor(random, random.weighted(Object.keys(EVENT_WEIGHTS) as SampleEventType[], Object.values(EVENT_WEIGHTS)), time + i * 137, sessionId, user));
  const user_attributes: Record<string, unknown> = Object.create(null);
  for (const [name, make] of random.sample(ATTRIBUTE_MAKERS, random.int(5, 30))) user_attributes[name] = make(random, user);

  const json: Record<string, unknown> = {
    source_request_id: requestId,
    mpid: user.mpid,
    environment: 'production',
    timestamp_unixtime_ms: time,
    ip: `10.${user.index % 256}.${(user.index >> 8) % 256}.${random.int(1, 254)}`,
    workspace_id: workspaceId,
    source,
    events,
    user_identities: user.identities,
    user_attributes,
    device_info: deviceFor(user, source),
    application_info: {
      application_name: 'Sample App', application_version: `3.${random.int(0, 9)}.0`, application_build_number: String(random.int(1000, 9999)),
      package: 'dev.profilestream.sample', os: platformOf(source), install_referrer: `utm_source=${random.pick(WORDS)}&utm_campaign=spring`,
    },
  };
  if (random.chance(0.1)) json.deleted_user_attributes = [random.pick(ATTRIBUTE_MAKERS)[0]];
  if (random.chance(0.3)) {
    const gdpr: Record<string, unknown> = {};
    for (const purpose of random.sample(['marketing', 'analytics', 'personalisation'], random.int(1, 2))) {
      gdpr[purpose] = { consented: random.chance(0.7), document: 'privacy_policy_v3', timestamp_unixtime_ms: time - random.int(0, 86_400_000), location: 'signup_form', hardware_id: null };
    }
    json.consent_state = { gdpr, ccpa: random.chance(0.3) ? { data_sale_opt_out: { consented: random.chance(0.5), timestamp_unixtime_ms: time, document: 'ccpa_v1' } } : {} };
  }
  return json;
}

function eventFor(random: SeededRandom, type: SampleEventType, time: number, sessionId: string, user: User) {
  const common = { timestamp_unixtime_ms: time, source_message_id: random.hex(16), session_id: sessionId };
  const attrs = () => Object.fromEntries(random.sample(WORDS, random.int(1, 4)).map((w) => [`attr_${w}`, random.pick(WORDS)]));
  const data: Record<string, unknown> = (() => {
    switch (type) {
      case 'custom_event': return { event_name: random.pick(EVENT_NAMES), custom_event_type: random.pick(['navigation', 'media', 'social', 'other']), custom_attributes: attrs() };
      case 'screen_view': return { screen_name: random.pick(SCREENS), custom_attributes: attrs() };
      case 'commerce_event': return {
        currency_code: 'EUR',
        product_action: { action: random.pick(['view_detail', 'add_to_cart', 'purchase']), transaction_id: random.hex(10), total_amount: random.int(100, 20000) / 100,
          products: Array.from({ length: random.int(1, 3) }, () => ({ id: `sku-${random.int(1, 500)}`, name: random.pick(WORDS), price: random.int(100, 9000) / 100, quantity: random.int(1, 3) })) },
      };
      case 'session_start': return {};
      case 'session_end': return { session_duration_ms: random.int(1000, 3_600_000) };
      case 'user_attribute_change': return random.chance(0.2)
        ? { user_attribute_name: random.pick(['favourite_drink', 'plan', 'nickname']), deleted: true }
        : { user_attribute_name: random.pick(['favourite_drink', 'plan', 'nickname']), new: random.pick(WORDS), old: null, is_new_attribute: random.chance(0.3) };
      case 'user_identity_change': return { new: { identity_type: 'email', identity: `user${user.index}+${random.int(1, 9)}@example.com`, timestamp_unixtime_ms: time, created_this_batch: true } };
      case 'opt_out': return { is_opted_out: random.chance(0.5) };
      case 'application_state_transition': return { application_transition_type: random.pick(['application_initialized', 'application_foreground', 'application_background']), is_first_run: false };
      case 'push_registration': return { register: true, registration_token: random.hex(32) };
      case 'crash_report': return { class_name: 'NullPointerException', message: 'boom', exception_handled: random.chance(0.5), breadcrumbs: [random.pick(SCREENS)] };
      case 'breadcrumb': return { label: random.pick(SCREENS) };
    }
  })();
  return { event_type: type, data: { ...common, ...data } };
}

function platformOf(source: string): string {
  return /ios/i.test(source) ? 'iOS' : /android/i.test(source) ? 'Android' : 'web';
}

/** One stable device per (user, source): the same install keeps the same stamp and identities. */
function deviceFor(user: User, source: string) {
  let h = user.deviceSeed;
  for (let i = 0; i < source.length; i++) h = Math.imul(h ^ source.charCodeAt(i), 16777619) >>> 0;
  const random = new SeededRandom(h);
  const platform = platformOf(source);
  const base = {
    device_application_stamp: random.hex(32), platform, locale_language: 'en', locale_country: 'US', timezone_offset: random.int(-8, 9),
    device_country: 'US', screen_height: random.pick([1334, 2532, 2400, 1080]), screen_width: random.pick([750, 1170, 1080, 1920]), screen_dpi: random.pick([326, 460, 420]),
    network_carrier: random.pick(['T-Mobile', 'Verizon', 'AT&T', 'Vodafone']), is_tablet: random.chance(0.1),
  };
  if (platform === 'iOS') {
    return { ...base, ios_advertising_id: uuid(random), ios_idfv: uuid(random), device_manufacturer: 'Apple', device_model: 'iPhone15,2', os_version: '17.4',
      att_authorization_status: random.pick(['authorized', 'denied', 'not_determined']), att_timestamp_unixtime_ms: 1_690_000_000_000, limit_ad_tracking: false };
  }
  if (platform === 'Android') {
    return { ...base, android_advertising_id: uuid(random), android_uuid: random.hex(16), device_manufacturer: 'Google', device_model: 'Pixel 8', os_version: '14', limit_ad_tracking: random.chance(0.1) };
  }
  return { ...base, http_header_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' };
}

function uuid(random: SeededRandom): string {
  const h = random.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
