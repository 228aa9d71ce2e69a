import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import { LimitExceededError } from '../../../src/profiles/errors.ts';
import type { DedupOptions, RecentBatches } from '../../../src/profiles/batch-dedup.ts';
import type { AttAuthorizationStatus, Batch, BatchEvent, UserAttributeValue } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { independentProfile, referenceLimitBroken, referenceReplays } from '../../support/independent-profile-reference.ts';
import {
  T0, attrs, attributeChange, batch, consent, customEvent, decision, deviceInfo, identities, identityChange, optOut,
} from './support/batches.ts';

// Small domains on purpose: few names, sources and times make collisions (and so ties) common.
const time = fc.integer({ min: 0, max: 6 }).map((n) => T0 + n * 1000);
const maybeTime = fc.option(time, { nil: null });
const name = fc.constantFrom('drink', 'tier', '__proto__', 'constructor');
const value: fc.Arbitrary<UserAttributeValue> = fc.oneof(fc.constantFrom('Beer', 'Coke', 'gold'), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constant(null), fc.constant(null).map(() => ['x', 'y']));
// Now and then a value over a limit, so whole batches are rejected among the others.
const overLimit: fc.Arbitrary<UserAttributeValue> = fc.constantFrom('v'.repeat(4097), Array.from({ length: 1001 }, () => 'e'), ['w'.repeat(4097)]);
const anyValue = fc.oneof({ arbitrary: value, weight: 20 }, { arbitrary: overLimit, weight: 1 });

const event: fc.Arbitrary<BatchEvent> = fc.oneof(
  fc.tuple(name, anyValue, maybeTime, fc.boolean()).map(([n, v, t, deleted]) => attributeChange(n, v, t, deleted)),
  // The identity's own time may differ from the event's (it is when the identity changed).
  fc.tuple(fc.constantFrom('email' as const, 'customer_id' as const), fc.option(fc.constantFrom('a', 'b'), { nil: null }), maybeTime, maybeTime)
    .map(([type, v, t, own]) => {
      const e = identityChange(type, v, t);
      if (e.event_type === 'user_identity_change') e.data.new!.timestamp_unixtime_ms = own;
      return e;
    }),
  // Only the `new` side of an identity change writes; one with only an `old` side changes nothing.
  fc.tuple(fc.constantFrom('email' as const, 'customer_id' as const), maybeTime).map(([type, t]) => {
    const e = identityChange(type, 'old', t);
    if (e.event_type === 'user_identity_change') [e.data.old, e.data.new] = [e.data.new, null];
    return e;
  }),
  fc.tuple(fc.boolean(), maybeTime).map(([v, t]) => optOut(v, t)),
  fc.tuple(fc.constantFrom('view', 'buy'), maybeTime, fc.option(anyValue, { nil: undefined }))
    .map(([n, t, custom]) => customEvent(n, t, custom === undefined ? attrs({}) : attrs({ note: custom }))),
);

const device = fc.option(
  fc.record({
    stamp: fc.constantFrom('d1', 'd2', null),
    os: fc.constantFrom('17', '18'),
    lat: fc.option(fc.boolean(), { nil: null }),
    idfa: fc.option(fc.constantFrom('i1', 'i2'), { nil: null }),
    idfv: fc.option(fc.constantFrom('v1'), { nil: null }),
    att: fc.option(fc.constantFrom<AttAuthorizationStatus>('authorized', 'denied'), { nil: null }),
    attAt: maybeTime,
  }),
  { nil: null },
);

const batchFields = fc.record({
  source: fc.constantFrom('web', 'ios'),
  workspace: fc.constantFrom('ws1', 'ws2'),
  at: maybeTime,
  anonymous: fc.boolean(),
  events: fc.array(event, { maxLength: 4 }),
  set: fc.dictionary(name, anyValue, { maxKeys: 3 }),
  deleted: fc.uniqueArray(name, { maxLength: 2 }),
  email: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
  gdpr: fc.option(fc.tuple(fc.constantFrom('marketing', 'analytics', '__proto__'), fc.boolean(), time, fc.constantFrom('v1', 'v2')), { nil: null }),
  ccpa: fc.option(fc.tuple(fc.boolean(), time), { nil: null }),
  device,
  referrer: fc.option(fc.constantFrom('utm_source=store&utm_campaign=spring', 'utm_source=ad', 'organic'), { nil: null }),
});

function toBatch(f: typeof batchFields extends fc.Arbitrary<infer T> ? T : never, index: number): Batch {
  const gdprDecision = f.gdpr === null ? null : { ...decision(f.gdpr[1], f.gdpr[2]), document: f.gdpr[3] };
  return batch({
    id: `b${index}`,
    source_request_id: f.anonymous ? null : `b${index}`,
    source: f.source,
    workspace_id: f.workspace,
    timestamp_unixtime_ms: f.at,
    events: f.events,
    user_attributes: attrs(Object.fromEntries(Object.entries(f.set))),
    deleted_user_attributes: f.deleted,
    user_identities: identities(f.email === null ? {} : { email: f.email }),
    consent_state: f.gdpr === null && f.ccpa === null ? null : consent(
      f.gdpr === null ? {} : { [f.gdpr[0]]: gdprDecision! },
      f.ccpa === null ? null : decision(f.ccpa[0], f.ccpa[1]),
    ),
    device_info: f.device === null ? null : deviceInfo({
      device_application_stamp: f.device.stamp, os_version: f.device.os, limit_ad_tracking: f.device.lat,
      ios_advertising_id: f.device.idfa, ios_idfv: f.device.idfv, att_authorization_status: f.device.att, att_timestamp_unixtime_ms: f.device.attAt,
    }),
    application_info: f.referrer === null ? null : {
      application_name: null, application_version: null, application_build_number: null, package: null, os: null,
      install_referrer: f.referrer, is_upgrade: null,
    },
  });
}

