import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import { referenceFold } from '../../support/reference-fold.ts';
import type { DedupOptions, RecentBatches } from '../../../src/profiles/batch-dedup.ts';
import type { AttAuthorizationStatus, Batch, BatchEvent, UserAttributeValue } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import {
  T0, attrs, attributeChange, batch, consent, customEvent, decision, deviceInfo, identities, identityChange, optOut,
} from './support/batches.ts';

// Small domains on purpose: few names, sources and times make collisions (and so ties) common.
const time = fc.integer({ min: 0, max: 6 }).map((n) => T0 + n * 1000);
const maybeTime = fc.option(time, { nil: null });
const name = fc.constantFrom('drink', 'tier', '__proto__', 'constructor');
const value: fc.Arbitrary<UserAttributeValue> = fc.oneof(fc.constantFrom('Beer', 'Coke', 'gold'), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constant(null), fc.constant(null).map(() => ['x', 'y']));

const event: fc.Arbitrary<BatchEvent> = fc.oneof(
  fc.tuple(name, value, maybeTime, fc.boolean()).map(([n, v, t, deleted]) => attributeChange(n, v, t, deleted)),
  fc.tuple(fc.constantFrom('email' as const, 'customer_id' as const), fc.option(fc.constantFrom('a', 'b'), { nil: null }), maybeTime)
    .map(([type, v, t]) => identityChange(type, v, t)),
  fc.tuple(fc.boolean(), maybeTime).map(([v, t]) => optOut(v, t)),
  fc.tuple(fc.constantFrom('view', 'buy'), maybeTime).map(([n, t]) => customEvent(n, t)),
);

const device = fc.option(
  fc.record({
    stamp: fc.constantFrom('d1', 'd2'),
    os: fc.constantFrom('17', '18'),
    lat: fc.option(fc.boolean(), { nil: null }),
    idfa: fc.option(fc.constantFrom('i1', 'i2'), { nil: null }),
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
  set: fc.dictionary(name, value, { maxKeys: 3 }),
  deleted: fc.uniqueArray(name, { maxLength: 2 }),
  email: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
  gdpr: fc.option(fc.tuple(fc.constantFrom('marketing', 'analytics'), fc.boolean(), time), { nil: null }),
  ccpa: fc.option(fc.tuple(fc.boolean(), time), { nil: null }),
  device,
  referrer: fc.option(fc.constantFrom('store', 'ad'), { nil: null }),
});

function toBatch(f: typeof batchFields extends fc.Arbitrary<infer T> ? T : never, index: number): Batch {
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
      f.gdpr === null ? {} : { [f.gdpr[0]]: decision(f.gdpr[1], f.gdpr[2]) },
      f.ccpa === null ? null : decision(f.ccpa[0], f.ccpa[1]),
    ),
    device_info: f.device === null ? null : deviceInfo({
      device_application_stamp: f.device.stamp, os_version: f.device.os, limit_ad_tracking: f.device.lat,
      ios_advertising_id: f.device.idfa, att_authorization_status: f.device.att, att_timestamp_unixtime_ms: f.device.attAt,
    }),
    application_info: f.referrer === null ? null : {
      application_name: null, application_version: null, application_build_number: null, package: null, os: null,
      install_referrer: f.referrer, is_upgrade: null,
    },
  });
}

// A set of batches, some sent twice (replays), and one arrival order of them.
const batchesAndOrder = fc
  .array(batchFields, { minLength: 1, maxLength: 7 })
  .map((fields) => fields.map(toBatch))
  .chain((batches) => fc.tuple(fc.constant(batches), fc.subarray(batches, { maxLength: Math.min(2, batches.length) })))
  .map(([batches, replays]) => [...batches, ...replays])
  .chain((all) => fc.tuple(fc.constant(all), fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })));

/** Merges in the given order, threading the remembered batches as the processor does through its store. */
function foldWithRecent(batches: readonly Batch[], dedup?: DedupOptions): { profile: ProfileState | undefined; recent: RecentBatches } {
  let profile: ProfileState | undefined;
  let recent: RecentBatches = [];
  for (const b of batches) ({ profile, recent } = mergeBatch(profile, b, { recordTimestampMs: T0, recent, ...(dedup ? { dedup } : {}) }));
  return { profile, recent };
}

function fold(batches: readonly Batch[]): ProfileState | undefined {
  return foldWithRecent(batches).profile;
}

/**
 * The remembered batches by the documented rule, in plain code: each distinct batch id once, at its
 * batch time (the batch's timestamp, else its newest event's, else the record's); only those within
 * `windowMs` of the newest; the newest `maxRemembered` of them by time, then digest; oldest first.
 */
function expectedRecent(batches: readonly Batch[], windowMs: number, maxRemembered: number): Array<{ digest: string; seen_ms: number }> {
  const byId = new Map<string, number>();
  for (const b of batches) {
    const id = b.source_request_id ?? `sha256:${createHash('sha256').update(JSON.stringify(b)).digest('hex')}`;
    const eventTimes = b.events.map((e) => e.data.timestamp_unixtime_ms).filter((t): t is number => t !== null);
    const at = b.timestamp_unixtime_ms ?? (eventTimes.length > 0 ? Math.max(...eventTimes) : T0);
    if (!byId.has(id)) byId.set(id, at);
  }
  const entries = [...byId].map(([id, at]) => ({ digest: createHash('sha256').update(id).digest('hex').slice(0, 16), seen_ms: at }));
  const newest = Math.max(...entries.map((e) => e.seen_ms));
  const kept = entries.filter((e) => e.seen_ms >= newest - windowMs);
  kept.sort((a, b) => (a.seen_ms !== b.seen_ms ? a.seen_ms - b.seen_ms : a.digest < b.digest ? -1 : 1));
  return kept.slice(Math.max(0, kept.length - maxRemembered));
}

describe('mergeBatch, over any arrival order', () => {
  it('gives the same profile for every permutation of a set of batches, equal to the reference fold', () => {
    fc.assert(
      fc.property(batchesAndOrder, ([batches, shuffled]) => {
        const expected = referenceFold(batches, { recordTimestampMs: T0 });
        expect(fold(shuffled)).toEqual(expected);
        expect(fold([...batches].reverse())).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('changes nothing when any batch already merged is merged again', () => {
    fc.assert(
      fc.property(batchesAndOrder, ([batches, shuffled]) => {
        const { profile, recent } = foldWithRecent(shuffled);
        for (const b of batches) {
          const again = mergeBatch(profile, b, { recordTimestampMs: T0, recent });
          expect(again.profile).toBe(profile);
          expect(again.recent).toBe(recent);
          expect(again.changes.duplicate).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('remembers the same batches in every arrival order: the newest within the window, at most the limit', () => {
    // Batch times span 0-6 s here: a 3 s window and a limit of 3 both cut.
    for (const dedup of [{ windowMs: 3000, maxRemembered: 256 }, { windowMs: 7 * 24 * 3600 * 1000, maxRemembered: 3 }]) {
      fc.assert(
        fc.property(batchesAndOrder, ([batches, shuffled]) => {
          const expected = expectedRecent(batches, dedup.windowMs, dedup.maxRemembered);
          expect(foldWithRecent(shuffled, dedup).recent).toEqual(expected);
          expect(foldWithRecent([...batches].reverse(), dedup).recent).toEqual(expected);
        }),
        { numRuns: 150 },
      );
    }
  });
});
