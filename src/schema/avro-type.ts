import avro from 'avsc';
import type { Schema, Type } from 'avsc';

/**
 * Builds avsc Types for profile-stream's schemas, with the three decoding rules the TypeScript types
 * in this folder promise (see `batch.ts`):
 *
 * 1. `long` is read without losing precision: a JS number when it is a safe integer, a bigint
 *    otherwise (avsc's default silently rounds above 2^53).
 * 2. `{"type":"long","logicalType":"int64-as-string"}` (MPIDs, session ids) is a decimal string.
 *    Other Avro readers ignore the unknown logical type and see a plain long, as the spec requires.
 * 3. Maps decode into null-prototype objects, so a key named `__proto__` is kept as data instead of
 *    replacing the prototype (avsc's own map reader assigns into `{}`).
 * 4. A record marked `"logicalType":"event-union"` has fields `event_type` and `data`, where `data`
 *    is a union of records; the app sees `{event_type, data}` with `data` unwrapped, and the union
 *    branch is chosen by `event_type`. avsc alone would either wrap the union (`{"ns.Name": {...}}`)
 *    or guess a branch by shape, which is wrong when records have all-optional fields.
 *
 * Always build types through `avroTypeFor`: a Type made by plain `avro.Type.forSchema` decodes
 * MPIDs as lossy numbers and drops `__proto__` attributes.
 */
export const INT64_AS_STRING = 'int64-as-string';
export const EVENT_UNION = 'event-union';

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL_INT64 = /^-?(0|[1-9][0-9]{0,18})$/;

type Int64 = number | bigint;

function isInt64(value: unknown): value is Int64 {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
}

// avsc encodes into one shared 1 KiB buffer and, when a value does not fit, allocates and encodes it a
// second time (types.js, Type.prototype.toBuffer). Nearly every record here (batches, enriched batches,
// profiles, history) is over 1 KiB, so every encode ran twice: the CPU profile of the pipeline showed it.
// `Type.__reset` is avsc's own hook for the size of that buffer; 1 MiB covers the broker's record limit.
(avro.Type as unknown as { __reset(size: number): void }).__reset(1024 * 1024);

/** A long that never rounds: safe integers as numbers, larger magnitudes as bigints. */
const bufferedLong: Type = avro.types.LongType.__with({
  fromBuffer(buf: Buffer): Int64 {
    const n = buf.readBigInt64LE();
    return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
  },
  toBuffer(n: Int64): Buffer {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON(json: unknown): Int64 {
    if (typeof json === 'string' && DECIMAL_INT64.test(json)) return BigInt(json);
    return json as Int64;
  },
  toJSON(n: Int64): number | string {
    return typeof n === 'bigint' ? n.toString() : n;
  },
  isValid: isInt64,
  compare(a: Int64, b: Int64): number {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  },
});

type LongTap = { buf: Buffer; pos: number };

// Zig-zag varints of up to 7 bytes carry 49 bits, so |n| < 2^48 (every epoch-ms time) is exact in a double.
const FAST_LIMIT = 2 ** 48;

/**
 * Reads a long straight from the tap. avsc's abstract long (`bufferedLong`) goes through an 8-byte Buffer
 * and a BigInt for every value; the pipeline's CPU profile showed that allocation for each of the many
 * longs in a profile. Longer varints (|n| >= 2^48) take the BigInt path and keep full precision.
 */
function readLong(tap: LongTap): Int64 {
  const buf = tap.buf;
  let pos = tap.pos;
  let z = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    const b = buf[pos++]!;
    z += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      tap.pos = pos;
      return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
    }
    mul *= 128;
  }
  let big = BigInt(z);
  let shift = 49n;
  let b: number;
  do {
    b = buf[pos++] ?? 0; // past the end: the caller sees an invalid (truncated) tap, as with avsc's own reader
    big |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while ((b & 0x80) !== 0 && shift < 70n);
  tap.pos = pos;
  const n = BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

/** Writes a long straight into the tap (writes past the end only advance `pos`: avsc then re-encodes larger). */
function writeLong(tap: LongTap, n: Int64): void {
  if (!isInt64(n)) throw new Error(`invalid "long": ${String(n)}`);
  const buf = tap.buf;
  if (typeof n === 'number' && n > -FAST_LIMIT && n < FAST_LIMIT) {
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 128) {
      buf[tap.pos++] = (z % 128) | 0x80;
      z = Math.floor(z / 128);
    }
    buf[tap.pos++] = z;
    return;
  }
  const v = BigInt(n);
  let z = BigInt.asUintN(64, v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  while (z >= 128n) {
    buf[tap.pos++] = Number(z & 0x7fn) | 0x80;
    z >>= 7n;
  }
  buf[tap.pos++] = Number(z);
}

// avsc freezes the type `__with` returns, so the direct reader and writer go on an object that inherits it.
const preciseLong: Type = Object.create(bufferedLong, { _read: { value: readLong }, _write: { value: (tap: LongTap, n: Int64) => writeLong(tap, n) } });

/** Parses a decimal int64 string; undefined when it is not one (so avsc reports the value invalid). */
export function parseInt64(text: string): bigint | undefined {
  if (!DECIMAL_INT64.test(text)) return undefined;
  const n = BigInt(text);
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

class Int64AsStringType extends avro.types.LogicalType {
  constructor(_schema: Schema, opts: unknown) {
    // The underlying long must come from the hook (precise), so it is built from a bare `long`;
    // the logical type's name is restored below for schema export.
    super({ type: 'long' } as Schema, opts);
    (this as unknown as { _logicalTypeName: string })._logicalTypeName = INT64_AS_STRING;
  }
  protected override _fromValue(value: Int64): string {
    return value.toString();
  }
  protected override _toValue(value: unknown): Int64 | undefined {
    if (typeof value === 'string') return parseInt64(value);
    return isInt64(value) ? value : undefined;
  }
  protected override _resolve(type: Type): ((value: Int64) => string) | undefined {
    return type.typeName === 'long' || type.typeName === 'abstract:long' || (type as { _logicalTypeName?: string })._logicalTypeName === INT64_AS_STRING
      ? (value) => value.toString()
      : undefined;
  }
}

type WireTap = { readString(): string; readLong(): number };

/** An avro map that reads into null-prototype objects (attribute names are data). */
class NullPrototypeMapType extends avro.types.MapType {
  _read(tap: WireTap): Record<string, unknown> {
    const values = (this as unknown as { valuesType: { _read(tap: WireTap): unknown } }).valuesType;
    const out: Record<string, unknown> = Object.create(null);
    // Avro map blocks: a count, then entries; a negative count is followed by the block's byte size.
    for (let n = tap.readLong(); n !== 0; n = tap.readLong()) {
      if (n < 0) {
        n = -n;
        tap.readLong();
      }
      while (n--) {
        const key = tap.readString();
        out[key] = values._read(tap);
      }
    }
    return out;
  }
  _copy(value: unknown, opts: unknown): Record<string, unknown> {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`invalid map: ${JSON.stringify(value)}`);
    }
    const values = (this as unknown as { valuesType: { _copy(v: unknown, o: unknown): unknown } }).valuesType;
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) out[key] = values._copy((value as Record<string, unknown>)[key], opts);
    return out;
  }
  _update(resolver: { valuesType: unknown; _read: unknown }, type: Type, opts: unknown): void {
    if (type.typeName === 'map') {
      const valuesType = (this as unknown as { valuesType: Type }).valuesType;
      resolver.valuesType = valuesType.createResolver((type as unknown as { valuesType: Type }).valuesType, opts as never);
      resolver._read = this._read;
    }
  }
}

