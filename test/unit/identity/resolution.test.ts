import { describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY_STRATEGY, byPriority, identityRef, type IdentityStrategy } from '../../../src/identity/identity-strategy.ts';
import { decide, linksNeeded, needsResolution, visitOrder, type Claim } from '../../../src/identity/resolution.ts';
import type { ResolvableIdentityType } from '../../../src/identity/identity-names.ts';

const S = DEFAULT_IDENTITY_STRATEGY;
const refs = (ids: Record<string, string>, strategy: IdentityStrategy = S) => byPriority(Object.entries(ids).map(([t, v]) => identityRef(strategy, t as ResolvableIdentityType, v)));
const claims = (entries: Record<string, Claim>) => new Map(Object.entries(entries));

describe('identity resolution rules', () => {
  it('visits lower-priority identities first and decides at the highest-priority one', () => {
    expect(visitOrder(refs({ ios_idfv: 'd', email: 'e', customer_id: 'c' }))).toEqual(['ios_idfv:d', 'email:e', 'customer_id:c']);
  });

  it('mints when nothing matches; the user is known when the batch brings a login id', () => {
    expect(decide(refs({ email: 'e' }), claims({}), S, 'batch')).toEqual({ kind: 'mint', known: false, moves: [], dropped: [] });
    expect(decide(refs({ customer_id: 'c' }), claims({}), S, 'batch')).toMatchObject({ kind: 'mint', known: true });
  });

  it('a claimed customer id decides; a non-unique identity of another user moves to it', () => {
    const d = decide(refs({ customer_id: 'c', email: 'e' }), claims({ 'customer_id:c': { mpid: '1', known: true }, 'email:e': { mpid: '2', known: true } }), S, 'batch');
    expect(d).toEqual({ kind: 'resolved', mpid: '1', how: 'matched', via: 'customer_id:c', known: true, moves: [{ key: 'email:e', from: '2' }], dropped: [] });
  });

  it('converts an anonymous match for a new login id, and mints instead when the match is known', () => {
    const r = refs({ customer_id: 'new', ios_idfv: 'd' });
    expect(decide(r, claims({ 'ios_idfv:d': { mpid: '5', known: false } }), S, 'login')).toMatchObject({ kind: 'resolved', mpid: '5', how: 'converted', known: true });
    expect(decide(r, claims({ 'ios_idfv:d': { mpid: '5', known: true } }), S, 'login')).toEqual({ kind: 'mint', known: true, moves: [{ key: 'ios_idfv:d', from: '5' }], dropped: [] });
  });

  it('two users\' unique identities: a conflict naming both, or the lower one dropped', () => {
    const two: IdentityStrategy = { ...S, uniqueTypes: new Set(['customer_id', 'email']) };
    const r = refs({ customer_id: 'c', email: 'e' }, two);
    const found = claims({ 'customer_id:c': { mpid: '1', known: true }, 'email:e': { mpid: '2', known: true } });
    expect(decide(r, found, two, 'batch')).toEqual({ kind: 'conflict', identity: 'email:e', mpids: ['1', '2'] });
    expect(decide(r, found, { ...two, onConflict: 'drop_identity' }, 'batch')).toMatchObject({ kind: 'resolved', mpid: '1', dropped: [{ key: 'email:e', from: '2' }], moves: [] });
  });

  it('logout always mints, and moves the device away from the known user', () => {
    expect(decide(refs({ ios_idfv: 'd' }), claims({ 'ios_idfv:d': { mpid: '9', known: true } }), S, 'logout')).toEqual({ kind: 'mint', known: false, moves: [{ key: 'ios_idfv:d', from: '9' }], dropped: [] });
  });

  it('links what is not yet the user\'s, and never downgrades a known claim', () => {
    const r = refs({ customer_id: 'c', email: 'e', ios_idfv: 'd' });
    const found = claims({ 'customer_id:c': { mpid: '1', known: true }, 'email:e': { mpid: '1', known: false }, 'ios_idfv:d': { mpid: '1', known: true } });
    expect(linksNeeded(r, found, '1', true, [])).toEqual(['email:e']);
    expect(linksNeeded(r, found, '1', false, [])).toEqual([]);
    expect(linksNeeded(r, claims({}), '1', true, [{ key: 'email:e', from: '2' }])).toEqual(['customer_id:c', 'ios_idfv:d']);
  });

  it('resolves batches without MPID unless their key is a signed 64-bit MPID', () => {
    expect(needsResolution(null, null)).toBe(true);
    expect(needsResolution(null, 'email:a@b')).toBe(true);
    expect(needsResolution(null, '-9223372036854775808')).toBe(false);
    expect(needsResolution(null, '9223372036854775808')).toBe(true);
    expect(needsResolution('42', null)).toBe(false);
  });
});
