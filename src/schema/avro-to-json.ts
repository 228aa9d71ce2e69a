import type { Type } from 'avsc';
import { asEventUnionType, isInt64AsStringType } from './avro-type.ts';

type Typed = Type & { fields?: { name: string; type: Type }[]; itemsType?: Type; valuesType?: Type; types?: Type[] };

/**
 * The mParticle-style JSON of a decoded record: record fields that are null are left out (absent and
 * null mean the same in mParticle's JSON), map entries are kept even when null (a null attribute
 * value is data), and 64-bit ids stay strings so no JSON reader rounds them.
 */
export function avroToJson(type: Type, value: unknown): unknown {
  const t = type as Typed;
  if (value === null || value === undefined) return null;
  if (isInt64AsStringType(t)) return value;
  const events = asEventUnionType(t);
  if (events) {
    const event = value as { event_type: string; data: unknown };
    return { event_type: event.event_type, data: avroToJson(events.dataTypeFor(event.event_type)!, event.data) };
  }
  switch (t.typeName) {
    case 'record':
    case 'error': {
      const out: Record<string, unknown> = {};
      for (const field of t.fields!) {
        const v = avroToJson(field.type, (value as Record<string, unknown>)[field.name]);
        if (v !== null) out[field.name] = v;
      }
      return out;
    }
    case 'array':
      return (value as unknown[]).map((item) => avroToJson(t.itemsType!, item));
    case 'map': {
      const out: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(value as object)) out[key] = avroToJson(t.valuesType!, (value as Record<string, unknown>)[key]);
      return out;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branch = t.types!.find((b) => b.typeName !== 'null' && b.isValid(value));
      return branch ? avroToJson(branch, value) : value;
    }
    default:
      return typeof value === 'bigint' ? value.toString() : value;
  }
}
