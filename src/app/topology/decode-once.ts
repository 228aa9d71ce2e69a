import type { Serde } from '../../streams/index.ts';

/** A serde whose both directions are synchronous (the stores' own Avro and packed formats). */
export interface SyncSerde<T> {
  serialize(topic: string, value: T): Buffer;
  deserialize(topic: string, data: Buffer): T;
}

/**
 * Decodes a given Buffer object once. The write cache hands out the very Buffer it holds, so the
 * processor's prefetch (`getMany` for the fetched batch) and its `get` per record used to decode the same
 * profile twice; and a `get` after a `put` in the same commit decoded bytes just encoded from the value
 * the processor still held. Both now return that value. Only for values nobody mutates: the profile
 * domain returns new objects and never edits one (see `merge-batch.ts`).
 */
export function decodeOnce<T extends object>(inner: SyncSerde<T>): Serde<T> {
  const decoded = new WeakMap<Buffer, T>();
  return {
    serialize: (topic, value) => {
      const bytes = inner.serialize(topic, value);
      decoded.set(bytes, value);
      return bytes;
    },
    deserialize: (topic, data) => {
      let value = decoded.get(data);
      if (value === undefined) {
        value = inner.deserialize(topic, data);
        decoded.set(data, value);
      }
      return value;
    },
  };
}
