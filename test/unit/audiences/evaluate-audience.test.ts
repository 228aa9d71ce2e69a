import { describe, expect, it } from 'vitest';
import type { UserAggregates } from '../../../src/audiences/aggregates.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { type AudienceDefinition } from '../../../src/audiences/audience-definition.ts';
import { recompute } from '../../../src/audiences/calculation-state.ts';
import { compileDefinitions } from '../../../src/audiences/definitions.ts';
import { diffMemberships, evaluateAudiences, nextAudienceChangeAt, type AudienceMemberships } from '../../../src/audiences/evaluate-audience.ts';
import type { EventView } from '../../../src/audiences/event-view.ts';
import { dayOf } from '../../../src/audiences/bucket.ts';
import { dict } from '../../../src/shared/dictionary.ts';
import { emptyProfile, emptyWorkspace } from '../../../src/profiles/profile.ts';
import type { ConsentDecision, UserAttributeValue } from '../../../src/schema/batch.ts';
import type { ProfileState, WorkspaceProfile } from '../../../src/schema/profile-state.ts';
import { DAY, NOW, ev } from './support.ts';

const audiences = (yaml: string): AudienceDefinition[] => parseAudiencesConfig(`audiences:\n${yaml}`, 'a.yaml');
const one = (criteria: string): AudienceDefinition[] => audiences(`  - id: x\n    name: X\n    workspace: "1"\n    criteria: ${criteria}\n`);

/** The audiences' event counters folded over the user's events, as the stream processor keeps them. */
function aggregatesFor(defs: readonly AudienceDefinition[], events: EventView[], nowMs = NOW): UserAggregates {
  const tracked = compileDefinitions([], defs).trackedByWorkspace.get('1') ?? [];
  return { workspaces: dict([['1', { defs: dict(tracked.map((t) => [t.key, recompute(t, events, nowMs)])), log: events }]]) };
}

interface UserSpec {
  attributes?: Record<string, UserAttributeValue>;
  calculated?: Record<string, string | string[] | null>;
  email?: string | null;
  gdpr?: Record<string, boolean>;
  ccpaOptOut?: boolean;
  firstSeenMs?: number;
  memberships?: AudienceMemberships;
}

function user(spec: UserSpec = {}): ProfileState {
  const decision = (consented: boolean): ConsentDecision => ({ consented, document: null, timestamp_unixtime_ms: 0, location: null, hardware_id: null });
  const ws: WorkspaceProfile = {
    ...emptyWorkspace(),
    user_attributes: dict(Object.entries(spec.attributes ?? {}).map(([k, value]) => [k, { value, updated_ms: 0, source: 'web', batch_id: null }] as const)) as WorkspaceProfile['user_attributes'],
    calculated_attributes: dict(Object.entries(spec.calculated ?? {}).map(([k, value]) => [k, { value, updated_ms: 0, definition_version: 1 }] as const)),
    consent_state: {
      gdpr: dict(Object.entries(spec.gdpr ?? {}).map(([k, v]) => [k, decision(v)] as const)),
      ccpa: { data_sale_opt_out: spec.ccpaOptOut === undefined ? null : decision(spec.ccpaOptOut) },
    },
  };
  const p = emptyProfile('7', spec.firstSeenMs ?? NOW - 30 * DAY);
  const identities = spec.email === undefined ? dict() : dict([['email', { value: spec.email, updated_ms: 0, source: 'web', batch_id: null }]]);
  return { ...p, user_identities: identities as ProfileState['user_identities'], workspaces: dict([['1', ws]]), audience_memberships: spec.memberships ?? dict() };
}

function isIn(criteria: string, spec: UserSpec = {}, events: EventView[] = [], nowMs = NOW): boolean {
  const defs = one(criteria);
  return 'x' in evaluateAudiences(defs, { profile: user(spec), aggregates: aggregatesFor(defs, events, nowMs), nowMs });
}

