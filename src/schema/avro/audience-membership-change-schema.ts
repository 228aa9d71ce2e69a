import { arrayOf, enumOf, int64String, optional, record, required } from './avro-fields.ts';

/** mParticle's audience membership change message (schemas/audience-membership-change.avsc). */
const typedValue = (name: string, doc: string) => record(name, doc, [
  required('type', 'string', 'Identity type (customer_id, email, ios_advertising_id, ...).'),
  required('value', 'string', 'Identity value.'),
]);

export const audienceMembershipChangeSchema = record('AudienceMembershipChange', 'Audiences a user joined or left.', [
  required('mpid', int64String, 'The user (decimal string in profile-stream).'),
  optional('workspace_id', 'string', 'Workspace whose audiences changed; null for user-level audiences.'),
  { name: 'user_identities', type: arrayOf(typedValue('UserIdentity', 'A user identity.')), default: [], doc: 'The user\'s identities, for matching downstream.' },
  { name: 'device_identities', type: arrayOf(typedValue('DeviceIdentity', 'A device identity.')), default: [], doc: 'The user\'s device identities.' },
  required('audiences', arrayOf(record('AudienceChange', 'One audience joined or left.', [
    required('audience_id', 'string', 'Audience id from topology/.'),
    optional('audience_name', 'string', 'Audience name.'),
    required('action', enumOf('AudienceAction', 'add or delete.', ['add', 'delete']), 'add when the user joined, delete when they left.'),
  ])), 'The changes.'),
  required('timestamp_ms', 'long', 'When the change happened (epoch ms).'),
]);
