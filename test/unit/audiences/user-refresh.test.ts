import { describe, expect, it } from 'vitest';
import type { UserAggregates } from '../../../src/audiences/aggregates.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import { compileDefinitions, type Definitions } from '../../../src/audiences/definitions.ts';
import { applySeedToUser } from '../../../src/audiences/aggregates.ts';
import { refreshUser, type RefreshResult } from '../../../src/audiences/user-refresh.ts';
import { emptyProfile, emptyWorkspace } from '../../../src/profiles/profile.ts';
import { dict, setEntry } from '../../../src/shared/dictionary.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { DAY, NOW, ev } from './support.ts';
import type { EventView } from '../../../src/audiences/event-view.ts';

function profileIn(workspace = '1', extra: Partial<ProfileState> = {}): ProfileState {
  const p = emptyProfile('42', NOW - 100 * DAY);
  const workspaces = dict<ReturnType<typeof emptyWorkspace>>();
  setEntry(workspaces, workspace, emptyWorkspace());
  return { ...p, workspaces, ...extra };
}

const calcYaml = (purchaseDays = 7) => `
calculated_attributes:
  - name: purchases_week
    workspace: "1"
    calculation: count
    event: { type: custom_event, name: Purchase }
    within_days: ${purchaseDays}
  - name: spend
    workspace: "1"
    calculation: sum
    event: { name: purchase, where: [{ attribute: currency, operator: equals, value: eur }] }
    attribute: amount
  - name: spend_since_june
    workspace: "1"
    calculation: sum
    event: { name: purchase }
    attribute: amount
    since: 2025-06-01
`;

function defs(calc = calcYaml(), audiences = 'audiences: []'): Definitions {
  return compileDefinitions(parseCalculatedAttributesConfig(calc, 'c.yaml'), parseAudiencesConfig(audiences, 'a.yaml'));
}

function run(definitions: Definitions, views: EventView[], state: { profile: ProfileState; aggregates?: UserAggregates }, nowMs = NOW): RefreshResult {
  return refreshUser({ profile: state.profile, aggregates: state.aggregates, definitions, nowMs, events: { workspace: '1', views } });
}

const value = (r: RefreshResult, name: string) => r.profile.workspaces['1']!.calculated_attributes[name]?.value;