type EventValue = { event_type: string; data: unknown };

/** `{event_type, data}` with `data` a union of records picked by `event_type` (see rule 4). */
class EventUnionType extends avro.types.LogicalType {
  private readonly branchByEventType: Map<string, string>;

  constructor(schema: Schema, opts: unknown) {
    super(schema, opts);
    const record = this.underlyingType as unknown as { fields: { name: string; type: Type }[] };
    const data = record.fields.find((f) => f.name === 'data');
    const union = data?.type as unknown as { types?: Type[] } | undefined;
    const mapping = (schema as { eventTypes?: Record<string, string> }).eventTypes;
    if (!union?.types || !mapping) throw new Error(`${EVENT_UNION} needs a union field "data" and an "eventTypes" mapping`);
    this.branchByEventType = new Map(Object.entries(mapping));
  }
  /** The record type of `data` for an event type; undefined for an unknown event type. */
  dataTypeFor(eventType: string): Type | undefined {
    const branch = this.branchByEventType.get(eventType);
    const record = this.underlyingType as unknown as { fields: { name: string; type: Type }[] };
    const union = record.fields.find((f) => f.name === 'data')?.type as unknown as { types: Type[] };
    return branch === undefined ? undefined : union.types.find((t) => t.name === branch);
  }
  get eventTypes(): string[] {
    return [...this.branchByEventType.keys()];
  }
  protected override _fromValue(value: { event_type: string; data: Record<string, unknown> }): EventValue {
    const branch = value.data ? Object.keys(value.data)[0] : undefined;
    return { event_type: value.event_type, data: branch === undefined ? null : value.data[branch] };
  }
  protected override _toValue(value: unknown): unknown {
    if (!value || typeof value !== 'object') return undefined;
    const { event_type, data } = value as EventValue;
    const branch = this.branchByEventType.get(event_type);
    if (branch === undefined) return undefined;
    return { event_type, data: { [branch]: data } };
  }
  protected override _resolve(): undefined {
    return undefined;
  }
  _update(resolver: { _read: unknown }, type: Type, opts: unknown): void {
    // Resolve writer and reader records field by field (schema evolution), then unwrap `data`.
    const writer = (type as { _logicalTypeName?: string; underlyingType?: Type }).underlyingType ?? type;
    const inner = this.underlyingType.createResolver(writer, opts as never) as unknown as { _read(tap: unknown): never };
    resolver._read = (tap: unknown) => this._fromValue(inner._read(tap));
  }
}

export function isInt64AsStringType(type: Type): boolean {
  return type instanceof Int64AsStringType;
}

/** The event-union type (see rule 4), for walkers that need its branches; null for other types. */
export function asEventUnionType(type: Type): { dataTypeFor(eventType: string): Type | undefined; eventTypes: string[] } | null {
  return type instanceof EventUnionType ? type : null;
}

function typeHook(schema: Schema, opts: unknown): Type | undefined {
  if (schema === 'long') return preciseLong;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const s = schema as { type?: unknown; logicalType?: unknown };
  if (s.type === 'long') return s.logicalType === INT64_AS_STRING ? new Int64AsStringType(schema, opts) : preciseLong;
  if (s.type === 'map') return new NullPrototypeMapType(schema, opts);
  return undefined;
}

/** Options for avsc that apply the rules above; pass them wherever avsc builds a Type. */
export function avroTypeOptions(): Record<string, unknown> {
  return { typeHook, logicalTypes: { [EVENT_UNION]: EventUnionType }, wrapUnions: 'auto' };
}

/** The avsc Type of a profile-stream schema (parsed JSON or a string of it). */
export function avroTypeFor(schema: object | string): Type {
  const parsed = (typeof schema === 'string' ? JSON.parse(schema) : schema) as Schema;
  return avro.Type.forSchema(parsed, avroTypeOptions() as never);
}
