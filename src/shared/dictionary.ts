/**
 * Null-prototype string-keyed records. Attribute names, consent purposes and device stamps are data:
 * `__proto__`, `constructor` or `hasOwnProperty` must be ordinary keys, so no record the domain builds
 * inherits from `Object.prototype`, and reads go through `Object.hasOwn`. (Same convention as
 * `src/schema/batch.ts`, so decoded maps and domain maps behave alike.)
 */
export type Dict<T> = { [key: string]: T };

/** An empty null-prototype record, optionally filled from entries. */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Dict<T> {
  const out = Object.create(null) as Dict<T>;
  for (const [key, value] of entries) setEntry(out, key, value);
  return out;
}

/** The value stored under `key`, never one inherited from a prototype. */
export function get<T>(record: Dict<T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets `key` in place; only for records the caller has just copied (the domain never mutates its inputs). */
export function setEntry<T>(record: Dict<T>, key: string, value: T): void {
  // Assignment to "__proto__" on an object with a prototype sets the prototype; every other key is an own
  // property either way, and plain assignment is several times faster than defineProperty (per attribute, per batch).
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** A shallow null-prototype copy, the first step of every copy-on-write update. */
export function copyDict<T>(record: Dict<T>): Dict<T> {
  const out = Object.create(null) as Dict<T>;
  for (const key of Object.keys(record)) setEntry(out, key, record[key] as T);
  return out;
}

/** Own entries in insertion order. */
export function entriesOf<T>(record: Dict<T>): [string, T][] {
  return Object.keys(record).map((key) => [key, record[key] as T]);
}

/** A null-prototype copy of `record` with every value mapped. */
export function mapValues<T, U>(record: Dict<T>, fn: (value: T, key: string) => U): Dict<U> {
  const out = Object.create(null) as Dict<U>;
  for (const key of Object.keys(record)) setEntry(out, key, fn(record[key] as T, key));
  return out;
}