describe('calculated attributes on a user', () => {
  it('count within the last 7 days: an event exactly 7 days old is out, one 6 days old is in', () => {
    const r = run(defs(), [ev('purchase', NOW - 7 * DAY), ev('purchase', NOW - 6 * DAY), ev('Purchase', NOW), ev('view', NOW)], { profile: profileIn() });
    expect(value(r, 'purchases_week')).toBe('2');
    // The window is UTC days: the 6-day-old event leaves at midnight starting day +7 from it.
    expect(r.nextChangeAtMs).toBe((Math.floor((NOW - 6 * DAY) / DAY) + 7) * DAY);
  });

  it('the window slides with no new event: a time-driven refresh lowers the count', () => {
    const first = run(defs(), [ev('purchase', NOW - 6 * DAY), ev('purchase', NOW)], { profile: profileIn() });
    const later = refreshUser({ profile: first.profile, aggregates: first.aggregates, definitions: defs(), nowMs: first.nextChangeAtMs! });
    expect(value(later, 'purchases_week')).toBe('1');
    const evenLater = refreshUser({ profile: later.profile, aggregates: later.aggregates, definitions: defs(), nowMs: NOW + 7 * DAY });
    expect(value(evenLater, 'purchases_week')).toBe('0');
    expect(evenLater.nextChangeAtMs).toBeNull();
    // Buckets that left the window are dropped: state stays bounded.
    expect(evenLater.aggregates.workspaces['1']!.defs['purchases_week']!.buckets).toEqual([]);
  });

  it('conditions on event attributes and since-date ranges select the events', () => {
    const r = run(defs(), [
      ev('purchase', Date.UTC(2025, 4, 30), { amount: 10, currency: 'EUR' }),
      ev('purchase', NOW, { amount: '5.5', currency: 'eur' }),
      ev('purchase', NOW, { amount: 100, currency: 'USD' }),
    ], { profile: profileIn() });
    expect(value(r, 'spend')).toBe('15.5');
    expect(value(r, 'spend_since_june')).toBe('105.5');
  });

  it('accumulates across batches and keeps state bounded by days, not events', () => {
    let state: { profile: ProfileState; aggregates?: UserAggregates } = { profile: profileIn() };
    const d = defs();
    for (let i = 0; i < 50; i++) {
      const r = run(d, [ev('purchase', NOW - (i % 3) * DAY, { amount: 1, currency: 'EUR' })], state);
      state = { profile: r.profile, aggregates: r.aggregates };
    }
    expect(state.profile.workspaces['1']!.calculated_attributes['purchases_week']!.value).toBe('50');
    expect(state.aggregates!.workspaces['1']!.defs['purchases_week']!.buckets).toHaveLength(3);
    expect(state.aggregates!.workspaces['1']!.defs['spend']!.buckets).toHaveLength(1);
  });

  it('a changed definition is recomputed from the retained events, with its new version visible', () => {
    const events = [ev('purchase', NOW - 10 * DAY), ev('purchase', NOW - 3 * DAY), ev('purchase', NOW)];
    const before = run(defs(calcYaml(7)), events, { profile: profileIn() });
    expect(value(before, 'purchases_week')).toBe('2');
    const v1 = before.profile.workspaces['1']!.calculated_attributes['purchases_week']!.definition_version;
    const after = refreshUser({ profile: before.profile, aggregates: before.aggregates, definitions: defs(calcYaml(30)), nowMs: NOW });
    expect(value(after, 'purchases_week')).toBe('3');
    expect(after.profile.workspaces['1']!.calculated_attributes['purchases_week']!.definition_version).not.toBe(v1);
    // Unchanged definitions keep their version and value.
    expect(after.profile.workspaces['1']!.calculated_attributes['spend']).toEqual(before.profile.workspaces['1']!.calculated_attributes['spend']);
  });

  it('a seed counts what happened before its cutoff; live events count only from the cutoff on', () => {
    const d = defs();
    const cutoff = NOW - 2 * DAY;
    const first = run(d, [ev('purchase', NOW - 5 * DAY, { amount: 7, currency: 'EUR' }), ev('purchase', NOW - DAY, { amount: 3, currency: 'EUR' })], { profile: profileIn() });
    const seeded = applySeedToUser(first.aggregates, d.calculated, { name: 'spend', workspace: '1', cutoff_ms: cutoff, sum: 100, count: 4 }, NOW);
    const r = refreshUser({ profile: first.profile, aggregates: seeded, definitions: d, nowMs: NOW });
    // 100 from the seed, 3 from the live event after the cutoff; the 7 before it is the seed's.
    expect(value(r, 'spend')).toBe('103');
    const more = run(d, [ev('purchase', cutoff - 1, { amount: 1000, currency: 'EUR' }), ev('purchase', NOW, { amount: 1, currency: 'EUR' })], { profile: r.profile, aggregates: r.aggregates });
    expect(value(more, 'spend')).toBe('104');
    // A changed definition drops the seed and recomputes from retained events.
    const changed = defs(calcYaml().replace('value: eur }]', 'value: EUR }, { attribute: amount, operator: exists }]'));
    const dropped = refreshUser({ profile: more.profile, aggregates: more.aggregates, definitions: changed, nowMs: NOW });
    expect(value(dropped, 'spend')).toBe('1011');
  });
});

const audiencesYaml = `
audiences:
  - id: buyers
    name: Recent buyers
    workspace: "1"
    criteria:
      event: { name: purchase }
      at_least: 2
      within_days: 3
  - id: vip
    name: VIPs
    workspace: "1"
    criteria:
      all:
        - member_of: buyers
        - any:
            - user_attribute: tier
              operator: in
              values: [gold, platinum]
            - calculated_attribute: spend
              operator: greater_than
              value: 100
        - not: { ccpa_data_sale_opted_out: true }
  - id: lapsed
    name: Known but not buying
    workspace: "1"
    criteria:
      all:
        - identity_exists: email
        - not: { member_of: buyers }
        - first_seen_before: 2025-06-01
`;