describe('audience criteria: each condition', () => {
  const plays = (n: number, at = NOW) => Array.from({ length: n }, () => ev('play', at));

  it('event at least / at most / exactly N times within the last D days', () => {
    const c = (op: string, n: number) => `{ event: { name: Play }, ${op}: ${n}, within_days: 7 }`;
    expect(isIn(c('at_least', 2), {}, plays(2))).toBe(true);
    expect(isIn(c('at_least', 2), {}, plays(1))).toBe(false);
    expect(isIn(c('at_most', 2), {}, plays(2))).toBe(true);
    expect(isIn(c('at_most', 2), {}, plays(3))).toBe(false);
    expect(isIn(c('at_most', 0), {}, [])).toBe(true);
    expect(isIn(c('exactly', 3), {}, plays(3))).toBe(true);
    expect(isIn(c('exactly', 3), {}, plays(4))).toBe(false);
    // An event exactly 7 days old is out of the window.
    expect(isIn(c('at_least', 1), {}, plays(1, NOW - 7 * DAY))).toBe(false);
    expect(isIn(c('at_least', 1), {}, plays(1, NOW - 6 * DAY))).toBe(true);
  });

  it('event conditions read event attributes, and a count defaults to at least once over the lifetime', () => {
    const c = '{ event: { name: purchase, where: [{ attribute: amount, operator: greater_than, value: 10 }] } }';
    expect(isIn(c, {}, [ev('purchase', NOW - 400 * DAY, { amount: 11 })])).toBe(true);
    expect(isIn(c, {}, [ev('purchase', NOW, { amount: 9 })])).toBe(false);
  });

  it('user attribute conditions, case-insensitively', () => {
    expect(isIn('{ user_attribute: tier, operator: equals, value: GOLD }', { attributes: { tier: 'gold' } })).toBe(true);
    expect(isIn('{ user_attribute: tier, operator: exists }', {})).toBe(false);
    expect(isIn('{ user_attribute: age, operator: greater_than_or_equal, value: 18 }', { attributes: { age: 18 } })).toBe(true);
  });

  it('calculated attribute conditions read the value in the profile', () => {
    expect(isIn('{ calculated_attribute: spend, operator: greater_than, value: 100 }', { calculated: { spend: '100.5' } })).toBe(true);
    expect(isIn('{ calculated_attribute: spend, operator: greater_than, value: 100 }', { calculated: { spend: null } })).toBe(false);
    expect(isIn('{ calculated_attribute: genres, operator: equals, value: jazz }', { calculated: { genres: ['Rock', 'Jazz'] } })).toBe(true);
  });

  it('identity exists only with a value', () => {
    expect(isIn('{ identity_exists: email }', { email: 'a@b.c' })).toBe(true);
    expect(isIn('{ identity_exists: email }', { email: null })).toBe(false);
    expect(isIn('{ identity_exists: email }', {})).toBe(false);
  });

  it('GDPR purpose consented (purpose names case-insensitive) and CCPA opt-out', () => {
    expect(isIn('{ gdpr_consented: Marketing }', { gdpr: { marketing: true } })).toBe(true);
    expect(isIn('{ gdpr_consented: marketing }', { gdpr: { Marketing: false } })).toBe(false);
    expect(isIn('{ ccpa_data_sale_opted_out: true }', { ccpaOptOut: true })).toBe(true);
    expect(isIn('{ ccpa_data_sale_opted_out: true }', {})).toBe(false);
    expect(isIn('{ ccpa_data_sale_opted_out: false }', {})).toBe(true);
  });

  it('first seen before a date is strict, first seen after includes the date', () => {
    const june = Date.UTC(2025, 5, 1);
    expect(isIn('{ first_seen_before: 2025-06-01 }', { firstSeenMs: june - 1 })).toBe(true);
    expect(isIn('{ first_seen_before: 2025-06-01 }', { firstSeenMs: june })).toBe(false);
    expect(isIn('{ first_seen_after: 2025-06-01 }', { firstSeenMs: june })).toBe(true);
    expect(isIn('{ first_seen_after: 2025-06-01 }', { firstSeenMs: june - 1 })).toBe(false);
  });
});

