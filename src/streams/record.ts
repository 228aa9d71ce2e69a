/** Header values as they travel on Kafka: bytes, or strings the runtime encodes as UTF-8. */
export type Headers = Readonly<{ [name: string]: Buffer | string | undefined }>;

/**
 * One record flowing through a topology. Immutable: `withValue` and friends return a copy, so a
 * processor can forward a changed record without surprising its siblings.
 *
 * @example safe: `ctx.forward(record.withValue(count))`
 * @example unsafe: mutating `record.value` in place when it is an object another child also receives.
 */
export class Record<K, V> {
  constructor(
    readonly key: K,
    readonly value: V,
    readonly timestamp: number,
    readonly headers: Headers = {},
  ) {}

  withKey<K2>(key: K2): Record<K2, V> {
    return new Record(key, this.value, this.timestamp, this.headers);
  }
  withValue<V2>(value: V2): Record<K, V2> {
    return new Record(this.key, value, this.timestamp, this.headers);
  }
  withTimestamp(timestamp: number): Record<K, V> {
    return new Record(this.key, this.value, timestamp, this.headers);
  }
  withHeaders(headers: Headers): Record<K, V> {
    return new Record(this.key, this.value, this.timestamp, headers);
  }
}

/** Where the record being processed came from. Absent inside a punctuator. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /**
   * Bytes of the record's value as fetched (-1 for a null value), as Kafka's `ConsumerRecord.serializedValueSize()`:
   * a size limit checked against it costs nothing, where re-encoding the decoded value to measure it would.
   */
  readonly serializedValueSize: number;
}