describe('audiences on a user', () => {
  const d = defs(calcYaml(), audiencesYaml);
  const withEmail = (p: ProfileState): ProfileState => ({ ...p, user_identities: dict([['email', { value: 'a@b.c', updated_ms: 0, source: 'web', batch_id: null }]]) });

  it('adds and deletes memberships as criteria change, one change message per workspace', () => {
    const start = run(d, [ev('purchase', NOW, { amount: 50, currency: 'EUR' })], { profile: withEmail(profileIn()) });
    expect(Object.keys(start.profile.audience_memberships)).toEqual(['lapsed']);
    expect(start.changes).toHaveLength(1);
    expect(start.changes[0]!.audiences).toEqual([{ audience_id: 'lapsed', audience_name: 'Known but not buying', action: 'add' }]);
    expect(start.changes[0]!.user_identities).toEqual([{ type: 'email', value: 'a@b.c' }]);

    const second = run(d, [ev('purchase', NOW, { amount: 60, currency: 'EUR' })], { profile: start.profile, aggregates: start.aggregates });
    expect(Object.keys(second.profile.audience_memberships).sort()).toEqual(['buyers', 'vip']);
    expect(second.changes[0]!.audiences.map((a) => `${a.action}:${a.audience_id}`)).toEqual(['add:buyers', 'delete:lapsed', 'add:vip']);
    expect(second.profile.audience_memberships['buyers']!.added_ms).toBe(NOW);

    // Nothing new: no change message.
    const same = run(d, [ev('view', NOW)], { profile: second.profile, aggregates: second.aggregates });
    expect(same.changes).toEqual([]);
    expect(same.profile.audience_memberships).toBe(second.profile.audience_memberships);

    // Time alone: the purchases leave the 3-day window, so buyers and vip end, lapsed comes back.
    const later = refreshUser({ profile: same.profile, aggregates: same.aggregates, definitions: d, nowMs: same.nextChangeAtMs! });
    expect(later.changes[0]!.audiences.map((a) => `${a.action}:${a.audience_id}`)).toEqual(['delete:buyers', 'add:lapsed', 'delete:vip']);
  });

  it('at most and exactly count zero events, and a user not seen in the workspace is in none of its audiences', () => {
    const zero = defs(calcYaml(), `
audiences:
  - { id: none, name: None, workspace: "1", criteria: { event: { name: purchase }, at_most: 0, within_days: 30 } }
  - { id: one, name: One, workspace: "1", criteria: { event: { name: purchase }, exactly: 1 } }
  - { id: other, name: Other, workspace: "2", criteria: { not: { identity_exists: email } } }
`);
    const r = run(zero, [ev('view', NOW)], { profile: profileIn() });
    expect(Object.keys(r.profile.audience_memberships)).toEqual(['none']);
    const r2 = run(zero, [ev('purchase', NOW)], { profile: r.profile, aggregates: r.aggregates });
    expect(Object.keys(r2.profile.audience_memberships)).toEqual(['one']);
  });

  it('consent conditions read the workspace consent, case-insensitively', () => {
    const consentDefs = defs('calculated_attributes: []', `
audiences:
  - { id: m, name: Marketing, workspace: "1", criteria: { gdpr_consented: marketing } }
  - { id: c, name: CCPA out, workspace: "1", criteria: { ccpa_data_sale_opted_out: true } }
`);
    const p = profileIn();
    const decision = (consented: boolean) => ({ consented, document: null, timestamp_unixtime_ms: 0, location: null, hardware_id: null });
    const ws = { ...emptyWorkspace(), consent_state: { gdpr: dict([['Marketing', decision(true)]]), ccpa: { data_sale_opt_out: decision(true) } } };
    const r = run(consentDefs, [], { profile: { ...p, workspaces: dict([['1', ws]]) } });
    expect(Object.keys(r.profile.audience_memberships).sort()).toEqual(['c', 'm']);
  });
});
