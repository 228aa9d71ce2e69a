import { NAMESPACE, arrayOf, attributeValue, int64String, mapOf, optional, record, required, withDefault } from './avro-fields.ts';
import { batchSchema, consentStateSchema, deviceInfoSchema } from './batch-schema.ts';
import { dedupeNamedTypes } from './named-types.ts';

/**
 * The enriched output batch (schemas/enriched-batch.avsc): the input batch unchanged, plus the
 * profile after the merge, filtered for one integration. TypeScript shape: `../enriched-batch.ts`.
 */

const enrichedProfileSchema = record('EnrichedProfile', 'The user\'s complete, current profile after this batch was merged, filtered for the integration.', [
  required('mpid', int64String, 'The user (decimal string in profile-stream).'),
  required('created_timestamp_ms', 'long', 'First event time seen for the user (epoch ms).'),
  required('last_seen_timestamp_ms', 'long', 'Latest event time seen for the user (epoch ms).'),
  withDefault('is_opted_out', 'boolean', false, 'Opted out of tracking.'),
  withDefault('limit_ad_tracking', 'boolean', false, 'Limit ad tracking.'),
  withDefault('user_attributes', mapOf(record('EnrichedAttribute', 'An attribute with its provenance.', [
    withDefault('value', attributeValue, null, 'Attribute value.'),
    required('updated_ms', 'long', 'Event time it was set (epoch ms).'),
    required('source', 'string', 'Input source that set it.'),
  ])), {}, 'All user attributes of the workspace (not only those of this batch).'),
  withDefault('user_identities', mapOf(record('EnrichedIdentity', 'An identity with when it was set.', [
    required('value', 'string', 'Identity value.'),
    required('updated_ms', 'long', 'Event time it was set (epoch ms).'),
  ])), {}, 'All user identities: type -> value.'),
  withDefault('consent_state', consentStateSchema, { gdpr: {}, ccpa: { data_sale_opt_out: null } }, 'Current consent of the workspace.'),
  optional('device_info', deviceInfoSchema, 'The device of this batch, as the profile knows it.'),
  withDefault('audience_memberships', arrayOf(record('AudienceMembership', 'Membership in one audience.', [
    required('audience_id', 'string', 'Audience id from topology/.'),
    optional('audience_name', 'string', 'Audience name.'),
    required('added_ms', 'long', 'When the user joined (epoch ms).'),
    optional('expiration_ms', 'long', 'When membership lapses unless renewed (epoch ms).'),
  ])), [], 'Audiences the user is in.'),
  withDefault('calculated_attributes', mapOf(record('EnrichedCalculatedAttribute', 'A calculated attribute value.', [
    withDefault('value', attributeValue, null, 'Current value.'),
    required('updated_ms', 'long', 'When it was computed (epoch ms).'),
  ])), {}, 'Calculated attribute name -> value.'),
]);

export const enrichedBatchSchema = dedupeNamedTypes(record('EnrichedBatch', 'An input batch enriched with the user\'s profile, for one integration.', [
  required('batch', batchSchema, 'The input batch as received (events filtered for the integration).'),
  required('integration', 'string', 'Integration this record was filtered for.'),
  required('processed_timestamp_ms', 'long', 'Wall-clock time the batch was processed (epoch ms).'),
  required('profile', enrichedProfileSchema, 'The profile after the merge.'),
]));

export const ENRICHED_BATCH_NAME = `${NAMESPACE}.EnrichedBatch`;
