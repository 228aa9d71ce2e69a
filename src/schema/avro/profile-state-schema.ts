import {
  arrayOf, attributeValue, int64String, mapOf, optional, record, required, withDefault,
} from './avro-fields.ts';
import { dedupeNamedTypes } from './named-types.ts';
import { consentStateSchema, deviceInfoSchema } from './batch-schema.ts';

/**
 * The `profiles` store value (schemas/profile-state.avsc), and the parts the enriched batch and the
 * history record reuse. TypeScript shape: `ProfileState` in `../profile-state.ts`.
 */

/** Provenance every last-write-wins value carries: event time first, then source, then batch id. */
const provenance = () => [
  required('updated_ms', 'long', 'Event time of the write (epoch ms); the newest write wins.'),
  required('source', 'string', 'Input source of the winning write; first tie-break.'),
  optional('batch_id', 'string', 'Batch id of the winning write; second tie-break.'),
];

export const identityStateSchema = record('IdentityState', 'A user identity with its provenance.', [
  optional('value', 'string', 'Identity value; null is a removal kept so a late older set does not bring it back.'),
  ...provenance(),
]);

export const attributeStateSchema = record('AttributeState', 'A user attribute with its provenance.', [
  withDefault('value', attributeValue, null, 'Attribute value.'),
  ...provenance(),
]);

const attributeTombstoneSchema = record('AttributeTombstone', 'A removed user attribute.', [
  required('deleted_ms', 'long', 'Event time of the removal (epoch ms); a later set brings the attribute back.'),
  required('source', 'string', 'Input source of the removal; tie-break.'),
  optional('batch_id', 'string', 'Batch id of the removal; tie-break.'),
]);

export const calculatedAttributeStateSchema = record('CalculatedAttributeState', 'A calculated attribute value.', [
  withDefault('value', attributeValue, null, 'Current value.'),
  required('updated_ms', 'long', 'When it was last computed (epoch ms).'),
  withDefault('definition_version', 'int', 0, 'Version of the definition the value was computed with.'),
]);

const deviceStateSchema = record('DeviceState', 'One device (app install) of the user.', [
  required('device_info', deviceInfoSchema, 'Latest device info seen for this install.'),
  withDefault('device_identities', mapOf('string'), {}, 'Device identity type -> value (ios_advertising_id, ...).'),
  required('first_seen_ms', 'long', 'First event time seen from this device (epoch ms).'),
  required('last_seen_ms', 'long', 'Latest event time seen from this device (epoch ms).'),
  optional('att_status', 'dev.profilestream.AttAuthorizationStatus', 'Apple ATT status, latest by its timestamp.'),
  optional('att_updated_ms', 'long', 'When att_status was set (epoch ms).'),
  optional('install_attribution', record('InstallAttribution', 'How the app install was attributed.', [
    optional('install_referrer', 'string', 'Install referrer string.'),
    optional('publisher', 'string', 'Attribution publisher / network.'),
    optional('campaign', 'string', 'Attribution campaign.'),
    optional('attributed_ms', 'long', 'When the attribution was recorded (epoch ms).'),
  ]), 'Install attribution, first one kept.'),
]);

const workspaceProfileSchema = record('WorkspaceProfile', 'The part of a profile kept per workspace.', [
  withDefault('user_attributes', mapOf(attributeStateSchema), {}, 'Attribute name -> value with provenance.'),
  withDefault('attribute_tombstones', mapOf(attributeTombstoneSchema), {}, 'Attribute name -> removal.'),
  withDefault('consent_state', consentStateSchema, { gdpr: {}, ccpa: { data_sale_opt_out: null } }, 'Consent; each purpose keeps its own timestamp.'),
  withDefault('devices', mapOf(deviceStateSchema), {}, 'Device application stamp -> device.'),
  withDefault('calculated_attributes', mapOf(calculatedAttributeStateSchema), {}, 'Calculated attribute name -> value.'),
]);

export const audienceMembershipStateSchema = record('AudienceMembershipState', 'Membership in one audience.', [
  optional('audience_name', 'string', 'Audience name when the user joined.'),
  required('added_ms', 'long', 'When the user joined (epoch ms).'),
  optional('expiration_ms', 'long', 'When membership lapses unless renewed (epoch ms); null = no expiry.'),
]);

const profileStateFields = () => [
  required('mpid', int64String, 'The user (signed 64-bit; decimal string in profile-stream).'),
  required('created_timestamp_ms', 'long', 'First event time seen for the user (epoch ms).'),
  required('last_seen_timestamp_ms', 'long', 'Latest event time seen for the user (epoch ms).'),
  withDefault('is_opted_out', 'boolean', false, 'Opted out of tracking (latest opt_out event).'),
  optional('opt_out_updated_ms', 'long', 'Event time of the opt-out state (epoch ms).'),
  withDefault('limit_ad_tracking', 'boolean', false, 'Limit ad tracking, from the latest device info.'),
  withDefault('user_identities', mapOf(identityStateSchema), {}, 'Identity type -> value with provenance (per user).'),
  withDefault('workspaces', mapOf(workspaceProfileSchema), {}, 'Workspace id -> that workspace\'s part of the profile.'),
  withDefault('audience_memberships', mapOf(audienceMembershipStateSchema), {}, 'Audience id -> membership (per user).'),
];

export const profileStateSchema = dedupeNamedTypes(record('ProfileState', 'A user profile as kept in the profiles store.', profileStateFields()));

/**
 * The first stored form, which carried the replay-dedup list inside every profile. Kept only to read
 * values written before the list moved to the `batch-dedup` store: stores and their changelogs (and
 * history records) written by older versions are decoded with this as the writer schema and resolved
 * to `profileStateSchema`, which drops `recent_batches` (Avro schema resolution ignores writer fields
 * the reader lacks). Never written.
 */
export const profileStateSchemaV1 = dedupeNamedTypes(record('ProfileState', 'A user profile as kept in the profiles store.', [
  ...profileStateFields(),
  withDefault('recent_batches', arrayOf(record('RecentBatch', 'A batch recently merged, for replay dedup.', [
    required('batch_id', 'string', 'Batch id (source_request_id).'),
    required('seen_ms', 'long', 'When the batch was merged (epoch ms); ids older than the dedup window are dropped.'),
  ])), [], 'Recently merged batch ids, oldest first.'),
]));
