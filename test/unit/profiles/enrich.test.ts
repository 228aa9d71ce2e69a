import { describe, expect, it } from 'vitest';
import { enrich } from '../../../src/profiles/enrich.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { type IntegrationConfig } from '../../../src/profiles/integration.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import {
  DAY, T0, attrs, attributeChange, batch, consent, customEvent, decision, deviceInfo, identities, identityChange, screenView,
} from './support/batches.ts';

function integration(yaml: string): IntegrationConfig {
  const text = `integrations:\n  - name: test\n${yaml.replace(/^/gm, '    ')}\n`;
  return parseIntegrationsConfig(text, { file: 'test.yaml' }).integrations[0]!;
}

function merged(...batches: Batch[]): ProfileState {
  let profile: ProfileState | undefined;
  for (const b of batches) profile = mergeBatch(profile, b).profile;
  return profile!;
}

const NOW = { processedAtMs: T0 + 99 * DAY };
const profileOnly = batch({ id: 'p', timestamp_unixtime_ms: T0, user_attributes: attrs({ tier: 'gold', favourite_drink: 'Coke' }), user_identities: identities({ email: 'a@x.io', customer_id: 'c1' }) });
const withEvents = batch({ id: 'e', timestamp_unixtime_ms: T0 + DAY, events: [customEvent('purchase', T0 + DAY), screenView('home', T0 + DAY)], user_attributes: attrs({ city: 'Oslo' }) });

