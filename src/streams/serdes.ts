/**
 * Turns values into bytes and back. Either side may be async (a schema-registry Avro serde looks up
 * schemas); the runtime calls serdes for a whole fetched batch at once and awaits them together.
 * `null` stays `null` (tombstones) and never reaches a serde.
 */
export interface Serde<T> {
  serialize(topic: string, value: T): Buffer | Promise<Buffer>;
  deserialize(topic: string, data: Buffer): T | Promise<T>;
  /**
   * Optional: whatever `serialize(topic, …)` needs from elsewhere (a registry serde's schema id), fetched
   * before the first record, so a freshly started app's first outputs do not wait for it.
   */
  prepare?(topic: string): Promise<void>;
}

export const stringSerde: Serde<string> = {
  serialize: (_topic, value) => Buffer.from(value, 'utf8'),
  deserialize: (_topic, data) => data.toString('utf8'),
};

export const bufferSerde: Serde<Buffer> = {
  serialize: (_topic, value) => value,
  deserialize: (_topic, data) => data,
};

/** JSON; fine for tests and small internal topics, not a schema. */
export function jsonSerde<T>(): Serde<T> {
  return {
    serialize: (_topic, value) => Buffer.from(JSON.stringify(value), 'utf8'),
    deserialize: (_topic, data) => JSON.parse(data.toString('utf8')) as T,
  };
}

/** Big-endian signed 64-bit, the same bytes as Kafka's LongSerializer. */
export const int64Serde: Serde<bigint> = {
  serialize: (_topic, value) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(value);
    return b;
  },
  deserialize: (_topic, data) => data.readBigInt64BE(0),
};

/** A JS number stored as Kafka's LongSerializer bytes; must be a safe integer. */
export const numberSerde: Serde<number> = {
  serialize: (topic, value) => {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    return int64Serde.serialize(topic, BigInt(value)) as Buffer;
  },
  deserialize: (_topic, data) => Number(data.readBigInt64BE(0)),
};

export const Serdes = {
  string: () => stringSerde,
  buffer: () => bufferSerde,
  json: <T>() => jsonSerde<T>(),
  int64: () => int64Serde,
  number: () => numberSerde,
} as const;