describe('audience criteria: and / or / not, and member of', () => {
  const nested = `
      all:
        - any:
            - user_attribute: tier
              operator: in
              values: [gold, platinum]
            - not: { identity_exists: email }
        - not:
            all:
              - gdpr_consented: marketing
              - ccpa_data_sale_opted_out: true`;

  const table: Array<[string, UserSpec, boolean]> = [
    ['gold with email, no consent', { attributes: { tier: 'Gold' }, email: 'a@b.c' }, true],
    ['silver with email', { attributes: { tier: 'silver' }, email: 'a@b.c' }, false],
    ['silver without email', { attributes: { tier: 'silver' } }, true],
    ['gold, consented but not opted out', { attributes: { tier: 'gold' }, gdpr: { marketing: true }, ccpaOptOut: false }, true],
    ['gold, consented and opted out', { attributes: { tier: 'gold' }, gdpr: { marketing: true }, ccpaOptOut: true }, false],
  ];
  for (const [who, spec, expected] of table) {
    it(`nested all / any / not: ${who} is ${expected ? 'in' : 'out'}`, () => {
      expect(isIn(nested, spec)).toBe(expected);
    });
  }

  it('member of reads this evaluation\'s result, in dependency order, whatever the order in the file', () => {
    const defs = audiences(`
  - { id: lapsed, name: Lapsed, workspace: "1", criteria: { all: [{ member_of: known }, { not: { member_of: buyers } }] } }
  - { id: buyers, name: Buyers, workspace: "1", criteria: { event: { name: purchase }, within_days: 3 } }
  - { id: known, name: Known, workspace: "1", criteria: { identity_exists: email } }
`);
    const stale = dict([['buyers', { audience_name: 'Buyers', added_ms: 0, expiration_ms: null }]]);
    const r = evaluateAudiences(defs, { profile: user({ email: 'a@b.c', memberships: stale }), aggregates: aggregatesFor(defs, []), nowMs: NOW });
    expect(Object.keys(r).sort()).toEqual(['known', 'lapsed']);
  });

  it('a user never seen in the audience\'s workspace is in none of its audiences, even under not', () => {
    const defs = audiences('  - { id: y, name: Y, workspace: "2", criteria: { not: { identity_exists: email } } }\n');
    expect(evaluateAudiences(defs, { profile: user(), aggregates: undefined, nowMs: NOW })).toEqual(dict());
  });
});

describe('memberships over time', () => {
  const defs = audiences(`
  - { id: active, name: Active, workspace: "1", criteria: { event: { name: play }, at_least: 2, within_days: 7 } }
  - { id: idle, name: Idle, workspace: "1", criteria: { not: { member_of: active } } }
`);

  it('members keep the time they were added; new members are added now', () => {
    const before = dict([['active', { audience_name: 'Active', added_ms: NOW - DAY, expiration_ms: null }]]);
    const after = evaluateAudiences(defs, { profile: user({ memberships: before }), aggregates: aggregatesFor(defs, [ev('play', NOW), ev('play', NOW)]), nowMs: NOW });
    expect(after['active']!.added_ms).toBe(NOW - DAY);
    const fresh = evaluateAudiences(defs, { profile: user(), aggregates: undefined, nowMs: NOW });
    expect(fresh['idle']).toEqual({ audience_name: 'Idle', added_ms: NOW, expiration_ms: null });
  });

  it('diffMemberships gives adds and deletes sorted by audience id, and deletes audiences no longer defined', () => {
    const m = (name: string) => ({ audience_name: name, added_ms: 0, expiration_ms: null });
    const before = dict([['idle', m('Idle')], ['gone', m('Gone')]]);
    const after = dict([['active', m('Active')]]);
    expect(diffMemberships(before, after)).toEqual([
      { audience_id: 'active', audience_name: 'Active', action: 'add' },
      { audience_id: 'gone', audience_name: 'Gone', action: 'delete' },
      { audience_id: 'idle', audience_name: 'Idle', action: 'delete' },
    ]);
    expect(diffMemberships(after, after)).toEqual([]);
  });

  it('time alone takes a user out of a windowed audience at the time nextAudienceChangeAt gives', () => {
    const events = [ev('play', NOW - 5 * DAY), ev('play', NOW)];
    const aggregates = aggregatesFor(defs, events);
    const now = evaluateAudiences(defs, { profile: user(), aggregates, nowMs: NOW });
    expect(Object.keys(now)).toEqual(['active']);
    const due = nextAudienceChangeAt(defs, aggregates, NOW)!;
    expect(due).toBe((dayOf(NOW - 5 * DAY) + 7) * DAY);
    const justBefore = evaluateAudiences(defs, { profile: user({ memberships: now }), aggregates, nowMs: due - 1 });
    expect(diffMemberships(now, justBefore)).toEqual([]);
    const atDue = evaluateAudiences(defs, { profile: user({ memberships: now }), aggregates, nowMs: due });
    expect(diffMemberships(now, atDue)).toEqual([
      { audience_id: 'active', audience_name: 'Active', action: 'delete' },
      { audience_id: 'idle', audience_name: 'Idle', action: 'add' },
    ]);
    expect(atDue['idle']!.added_ms).toBe(due);
  });

  it('no windowed counter with events means no time-driven change', () => {
    expect(nextAudienceChangeAt(defs, undefined, NOW)).toBeNull();
    expect(nextAudienceChangeAt(defs, aggregatesFor(defs, []), NOW)).toBeNull();
    const lifetime = audiences('  - { id: ever, name: Ever, workspace: "1", criteria: { event: { name: play } } }\n');
    expect(nextAudienceChangeAt(lifetime, aggregatesFor(lifetime, [ev('play', NOW)]), NOW)).toBeNull();
  });
});
