/**
 * Small builders for Avro schema JSON, so every schema in `schemas/` is written the same way:
 * every field has a `doc`, and optional fields are `["null", T]` with `default: null`, which is what
 * keeps them evolvable under the registry's BACKWARD rule (a reader may add them, old data still reads).
 */
export const NAMESPACE = 'dev.profilestream';

export type AvroSchema = string | readonly unknown[] | { readonly [key: string]: unknown };
export type AvroField = { name: string; type: AvroSchema; doc: string; default?: unknown };

/** A field every record must have. */
export function required(name: string, type: AvroSchema, doc: string): AvroField {
  return { name, type, doc };
}

/** A field that may be absent (null), defaulting to null. */
export function optional(name: string, type: AvroSchema, doc: string): AvroField {
  return { name, type: ['null', type], default: null, doc };
}

/** A field with a non-null default (an empty map or list, false, ...). */
export function withDefault(name: string, type: AvroSchema, defaultValue: unknown, doc: string): AvroField {
  return { name, type, default: defaultValue, doc };
}

export function record(name: string, doc: string, fields: AvroField[], extra: Record<string, unknown> = {}) {
  return { type: 'record', name, namespace: NAMESPACE, doc, ...extra, fields } as const;
}

export function enumOf(name: string, doc: string, symbols: readonly string[]) {
  return { type: 'enum', name, namespace: NAMESPACE, doc, symbols: [...symbols] } as const;
}

export const arrayOf = (items: AvroSchema) => ({ type: 'array', items }) as const;
export const mapOf = (values: AvroSchema) => ({ type: 'map', values }) as const;

/** A signed 64-bit id read as a decimal string (see `avro-type.ts`); other readers see a long. */
export const int64String = { type: 'long', logicalType: 'int64-as-string' } as const;

/** string | double | boolean | string list | null: mParticle's attribute value types. */
export const attributeValue = ['null', 'string', 'double', 'boolean', { type: 'array', items: 'string' }] as const;
