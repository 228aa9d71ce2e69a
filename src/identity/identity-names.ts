import { DEVICE_IDENTITY_TYPES, IDENTITY_TYPES, type DeviceIdentityType, type IdentityType } from '../schema/batch.ts';

/**
 * mParticle spells identity types differently in its Events API JSON (`customerid`, `other_id_2`), its
 * IDSync API (`customerid`, `other2`, `ios_idfa`, `android_aaid`) and its Profile API (`customer_id`);
 * profile-stream's schema has one name per type. This module maps every spelling to the schema's name
 * and back to IDSync's. An unknown name is never dropped: callers turn `undefined` into a 400 with a path.
 */

/** Identity types that resolve users: the user identities of the schema, and the device identities of `device_info`. */
export type ResolvableIdentityType = IdentityType | DeviceIdentityType | 'device_application_stamp';

export const DEVICE_RESOLUTION_TYPES: readonly (DeviceIdentityType | 'device_application_stamp')[] = [...DEVICE_IDENTITY_TYPES, 'device_application_stamp'];
export const RESOLVABLE_IDENTITY_TYPES: readonly ResolvableIdentityType[] = [...IDENTITY_TYPES, ...DEVICE_RESOLUTION_TYPES];

/** The name mParticle's IDSync API uses for each type (`known_identities`, `matched_identities`). */
const IDSYNC_NAME: { readonly [T in ResolvableIdentityType]: string } = {
  customer_id: 'customerid',
  email: 'email',
  other: 'other',
  other_id_2: 'other2',
  other_id_3: 'other3',
  other_id_4: 'other4',
  other_id_5: 'other5',
  other_id_6: 'other6',
  other_id_7: 'other7',
  other_id_8: 'other8',
  other_id_9: 'other9',
  other_id_10: 'other10',
  mobile_number: 'mobile_number',
  phone_number_2: 'phone_number_2',
  phone_number_3: 'phone_number_3',
  facebook: 'facebook',
  facebook_custom_audience_id: 'facebookcustomaudienceid',
  google: 'google',
  twitter: 'twitter',
  microsoft: 'microsoft',
  yahoo: 'yahoo',
  alias: 'alias',
  ios_advertising_id: 'ios_idfa',
  ios_idfv: 'ios_idfv',
  android_advertising_id: 'android_aaid',
  android_uuid: 'android_uuid',
  push_token: 'push_token',
  roku_advertising_id: 'roku_aid',
  roku_publisher_id: 'roku_publisher_id',
  microsoft_advertising_id: 'microsoft_aid',
  microsoft_publisher_id: 'microsoft_publisher_id',
  fire_advertising_id: 'fire_aid',
  amp_id: 'amp_id',
  device_application_stamp: 'device_application_stamp',
};

/** Every accepted spelling → the schema's name: the schema's own names and IDSync's. */
const BY_NAME: ReadonlyMap<string, ResolvableIdentityType> = (() => {
  const map = new Map<string, ResolvableIdentityType>();
  for (const type of RESOLVABLE_IDENTITY_TYPES) {
    map.set(type, type);
    map.set(IDSYNC_NAME[type], type);
  }
  return map;
})();

const USER_TYPES: ReadonlySet<string> = new Set(IDENTITY_TYPES);

/** The schema's name for any spelling of an identity type, or undefined when it is no identity type. */
export function canonicalIdentityType(name: string): ResolvableIdentityType | undefined {
  return BY_NAME.get(name);
}

/** The schema's name for a spelling of a user identity type (not a device identity), or undefined. */
export function canonicalUserIdentityType(name: string): IdentityType | undefined {
  const type = BY_NAME.get(name);
  return type !== undefined && USER_TYPES.has(type) ? (type as IdentityType) : undefined;
}

export function isUserIdentityType(type: string): type is IdentityType {
  return USER_TYPES.has(type);
}

/** The name mParticle's IDSync API answers with. */
export function idsyncName(type: ResolvableIdentityType): string {
  return IDSYNC_NAME[type];
}

/** The accepted spellings, for error messages: schema names first. */
export function knownIdentityNames(kind: 'user' | 'all'): string {
  const types = kind === 'user' ? IDENTITY_TYPES : RESOLVABLE_IDENTITY_TYPES;
  return types.map((t) => (IDSYNC_NAME[t] === t ? t : `${t} (${IDSYNC_NAME[t]})`)).join(', ');
}
