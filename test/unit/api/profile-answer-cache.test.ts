import { describe, expect, it } from 'vitest';
import { ANSWERS_PER_PROFILE, ProfileAnswerCache } from '../../../src/api/profile-answer-cache.ts';
import { PROFILE_FIELDS, toProfileResponse, type ProfileField } from '../../../src/api/profile-response.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { independentProfile } from '../../support/independent-profile-reference.ts';
import { attrs, batch, identities, T0 } from '../profiles/support/batches.ts';

const mpid = '8000000000000000001';
const first = batch({ id: 'b1', mpid, workspace_id: 'ws1', user_identities: identities({ customer_id: 'c-1', email: 'a@example.com' }), user_attributes: attrs({ plan: 'basic', age: 42, tags: ['a', 'b'], ['__proto__']: 'plain', '7': 'numeric name' }) });
const other = batch({ id: 'b2', mpid, workspace_id: 'ws2', user_attributes: attrs({ plan: 'gold', only_ws2: 'y' }) });
const profile: ProfileState = independentProfile([first, other])!;
const uncached = (p: ProfileState, ws: string, fields: ReadonlySet<ProfileField>): string => JSON.stringify(toProfileResponse(p, ws, fields));

/** Every non-empty subset of the fields, in a fixed order. */
const subsets: Array<Set<ProfileField>> = [...Array(2 ** PROFILE_FIELDS.length - 1).keys()].map((i) => new Set(PROFILE_FIELDS.filter((_, bit) => ((i + 1) >> bit) & 1)));

describe('ProfileAnswerCache', () => {
  it('writes the same bytes as toProfileResponse + JSON.stringify, first and repeated, for every field set and workspace', () => {
    const cache = new ProfileAnswerCache();
    for (const ws of ['ws1', 'ws2', 'ws-none']) {
      for (const fields of subsets) {
        const expected = uncached(profile, ws, fields);
        expect(cache.answer(profile, ws, fields)).toBe(expected);
        expect(cache.answer(profile, ws, fields)).toBe(expected);
      }
    }
  });

  it('reuses the written answer for the same profile object (which the profile domain never modifies)', () => {
    const cache = new ProfileAnswerCache();
    const copy = structuredClone(profile);
    const fields = new Set<ProfileField>(['user_attributes']);
    const before = cache.answer(copy, 'ws1', fields);
    // Only to show the answer is kept per object: a stored profile is never edited (see the cache's comment).
    copy.workspaces['ws1']!.user_attributes['plan']!.value = 'edited in place';
    expect(cache.answer(copy, 'ws1', fields)).toBe(before);
    expect(uncached(copy, 'ws1', fields)).not.toBe(before);
  });

  it('answers a new profile object (after a merge) with its own answer, never the previous one', () => {
    const cache = new ProfileAnswerCache();
    const fields = new Set<ProfileField>(['user_identities', 'user_attributes']);
    const before = cache.answer(profile, 'ws1', fields);
    const merged = mergeBatch(profile, batch({ id: 'b3', mpid, workspace_id: 'ws1', timestamp_unixtime_ms: T0 + 60_000, user_attributes: attrs({ plan: 'platinum' }) })).profile;
    expect(merged).not.toBe(profile);
    const after = cache.answer(merged, 'ws1', fields);
    expect(after).toBe(uncached(merged, 'ws1', fields));
    expect(after).not.toBe(before);
    expect(JSON.parse(after).user_attributes.plan).toBe('platinum');
    // The old object keeps its own answer.
    expect(cache.answer(profile, 'ws1', fields)).toBe(before);
  });

  it('keeps fields and workspaces apart, whatever order the fields were asked in', () => {
    const cache = new ProfileAnswerCache();
    const ids = cache.answer(profile, 'ws1', new Set<ProfileField>(['user_identities']));
    const attributes = cache.answer(profile, 'ws1', new Set<ProfileField>(['user_attributes']));
    const attributesWs2 = cache.answer(profile, 'ws2', new Set<ProfileField>(['user_attributes']));
    expect(new Set([ids, attributes, attributesWs2]).size).toBe(3);
    expect(JSON.parse(attributesWs2).user_attributes.plan).toBe('gold');
    expect(JSON.parse(attributes).user_attributes.plan).toBe('basic');
    const both = cache.answer(profile, 'ws1', new Set<ProfileField>(['user_attributes', 'user_identities']));
    expect(cache.answer(profile, 'ws1', new Set<ProfileField>(['user_identities', 'user_attributes']))).toBe(both);
    expect(both).toBe(uncached(profile, 'ws1', new Set<ProfileField>(['user_identities', 'user_attributes'])));
  });

  it(`keeps at most ${ANSWERS_PER_PROFILE} answers per profile, dropping the oldest, and still answers right beyond`, () => {
    const cache = new ProfileAnswerCache();
    for (const fields of subsets) {
      expect(cache.answer(profile, 'ws1', fields)).toBe(uncached(profile, 'ws1', fields));
      expect(cache.heldFor(profile)).toBeLessThanOrEqual(ANSWERS_PER_PROFILE);
    }
    expect(cache.heldFor(profile)).toBe(ANSWERS_PER_PROFILE);
    // On a fresh object: nine field sets asked, so the first was dropped and the other eight are held.
    const copy = structuredClone(profile);
    const before = subsets.slice(0, ANSWERS_PER_PROFILE + 1).map((fields) => cache.answer(copy, 'ws1', fields));
    expect(cache.heldFor(copy)).toBe(ANSWERS_PER_PROFILE);
    // Only to tell a written-again answer from a held one: a stored profile is never edited.
    copy.user_identities['email']!.value = 'edited@example.com';
    // subsets[0] is { user_identities }: dropped, so written again from the object as it is now.
    expect(cache.answer(copy, 'ws1', subsets[0]!)).toBe(uncached(copy, 'ws1', subsets[0]!));
    expect(cache.answer(copy, 'ws1', subsets[0]!)).not.toBe(before[0]);
    // subsets[2] is { user_identities, device_identities }: still held.
    expect(cache.answer(copy, 'ws1', subsets[2]!)).toBe(before[2]);
    expect(cache.heldFor(copy)).toBe(ANSWERS_PER_PROFILE);
  });
});
