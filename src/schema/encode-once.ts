import type { Type } from 'avsc';
import { avroTypeFor } from './avro-type.ts';

/**
 * Avro bytes of a value, kept per value object: when two serdes write the same record (the history
 * store and the history topic get the same history record), it is encoded once. Only for values that
 * are never mutated after they are made (the profile domain returns new objects; it never edits one).
 */
export class EncodeOnce {
  readonly #type: Type;
  readonly #bytes = new WeakMap<object, Buffer>();

  constructor(schema: object) {
    this.#type = avroTypeFor(schema);
  }

  encode(value: object): Buffer {
    let bytes = this.#bytes.get(value);
    if (bytes === undefined) {
      bytes = this.#type.toBuffer(value);
      this.#bytes.set(value, bytes);
    }
    return bytes;
  }
}

const bySchema = new WeakMap<object, EncodeOnce>();

/** One shared encoder per schema object, so every serde of that schema sees the others' bytes. */
export function encodeOnceFor(schema: object): EncodeOnce {
  let e = bySchema.get(schema);
  if (e === undefined) {
    e = new EncodeOnce(schema);
    bySchema.set(schema, e);
  }
  return e;
}
