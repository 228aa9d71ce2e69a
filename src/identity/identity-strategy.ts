import { DEVICE_IDENTITY_TYPES, IDENTITY_TYPES, type Batch } from '../schema/batch.ts';
import { DEVICE_RESOLUTION_TYPES, type ResolvableIdentityType } from './identity-names.ts';

/**
 * What `topology/identity.yaml` declares: how a batch without an MPID finds its user (mParticle's
 * identity strategy). Pure values; the file is read and validated by `src/config/identity-strategy-config.ts`.
 */
export interface IdentityStrategy {
  /**
   * Login ids: one value belongs to at most one user, and a user with one of them is "known". A batch
   * whose unique identities point at two users is a conflict (see `onConflict`); an anonymous user who
   * logs in with a new unique id is converted (keeps its MPID), as mParticle's default strategy does.
   */
  readonly uniqueTypes: ReadonlySet<ResolvableIdentityType>;
  /** Every resolvable type, highest priority first: the first matching identity decides the user. */
  readonly priority: readonly ResolvableIdentityType[];
  /**
   * Unique identities of one batch pointing at two users: `dead_letter` sends the batch to the dead-letter
   * topic naming both MPIDs; `drop_identity` merges it into the higher-priority user without the
   * conflicting identity (logged with both MPIDs). Neither merges the two users.
   */
  readonly onConflict: 'dead_letter' | 'drop_identity';
}

/** mParticle's default hierarchy: customer id, email, other ids, social ids, phone numbers, then device ids. */
export const DEFAULT_PRIORITY: readonly ResolvableIdentityType[] = [
  'customer_id',
  'email',
  ...IDENTITY_TYPES.filter((t) => t === 'other' || t.startsWith('other_id_')),
  'facebook',
  'facebook_custom_audience_id',
  'google',
  'twitter',
  'microsoft',
  'yahoo',
  'alias',
  'mobile_number',
  'phone_number_2',
  'phone_number_3',
  'ios_advertising_id',
  'ios_idfv',
  'android_advertising_id',
  'android_uuid',
  ...DEVICE_IDENTITY_TYPES.filter((t) => !['ios_advertising_id', 'ios_idfv', 'android_advertising_id', 'android_uuid', 'amp_id'].includes(t)),
  'amp_id',
  'device_application_stamp',
];

export const DEFAULT_IDENTITY_STRATEGY: IdentityStrategy = {
  uniqueTypes: new Set(['customer_id']),
  priority: DEFAULT_PRIORITY,
  onConflict: 'dead_letter',
};

/** Listed types first, in their order; the rest keep the default order after them. */
export function completePriority(listed: readonly ResolvableIdentityType[]): ResolvableIdentityType[] {
  const seen = new Set(listed);
  return [...listed, ...DEFAULT_PRIORITY.filter((t) => !seen.has(t))];
}

/** One identity of a batch or request, with its key in the identity index and its place in the priority. */
export interface IdentityRef {
  readonly type: ResolvableIdentityType;
  readonly value: string;
  /** `type:value`, the identity index's key (and the partition key of resolution). */
  readonly key: string;
  /** 0 is the highest priority. */
  readonly rank: number;
  readonly unique: boolean;
}

export function identityRef(strategy: IdentityStrategy, type: ResolvableIdentityType, value: string): IdentityRef {
  return { type, value, key: `${type}:${value}`, rank: strategy.priority.indexOf(type), unique: strategy.uniqueTypes.has(type) };
}

/** Sorted highest priority first. */
export function byPriority(refs: readonly IdentityRef[]): IdentityRef[] {
  return [...refs].sort((a, b) => a.rank - b.rank);
}

/**
 * The identities a batch can be resolved by, highest priority first: its `user_identities` and the
 * device identities of its `device_info` (with the device application stamp).
 */
export function batchIdentities(batch: Batch, strategy: IdentityStrategy): IdentityRef[] {
  const refs: IdentityRef[] = [];
  for (const type of IDENTITY_TYPES) {
    const value = batch.user_identities[type];
    if (value !== null && value !== undefined) refs.push(identityRef(strategy, type, value));
  }
  const device = batch.device_info;
  if (device) {
    for (const type of DEVICE_RESOLUTION_TYPES) {
      const value = device[type];
      if (value !== null && value !== undefined) refs.push(identityRef(strategy, type, value));
    }
  }
  return byPriority(refs);
}
