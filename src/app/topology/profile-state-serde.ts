import { profileStateSchemaV1 } from '../../schema/avro/profile-state-schema.ts';
import { avroTypeFor } from '../../schema/avro-type.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import { SCHEMAS } from '../../schema/schema-catalog.ts';
import type { SyncSerde } from './decode-once.ts';

// One leading byte names the writer schema, so older stored values are read beside new ones (the
// changelog keeps old records until compaction rewrites them, and a state directory may predate us).
// 1: the profile with the replay-dedup list inside (`profileStateSchemaV1`); read only.
// 2: the profile without it (schemas/profile-state.avsc); the dedup list is the `batch-dedup` store's.
const FORMAT_V1 = 1;
const FORMAT_V2 = 2;

/**
 * The profiles store's value: Avro (schemas/profile-state.avsc) without a registry round trip, because
 * the store and its changelog are ours alone. Compact and evolvable; synchronous on the hot path.
 * A format-1 value is resolved to the current schema, which drops its embedded `recent_batches`.
 */
export function profileStateSerde(): SyncSerde<ProfileState> {
  const type = avroTypeFor(SCHEMAS['profile-state']);
  const fromV1 = type.createResolver(avroTypeFor(profileStateSchemaV1));
  return {
    serialize: (_topic, value) => {
      const body = type.toBuffer(value);
      const out = Buffer.allocUnsafe(body.length + 1);
      out[0] = FORMAT_V2;
      body.copy(out, 1);
      return out;
    },
    deserialize: (topic, data) => {
      if (data[0] === FORMAT_V2) return type.fromBuffer(data.subarray(1)) as ProfileState;
      if (data[0] === FORMAT_V1) return type.fromBuffer(data.subarray(1), fromV1) as ProfileState;
      throw new Error(`profile state on ${topic} has unknown format ${data[0]}`);
    },
  };
}
