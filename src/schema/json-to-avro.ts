import type { Type } from 'avsc';
import { asEventUnionType, isInt64AsStringType, parseInt64 } from './avro-type.ts';
import type { BatchProblem } from './errors.ts';
import { memberPath } from './json-path.ts';

/**
 * Converts a JSON value into the record a profile-stream Avro type encodes, guided by the type itself,
 * collecting every problem with its JSONPath instead of stopping at the first. Being schema-driven
 * keeps the converter and the .avsc from drifting apart: a field added to the schema is accepted here
 * with no code change. What it adds over `type.isValid`: paths, messages that say what to send
 * (taken from the field's `doc`), MPIDs given as JSON numbers or strings, null-prototype maps, and
 * the event union picked by `event_type`.
 */
export type Conversion = { problems: BatchProblem[]; ignoredFields: string[] };

type FieldLike = { name: string; type: Type; doc?: string; defaultValue(): unknown };
type Typed = Type & { fields?: FieldLike[]; symbols?: string[]; itemsType?: Type; valuesType?: Type; types?: Type[] };

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const describeJson = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;

export function jsonToAvro(type: Type, value: unknown, path: string, out: Conversion, doc?: string): unknown {
  const t = type as Typed;
  const problem = (message: string) => {
    out.problems.push({ path, message: doc ? `${message} (${doc.replace(/\.$/, '')})` : message });
    return undefined;
  };

  if (isInt64AsStringType(t)) {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) return problem(`must be a whole number, got ${describeJson(value)}`);
      if (!Number.isSafeInteger(value)) return problem('is above 2^53 as a JSON number and has lost precision: send it as a string of digits');
      return String(value);
    }
    if (typeof value === 'string' && parseInt64(value) !== undefined) return value;
    return problem(`must be a signed 64-bit integer, as a number or a string of digits, got ${describeJson(value)}`);
  }

  const events = asEventUnionType(t);
  if (events) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return problem(`must be an event object {"event_type", "data"}, got ${describeJson(value)}`);
    const { event_type: eventType, data } = value as { event_type?: unknown; data?: unknown };
    const dataType = typeof eventType === 'string' ? events.dataTypeFor(eventType) : undefined;
    if (!dataType) {
      out.problems.push({ path: `${path}.event_type`, message: `must be one of ${events.eventTypes.join(', ')}, got ${describeJson(eventType)}` });
      return undefined;
    }
    reportUnknownKeys(value as object, ['event_type', 'data'], path, out);
    return { event_type: eventType, data: jsonToAvro(dataType, data ?? {}, `${path}.data`, out) };
  }

  switch (t.typeName) {
    case 'null':
      return value === null ? null : problem(`must be null, got ${describeJson(value)}`);
    case 'boolean':
      return typeof value === 'boolean' ? value : problem(`must be true or false, got ${describeJson(value)}`);
    case 'string':
      return typeof value === 'string' ? value : problem(`must be a string, got ${describeJson(value)}`);
    case 'int':
      return Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX
        ? value : problem(`must be a 32-bit whole number, got ${describeJson(value)}`);
    case 'long':
    case 'abstract:long':
      return Number.isSafeInteger(value) ? value : problem(`must be a whole number (epoch milliseconds for times), got ${describeJson(value)}`);
    case 'float':
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? value : problem(`must be a number, got ${describeJson(value)}`);
    case 'enum':
      return typeof value === 'string' && t.symbols!.includes(value) ? value : problem(`must be one of ${t.symbols!.join(', ')}, got ${describeJson(value)}`);
    case 'array': {
      if (!Array.isArray(value)) return problem(`must be a list, got ${describeJson(value)}`);
      return value.map((item, i) => jsonToAvro(t.itemsType!, item, `${path}[${i}]`, out));
    }
    case 'map': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return problem(`must be an object, got ${describeJson(value)}`);
      // Names are data: a null-prototype target keeps `__proto__` and friends as plain keys.
      const map: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(value)) map[key] = jsonToAvro(t.valuesType!, (value as Record<string, unknown>)[key], `${path}${memberPath(key)}`, out);
      return map;
    }
    case 'record':
    case 'error':
      return recordToAvro(t, value, path, out, problem);
    case 'union:unwrapped':
    case 'union:wrapped':
      return unionToAvro(t, value, path, out, problem);
    default:
      return problem(`has an unsupported schema type ${t.typeName}`);
  }
}

function recordToAvro(t: Typed, value: unknown, path: string, out: Conversion, problem: (m: string) => undefined): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return problem(`must be an object, got ${describeJson(value)}`);
  const input = value as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const field of t.fields!) {
    const fieldPath = `${path}${memberPath(field.name)}`;
    const given = Object.hasOwn(input, field.name) ? input[field.name] : undefined;
    if (given !== undefined) {
      result[field.name] = jsonToAvro(field.type, given, fieldPath, out, field.doc);
    } else {
      const fallback = field.defaultValue();
      if (fallback === undefined) out.problems.push({ path: fieldPath, message: `is required${field.doc ? `: ${field.doc.replace(/\.$/, '')}` : ''}` });
      // Defaults go through the walker too, so default maps are null-prototype like given ones.
      else result[field.name] = jsonToAvro(field.type, fallback, fieldPath, { problems: [], ignoredFields: [] });
    }
  }
  reportUnknownKeys(input, t.fields!.map((f) => f.name), path, out);
  return result;
}

function unionToAvro(t: Typed, value: unknown, path: string, out: Conversion, problem: (m: string) => undefined): unknown {
  const branches = t.types!;
  if (value === null) return branches.some((b) => b.typeName === 'null') ? null : problem('must not be null');
  const nonNull = branches.filter((b) => b.typeName !== 'null');
  if (nonNull.length === 1) return jsonToAvro(nonNull[0]!, value, path, out);
  // Several branches (attribute values): the first that takes the value without problems wins.
  for (const branch of nonNull) {
    const attempt: Conversion = { problems: [], ignoredFields: [] };
    const converted = jsonToAvro(branch, value, path, attempt);
    if (attempt.problems.length === 0) {
      out.ignoredFields.push(...attempt.ignoredFields);
      return converted;
    }
  }
  return problem(`must be ${nonNull.map(branchName).join(', ')}${branches.length > nonNull.length ? ' or null' : ''}, got ${describeJson(value)}`);
}

function branchName(t: Type): string {
  const typed = t as Typed;
  if (typed.typeName === 'array') return `a list of ${branchName(typed.itemsType!)}s`;
  if (typed.typeName === 'double' || typed.typeName === 'float') return 'number';
  return typed.name ?? typed.typeName;
}

function reportUnknownKeys(input: object, known: string[], path: string, out: Conversion): void {
  for (const key of Object.keys(input)) if (!known.includes(key)) out.ignoredFields.push(`${path}${memberPath(key)}`);
}
