import { optional, record, required } from './avro-fields.ts';
import { batchSchema } from './batch-schema.ts';
import { dedupeNamedTypes } from './named-types.ts';
import { profileStateSchema, profileStateSchemaV1 } from './profile-state-schema.ts';

/** A processed batch with the profile snapshot at processing time (schemas/history-record.avsc). */
const historyRecordOf = (profile: typeof profileStateSchema) => dedupeNamedTypes(record('HistoryRecord', 'One processed batch and the profile right after it, kept long-term.', [
  required('batch', batchSchema, 'The input batch as received.'),
  required('processed_timestamp_ms', 'long', 'Wall-clock time the batch was processed (epoch ms).'),
  optional('profile', profile, 'Profile snapshot after the merge; null for an erasure marker.'),
]));

export const historyRecordSchema = historyRecordOf(profileStateSchema);

/** History records written before the dedup list left the profile; read only (see `profileStateSchemaV1`). */
export const historyRecordSchemaV1 = historyRecordOf(profileStateSchemaV1);
