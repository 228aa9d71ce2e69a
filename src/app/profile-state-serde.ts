import type { Serde } from '../streams/index.ts';
import { avroTypeFor } from '../schema/avro-type.ts';
import type { ProfileState } from '../schema/profile-state.ts';
import { SCHEMAS } from '../schema/schema-catalog.ts';

// One leading byte names the encoding, so a later schema version can be read beside this one
// (the changelog keeps old records until compaction rewrites them).
const FORMAT_V1 = 1;

/**
 * The profiles store's value: Avro (schemas/profile-state.avsc) without a registry round trip, because
 * the store and its changelog are ours alone. Compact and evolvable; synchronous on the hot path.
 */
export function profileStateSerde(): Serde<ProfileState> {
  const type = avroTypeFor(SCHEMAS['profile-state']);
  return {
    serialize: (_topic, value) => Buffer.concat([Buffer.from([FORMAT_V1]), type.toBuffer(value)]),
    deserialize: (topic, data) => {
      if (data[0] !== FORMAT_V1) throw new Error(`profile state on ${topic} has unknown format ${data[0]}`);
      return type.fromBuffer(data.subarray(1)) as ProfileState;
    },
  };
}
