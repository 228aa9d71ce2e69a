import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import {
  DAY, T0, attrs, attributeChange, batch, consent, customEvent, decision, deviceInfo, identities, identityChange, optOut,
} from './support/batches.ts';

function fold(batches: Batch[], start?: ProfileState): ProfileState {
  let profile = start;
  for (const b of batches) profile = mergeBatch(profile, b).profile;
  return profile!;
}

/** The dedup digest as the README defines it, computed here without the code under test. */
function sha256Prefix(batchId: string): string {
  return createHash('sha256').update(batchId, 'utf8').digest('hex').slice(0, 16);
}

function attribute(profile: ProfileState, name: string, workspace = 'ws1') {
  const ws = profile.workspaces[workspace]!;
  return Object.hasOwn(ws.user_attributes, name) ? ws.user_attributes[name]!.value : undefined;
}

describe('mergeBatch: user attributes', () => {
  const beerOnWeb = batch({ id: 'web-1', source: 'web', timestamp_unixtime_ms: T0, user_attributes: attrs({ favourite_drink: 'Beer' }) });
  const cokeOnIos = batch({ id: 'ios-1', source: 'ios', timestamp_unixtime_ms: T0 + DAY, user_attributes: attrs({ favourite_drink: 'Coke' }) });

  it('keeps Coke when Beer was set on web and Coke on iOS the next day, in arrival order', () => {
    expect(attribute(fold([beerOnWeb, cokeOnIos]), 'favourite_drink')).toBe('Coke');
  });

  it('keeps Coke when the iOS batch is consumed before the older web one', () => {
    const profile = fold([cokeOnIos, beerOnWeb]);
    expect(attribute(profile, 'favourite_drink')).toBe('Coke');
    expect(profile.workspaces['ws1']!.user_attributes['favourite_drink']).toMatchObject({ updated_ms: T0 + DAY, source: 'ios', batch_id: 'ios-1' });
    expect(profile).toEqual(fold([beerOnWeb, cokeOnIos]));
  });

  it('lets a late batch fill attributes the profile lacks without overwriting newer ones', () => {
    const late = batch({ id: 'late', timestamp_unixtime_ms: T0 - DAY, user_attributes: attrs({ favourite_drink: 'Water', tier: 'gold' }) });
    const profile = fold([cokeOnIos, late]);
    expect(attribute(profile, 'favourite_drink')).toBe('Coke');
    expect(attribute(profile, 'tier')).toBe('gold');
  });

  it('keeps an attribute removed when the delete is newer than a set that arrives late', () => {
    const del = batch({ id: 'del', timestamp_unixtime_ms: T0 + 2 * DAY, deleted_user_attributes: ['favourite_drink'] });
    const profile = fold([beerOnWeb, del, cokeOnIos]);
    expect(attribute(profile, 'favourite_drink')).toBeUndefined();
    expect(profile.workspaces['ws1']!.attribute_tombstones['favourite_drink']).toMatchObject({ deleted_ms: T0 + 2 * DAY });
  });

  it('brings a removed attribute back with a set newer than the removal', () => {
    const del = batch({ id: 'del', timestamp_unixtime_ms: T0 + DAY, events: [attributeChange('favourite_drink', null, T0 + DAY, true)] });
    const later = batch({ id: 'later', timestamp_unixtime_ms: T0 + 3 * DAY, events: [attributeChange('favourite_drink', 'Tea', T0 + 3 * DAY)] });
    const profile = fold([beerOnWeb, later, del]);
    expect(attribute(profile, 'favourite_drink')).toBe('Tea');
    expect(Object.keys(profile.workspaces['ws1']!.attribute_tombstones)).toEqual([]);
  });

  it('ignores a delete that arrives late but happened before the current value was set', () => {
    const oldDelete = batch({ id: 'old-del', timestamp_unixtime_ms: T0 - DAY, deleted_user_attributes: ['favourite_drink'] });
    const profile = fold([cokeOnIos, oldDelete]);
    expect(attribute(profile, 'favourite_drink')).toBe('Coke');
    expect(mergeBatch(fold([cokeOnIos]), oldDelete).changes.contentChanged).toBe(true); // seen times move
  });

  it('orders writes inside a batch by event time, and a batch field after its events at the same time', () => {
    const b = batch({
      id: 'b', timestamp_unixtime_ms: T0 + 10,
      events: [attributeChange('a', 'late-event', T0 + 20), attributeChange('b', 'event', T0 + 10), attributeChange('a', 'early-event', T0 + 5)],
      user_attributes: attrs({ a: 'batch', b: 'batch' }),
    });
    const profile = fold([b]);
    expect(attribute(profile, 'a')).toBe('late-event');
    expect(attribute(profile, 'b')).toBe('batch');
  });

  it('breaks a tie of equal event times by source, then batch id, whatever the arrival order', () => {
    const fromWeb = batch({ id: 'z', source: 'web', user_attributes: attrs({ x: 'web' }) });
    const fromIos = batch({ id: 'a', source: 'ios', user_attributes: attrs({ x: 'ios' }) });
    const fromWeb2 = batch({ id: 'a', source: 'web', user_attributes: attrs({ x: 'web-a' }) });
    expect(attribute(fold([fromWeb, fromIos, fromWeb2]), 'x')).toBe('web');
    expect(attribute(fold([fromIos, fromWeb2, fromWeb]), 'x')).toBe('web');
  });

  it('keeps attributes, consent and devices per workspace', () => {
    const ws2 = batch({ id: 'w2', workspace_id: 'ws2', timestamp_unixtime_ms: T0 + 5 * DAY, user_attributes: attrs({ favourite_drink: 'Milk' }) });
    const profile = fold([beerOnWeb, ws2]);
    expect(attribute(profile, 'favourite_drink', 'ws1')).toBe('Beer');
    expect(attribute(profile, 'favourite_drink', 'ws2')).toBe('Milk');
  });

  it('treats __proto__, constructor and hasOwnProperty as ordinary attribute names, purposes and workspaces', () => {
    const b = batch({
      id: 'p', workspace_id: 'constructor',
      // Computed keys: a literal `__proto__:` would set the object's prototype instead of a key.
      user_attributes: attrs({ ['__proto__']: 'polluted?', constructor: 'c', hasOwnProperty: 'h' }),
      consent_state: consent({ ['__proto__']: decision(true, T0) }),
    });
    const profile = fold([b, batch({ id: 'q', workspace_id: 'constructor', deleted_user_attributes: ['toString'] })]);
    const ws = profile.workspaces['constructor']!;
    expect(Object.keys(ws.user_attributes).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(attribute(profile, '__proto__', 'constructor')).toBe('polluted?');
    expect(Object.getPrototypeOf(ws.user_attributes)).toBeNull();
    expect(Object.keys(ws.consent_state.gdpr)).toEqual(['__proto__']);
    expect(Object.keys(ws.attribute_tombstones)).toEqual(['toString']);
    expect(({} as Record<string, unknown>)['polluted?']).toBeUndefined();
  });

  it('does not modify the profile or the batch it is given', () => {
    const before = fold([beerOnWeb]);
    const snapshot = JSON.stringify(before);
    const input = JSON.stringify(cokeOnIos);
    mergeBatch(before, cokeOnIos);
    expect(JSON.stringify(before)).toBe(snapshot);
    expect(JSON.stringify(cokeOnIos)).toBe(input);
  });
});

describe('mergeBatch: identities', () => {
  it('adds, changes and removes identities, reporting each change for the identity index', () => {
    const first = mergeBatch(undefined, batch({ id: '1', user_identities: identities({ email: 'a@x.io', customer_id: 'c1' }) }));
    expect(first.changes.identities.map((c) => [c.op, c.key, c.mpid])).toEqual([
      ['added', 'customer_id:c1', '42'],
      ['added', 'email:a@x.io', '42'],
    ]);

    const changed = mergeBatch(first.profile, batch({ id: '2', timestamp_unixtime_ms: T0 + 1, events: [identityChange('email', 'b@x.io', T0 + 1)] }));
    expect(changed.changes.identities.map((c) => [c.op, c.key])).toEqual([['removed', 'email:a@x.io'], ['added', 'email:b@x.io']]);

    const removed = mergeBatch(changed.profile, batch({ id: '3', timestamp_unixtime_ms: T0 + 2, events: [identityChange('email', null, T0 + 2)] }));
    expect(removed.changes.identities.map((c) => [c.op, c.key])).toEqual([['removed', 'email:b@x.io']]);
    expect(removed.profile.user_identities['email']).toMatchObject({ value: null, updated_ms: T0 + 2 });
    expect(removed.profile.user_identities['customer_id']!.value).toBe('c1');
  });

  it('does not bring back a removed identity when an older set arrives late', () => {
    const removal = batch({ id: 'rm', timestamp_unixtime_ms: T0 + DAY, events: [identityChange('email', null, T0 + DAY)] });
    const olderSet = batch({ id: 'old', timestamp_unixtime_ms: T0, user_identities: identities({ email: 'a@x.io' }) });
    const profile = fold([removal, olderSet]);
    expect(profile.user_identities['email']!.value).toBeNull();
    expect(mergeBatch(fold([removal]), olderSet).changes.identities).toEqual([]);
  });

  it('treats a null entry of user_identities as not sent, never as a removal', () => {
    const profile = fold([
      batch({ id: '1', user_identities: identities({ email: 'a@x.io' }) }),
      batch({ id: '2', timestamp_unixtime_ms: T0 + DAY, user_identities: identities({ customer_id: 'c1' }) }),
    ]);
    expect(profile.user_identities['email']!.value).toBe('a@x.io');
  });

  it('keeps identities per user, across workspaces', () => {
    const profile = fold([
      batch({ id: '1', workspace_id: 'ws1', user_identities: identities({ email: 'a@x.io' }) }),
      batch({ id: '2', workspace_id: 'ws2', timestamp_unixtime_ms: T0 + 1, user_identities: identities({ email: 'b@x.io' }) }),
    ]);
    expect(profile.user_identities['email']!.value).toBe('b@x.io');
  });
});

describe('mergeBatch: consent', () => {
  it('keeps each GDPR purpose by its own decision time', () => {
    const early = batch({ id: '1', consent_state: consent({ marketing: decision(true, T0), analytics: decision(true, T0) }) });
    const later = batch({ id: '2', timestamp_unixtime_ms: T0 - DAY, consent_state: consent({ marketing: decision(false, T0 + DAY) }) });
    const stale = batch({ id: '3', timestamp_unixtime_ms: T0 + 9 * DAY, consent_state: consent({ analytics: decision(false, T0 - DAY) }) });
    for (const order of [[early, later, stale], [stale, later, early], [later, stale, early]]) {
      const gdpr = fold(order).workspaces['ws1']!.consent_state.gdpr;
      expect(gdpr['marketing']!.consented).toBe(false);
      expect(gdpr['analytics']!.consented).toBe(true);
    }
  });

  it('keeps the newest CCPA data-sale opt-out, and the private choice on a tie', () => {
    const optIn = batch({ id: '1', consent_state: consent({}, decision(false, T0)) });
    const optedOut = batch({ id: '2', consent_state: consent({}, decision(true, T0)) });
    expect(fold([optIn, optedOut]).workspaces['ws1']!.consent_state.ccpa.data_sale_opt_out!.consented).toBe(true);
    expect(fold([optedOut, optIn]).workspaces['ws1']!.consent_state.ccpa.data_sale_opt_out!.consented).toBe(true);
  });
});

describe('mergeBatch: devices, seen times, opt-out', () => {
  const ios = (id: string, at: number, fields: Parameters<typeof deviceInfo>[0] = {}) =>
    batch({ id, source: 'ios', timestamp_unixtime_ms: at, device_info: deviceInfo({ device_application_stamp: 'das-1', ...fields }) });

  it('records a device first seen at the earliest batch from it, whichever arrives first', () => {
    const profile = fold([ios('2', T0 + DAY, { os_version: '18' }), ios('1', T0, { os_version: '17', ios_idfv: 'v1' })]);
    const device = profile.workspaces['ws1']!.devices['das-1']!;
    expect(device.first_seen_ms).toBe(T0);
    expect(device.last_seen_ms).toBe(T0 + DAY);
    expect(device.device_info.os_version).toBe('18');
    expect(device.device_identities).toEqual({});
  });

  it('keeps the ATT status with the newest ATT timestamp', () => {
    const profile = fold([
      ios('1', T0 + DAY, { att_authorization_status: 'not_determined', att_timestamp_unixtime_ms: T0 - DAY }),
      ios('2', T0, { att_authorization_status: 'authorized', att_timestamp_unixtime_ms: T0 }),
    ]);
    expect(profile.workspaces['ws1']!.devices['das-1']).toMatchObject({ att_status: 'authorized', att_updated_ms: T0 });
  });

  it('sets limit_ad_tracking from the latest device info and device identities from its fields', () => {
    const profile = fold([ios('1', T0 + DAY, { limit_ad_tracking: true, ios_advertising_id: 'idfa' }), ios('2', T0, { limit_ad_tracking: false })]);
    expect(profile.limit_ad_tracking).toBe(true);
    expect(profile.workspaces['ws1']!.devices['das-1']!.device_identities).toEqual({ ios_advertising_id: 'idfa' });
  });

  it('sets created and last seen from the earliest and latest event times', () => {
    const profile = fold([
      batch({ id: '1', timestamp_unixtime_ms: T0, events: [customEvent('a', T0 - 5), customEvent('b', null)] }),
      batch({ id: '2', timestamp_unixtime_ms: T0 - DAY, events: [customEvent('c', T0 + 7)] }),
    ]);
    expect(profile.created_timestamp_ms).toBe(T0 - DAY);
    expect(profile.last_seen_timestamp_ms).toBe(T0 + 7);
  });

  it('applies opt-out events by event time', () => {
    const out = batch({ id: '1', timestamp_unixtime_ms: T0 + DAY, events: [optOut(true, T0 + DAY)] });
    const backIn = batch({ id: '2', timestamp_unixtime_ms: T0, events: [optOut(false, T0)] });
    expect(fold([out, backIn])).toMatchObject({ is_opted_out: true, opt_out_updated_ms: T0 + DAY });
  });
});

describe('mergeBatch: replay, limits, mpid', () => {
  const b = batch({ id: 'req-1', user_attributes: attrs({ tier: 'gold' }), user_identities: identities({ email: 'a@x.io' }) });

  it('changes nothing and reports a duplicate when the same batch id comes again', () => {
    const first = mergeBatch(undefined, b);
    const again = mergeBatch(first.profile, { ...b, user_attributes: attrs({ tier: 'silver' }) }, { recent: first.recent });
    expect(again.profile).toBe(first.profile);
    expect(again.recent).toBe(first.recent);
    expect(again.changes).toEqual({ changed: false, contentChanged: false, duplicate: true, identities: [] });
  });

  it('recognises a replay of a batch without source_request_id by its content', () => {
    const anonymous = { ...b, source_request_id: null };
    const first = mergeBatch(undefined, anonymous);
    expect(mergeBatch(first.profile, anonymous, { recent: first.recent }).changes.duplicate).toBe(true);
    expect(mergeBatch(first.profile, { ...anonymous, user_attributes: attrs({ tier: 'x' }) }, { recent: first.recent }).changes.duplicate).toBe(false);
  });

  it('merges a replay older than the dedup window again without changing anything a reader sees', () => {
    const dedup = { windowMs: DAY, maxRemembered: 10 };
    const first = mergeBatch(undefined, b);
    const muchLater = mergeBatch(first.profile, batch({ id: 'later', timestamp_unixtime_ms: T0 + 30 * DAY }), { dedup, recent: first.recent });
    // Worked by hand: 'req-1' (at T0) is more than a day older than 'later', so only 'later' is remembered.
    expect(muchLater.recent).toEqual([{ digest: sha256Prefix('later'), seen_ms: T0 + 30 * DAY }]);
    const replay = mergeBatch(muchLater.profile, b, { dedup, recent: muchLater.recent });
    expect(replay.changes).toMatchObject({ duplicate: false, contentChanged: false, changed: false, identities: [] });
    // Too old to remember: the dedup store is not written either.
    expect(replay.recent).toBe(muchLater.recent);
  });

  it('keeps the remembered batches out of the profile', () => {
    const { profile, recent } = mergeBatch(undefined, b);
    expect(Object.keys(profile)).not.toContain('recent_batches');
    expect(recent).toEqual([{ digest: sha256Prefix('req-1'), seen_ms: T0 }]);
  });

  it('rejects a batch over a limit naming the limit, and leaves the profile alone', () => {
    const many = attrs(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, i])));
    const cases: [Batch, string][] = [
      [batch({ id: 'n', user_attributes: many }), 'max_user_attributes_per_batch'],
      [batch({ id: 'v', user_attributes: attrs({ bio: 'x'.repeat(4097) }) }), 'max_attribute_value_length'],
      [batch({ id: 'l', user_attributes: attrs({ tags: Array.from({ length: 1001 }, () => 't') }) }), 'max_attribute_list_entries'],
      [batch({ id: 'e', events: [customEvent('big', T0, attrs({ blob: 'y'.repeat(4097) }))] }), 'max_attribute_value_length'],
      [batch({ id: 's', events: Array.from({ length: 60 }, () => customEvent('e', T0, attrs({ blob: 'z'.repeat(3000) }))) }), 'max_batch_bytes'],
    ];
    for (const [over, limit] of cases) {
      expect(() => mergeBatch(undefined, over)).toThrow(expect.objectContaining({ code: 'PS_ERR_PROFILE_LIMIT_EXCEEDED', limit }));
    }
    expect(() => mergeBatch(undefined, batch({ id: 'ok', user_attributes: attrs({ bio: 'x'.repeat(4096) }) }))).not.toThrow();
    expect(() => mergeBatch(undefined, b, { serializedBytes: 128 * 1024 + 1 })).toThrow(expect.objectContaining({ limit: 'max_batch_bytes' }));
  });

  it('refuses to merge a batch of another user', () => {
    const profile = mergeBatch(undefined, b).profile;
    expect(() => mergeBatch(profile, { ...b, source_request_id: 'x', mpid: '43' })).toThrow(expect.objectContaining({ code: 'PS_ERR_PROFILE_MPID_MISMATCH' }));
    expect(() => mergeBatch(undefined, { ...b, mpid: null })).toThrow(expect.objectContaining({ code: 'PS_ERR_PROFILE_MPID_MISSING' }));
  });
});