// A set of batches, some sent again (replays), in one arrival order: event times are independent of
// the order, so batches arrive out of order as a rule.
const batchesAndOrder = fc
  .array(batchFields, { minLength: 1, maxLength: 7 })
  .map((fields) => fields.map(toBatch))
  .chain((batches) => fc.tuple(fc.constant(batches), fc.subarray(batches, { maxLength: Math.min(2, batches.length) })))
  .map(([batches, replays]) => [...batches, ...replays])
  .chain((all) => fc.tuple(fc.constant(all), fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })));

/** Merges in arrival order as the processor does: the remembered batches threaded through, limit breakers skipped. */
function fold(arrivals: readonly Batch[], dedup?: DedupOptions): { profile: ProfileState | undefined; recent: RecentBatches; duplicates: boolean[] } {
  let profile: ProfileState | undefined;
  let recent: RecentBatches = [];
  const duplicates: boolean[] = [];
  for (const b of arrivals) {
    try {
      const result = mergeBatch(profile, b, { recordTimestampMs: T0, recent, ...(dedup ? { dedup } : {}) });
      ({ profile, recent } = result);
      duplicates.push(result.changes.duplicate);
    } catch (error) {
      if (!(error instanceof LimitExceededError)) throw error;
      duplicates.push(false);
    }
  }
  return { profile, recent, duplicates };
}

describe('mergeBatch against the independent reference', () => {
  it('gives the profile the documented rules give, in any arrival order, with replays, tombstones and rejected batches', () => {
    fc.assert(
      fc.property(batchesAndOrder, ([batches, shuffled]) => {
        const expected = independentProfile(batches, { recordTimestampMs: T0 });
        expect(fold(shuffled).profile).toEqual(expected);
        expect(fold([...batches].reverse()).profile).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects exactly the batches the reference finds over a limit', () => {
    fc.assert(
      fc.property(batchFields, (f) => {
        const b = toBatch(f, 0);
        const broken = referenceLimitBroken(b);
        let rejected = false;
        try {
          mergeBatch(undefined, b, { recordTimestampMs: T0 });
        } catch (error) {
          if (!(error instanceof LimitExceededError)) throw error;
          rejected = true;
        }
        expect(rejected, broken ?? 'within every limit').toBe(broken !== undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a batch over the attribute count or the size limit exactly when the reference does, near both edges', () => {
    fc.assert(
      fc.property(batchFields, fc.integer({ min: 97, max: 103 }), fc.integer({ min: -3, max: 3 }), (f, count, byteDelta) => {
        const b = toBatch(f, 0);
        for (let i = Object.keys(b.user_attributes).length; i < count; i++) b.user_attributes[`a${i}`] = i;
        const size = 128 * 1024 + byteDelta;
        const broken = referenceLimitBroken(b, { serializedBytes: () => size });
        let rejected = false;
        try {
          mergeBatch(undefined, b, { recordTimestampMs: T0, serializedBytes: size });
        } catch (error) {
          if (!(error instanceof LimitExceededError)) throw error;
          rejected = true;
        }
        expect(rejected, broken ?? 'within every limit').toBe(broken !== undefined);
      }),
      { numRuns: 300 },
    );
  });

  it('changes nothing when any batch already merged is merged again', () => {
    fc.assert(
      fc.property(batchesAndOrder, ([batches, shuffled]) => {
        const { profile, recent } = fold(shuffled);
        for (const b of batches) {
          if (referenceLimitBroken(b)) continue;
          const again = mergeBatch(profile, b, { recordTimestampMs: T0, recent });
          expect(again.profile).toBe(profile);
          expect(again.recent).toBe(recent);
          expect(again.changes.duplicate).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('calls the same arrivals replays and remembers the same batches as the documented dedup rule', () => {
    // Batch times span 0-6 s here: a 3 s window and a limit of 3 both cut.
    for (const dedup of [{ windowMs: 3000, maxRemembered: 256 }, { windowMs: 7 * 24 * 3600 * 1000, maxRemembered: 3 }]) {
      fc.assert(
        fc.property(batchesAndOrder, ([, shuffled]) => {
          const expected = referenceReplays(shuffled, dedup, { recordTimestampMs: T0 });
          const got = fold(shuffled, dedup);
          expect(got.duplicates).toEqual(expected.replay);
          expect(got.recent).toEqual(expected.remembered);
        }),
        { numRuns: 150 },
      );
    }
  });
});