describe('enrich', () => {
  it('carries every attribute and identity of the profile, not only those the batch sent', () => {
    const profile = merged(profileOnly, withEvents);
    const out = enrich(withEvents, profile, integration(''), NOW)!;
    expect(Object.keys(out.profile.user_attributes).sort()).toEqual(['city', 'favourite_drink', 'tier']);
    expect(out.profile.user_attributes['tier']).toEqual({ value: 'gold', updated_ms: T0, source: 'web' });
    expect(out.profile.user_identities).toEqual({ email: { value: 'a@x.io', updated_ms: T0 }, customer_id: { value: 'c1', updated_ms: T0 } });
    expect(out.batch.events).toHaveLength(2);
    expect(out).toMatchObject({ integration: 'test', processed_timestamp_ms: NOW.processedAtMs });
    expect(out.profile).toMatchObject({ mpid: '42', created_timestamp_ms: T0, last_seen_timestamp_ms: T0 + DAY, audience_memberships: [], calculated_attributes: {} });
  });

  it('carries calculated attributes as user attributes: one named like a user attribute overrides it, one without a value yet does not', () => {
    const base = merged(profileOnly, withEvents);
    const ws = base.workspaces['ws1']!;
    const profile: ProfileState = {
      ...base,
      workspaces: {
        ...base.workspaces,
        ws1: {
          ...ws,
          calculated_attributes: {
            tier: { value: 'platinum', updated_ms: T0 + 5 * DAY, definition_version: 1 },
            plays_7d: { value: '12', updated_ms: T0 + 5 * DAY, definition_version: 1 },
            city: { value: null, updated_ms: T0 + 5 * DAY, definition_version: 1 },
          },
        },
      },
    };
    const out = enrich(withEvents, profile, integration(''), NOW)!;
    expect(out.profile.user_attributes['tier']).toEqual({ value: 'platinum', updated_ms: T0 + 5 * DAY, source: 'calculated_attribute' });
    expect(out.profile.user_attributes['plays_7d']).toEqual({ value: '12', updated_ms: T0 + 5 * DAY, source: 'calculated_attribute' });
    expect(out.profile.user_attributes['city']).toEqual({ value: 'Oslo', updated_ms: T0 + DAY, source: 'web' });
    // The calculated values stay in their own map too, with the null one.
    expect(Object.keys(out.profile.calculated_attributes).sort()).toEqual(['city', 'plays_7d', 'tier']);
    // An integration's attribute filter applies to calculated attributes as to any user attribute.
    const allowTier = enrich(withEvents, profile, integration('filters:\n  user_attributes: { mode: allow, list: [tier] }'), NOW)!;
    expect(Object.keys(allowTier.profile.user_attributes)).toEqual(['tier']);
    expect(allowTier.profile.user_attributes['tier']?.value).toBe('platinum');
  });

  it('skips a profile-only batch unless the integration takes them, and sends its update with the next batch', () => {
    const after = merged(profileOnly);
    expect(enrich(profileOnly, after, integration(''), NOW)).toBeUndefined();
    expect(enrich(profileOnly, after, integration('forward_profile_only_batches: true'), NOW)?.profile.user_attributes['tier']?.value).toBe('gold');
    expect(enrich(withEvents, merged(profileOnly, withEvents), integration(''), NOW)?.profile.user_attributes['tier']?.value).toBe('gold');
  });

  it('in allow mode sends only listed attributes, identities and event types; new ones are held back', () => {
    const ads = integration([
      'filters:',
      '  user_attributes: { mode: allow, list: [tier] }',
      '  identities: { mode: allow, list: [customer_id] }',
      '  event_types: { mode: allow, list: [custom_event] }',
    ].join('\n'));
    const b = ({ ...withEvents, source_request_id: 'e2', user_attributes: attrs({ city: 'Oslo', brand_new: 1 }), user_identities: identities({ email: 'z@x.io' }) }) satisfies Batch;
    const out = enrich(b, merged(profileOnly, b), ads, NOW)!;
    expect(Object.keys(out.profile.user_attributes)).toEqual(['tier']);
    expect(Object.keys(out.profile.user_identities)).toEqual(['customer_id']);
    expect(out.batch.events.map((e) => e.event_type)).toEqual(['custom_event']);
    expect(Object.keys(out.batch.user_attributes)).toEqual([]);
    expect(out.batch.user_identities.email).toBeNull();
  });

  it('in deny mode sends everything but the listed, including data points nobody has seen before', () => {
    const analytics = integration([
      'filters:',
      '  user_attributes: { mode: deny, list: [favourite_drink] }',
      '  event_names: { mode: deny, list: [home] }',
    ].join('\n'));
    const b = ({ ...withEvents, source_request_id: 'e3', user_attributes: attrs({ city: 'Oslo', brand_new: 1 }) }) satisfies Batch;
    const out = enrich(b, merged(profileOnly, b), analytics, NOW)!;
    expect(Object.keys(out.profile.user_attributes).sort()).toEqual(['brand_new', 'city', 'tier']);
    expect(out.batch.events.map((e) => e.event_type)).toEqual(['custom_event']);
  });

  it('does not leak a filtered attribute or identity through change events or the batch fields', () => {
    const f = integration('filters:\n  user_attributes: { mode: deny, list: [secret] }\n  identities: { mode: deny, list: [email] }');
    const b = batch({
      id: 'leak', events: [attributeChange('secret', 's', T0), attributeChange('ok', 'o', T0), identityChange('email', 'e@x.io', T0), customEvent('x', T0)],
      deleted_user_attributes: ['secret', 'gone'],
    });
    const out = enrich(b, merged(b), f, NOW)!;
    expect(out.batch.events.map((e) => e.event_type)).toEqual(['user_attribute_change', 'custom_event']);
    expect(out.batch.deleted_user_attributes).toEqual(['gone']);
    expect(Object.keys(out.profile.user_attributes)).toEqual(['ok']);
    expect(out.profile.user_identities).toEqual({});
  });

  it('returns nothing when every event is filtered out', () => {
    const f = integration('filters:\n  event_types: { mode: allow, list: [commerce_event] }');
    expect(enrich(withEvents, merged(withEvents), f, NOW)).toBeUndefined();
  });

  it('sends nothing for a user who opted out of data sale under CCPA when the integration says so', () => {
    const rules = integration('consent: { block_on_ccpa_data_sale_opt_out: true }');
    const optedOut = ({ ...withEvents, source_request_id: 'c', consent_state: consent({}, decision(true, T0)) }) satisfies Batch;
    expect(enrich(optedOut, merged(optedOut), rules, NOW)).toBeUndefined();
    expect(enrich(optedOut, merged(optedOut), integration(''), NOW)).toBeDefined();
    const optedBackIn = ({ ...withEvents, source_request_id: 'c2', consent_state: consent({}, decision(false, T0 + DAY)) }) satisfies Batch;
    expect(enrich(optedBackIn, merged(optedOut, optedBackIn), rules, NOW)).toBeDefined();
  });

  it('sends only when the required GDPR purpose is consented in the merged profile', () => {
    const rules = integration('consent: { require_gdpr_purposes: [Marketing] }');
    expect(enrich(withEvents, merged(withEvents), rules, NOW)).toBeUndefined();
    const granted = batch({ id: 'g', timestamp_unixtime_ms: T0, consent_state: consent({ marketing: decision(true, T0) }) });
    expect(enrich(withEvents, merged(granted, withEvents), rules, NOW)?.profile.consent_state.gdpr['marketing']?.consented).toBe(true);
    const withdrawn = batch({ id: 'w', timestamp_unixtime_ms: T0, consent_state: consent({ marketing: decision(false, T0 + 2 * DAY) }) });
    expect(enrich(withEvents, merged(granted, withdrawn, withEvents), rules, NOW)).toBeUndefined();
  });

  it('carries the device of this batch as the profile knows it', () => {
    const newer = batch({ id: 'd1', source: 'ios', timestamp_unixtime_ms: T0 + DAY, device_info: deviceInfo({ device_application_stamp: 'das', os_version: '18' }) });
    const older = batch({ id: 'd0', source: 'ios', timestamp_unixtime_ms: T0, events: [customEvent('x', T0)], device_info: deviceInfo({ device_application_stamp: 'das', os_version: '17' }) });
    expect(enrich(older, merged(newer, older), integration(''), NOW)?.profile.device_info?.os_version).toBe('18');
  });
});
