import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: equal content, equal text, whatever the key order in YAML. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A definition's version: a positive 31-bit number from the SHA-256 of its canonical content, so any
 * change to any field gives a new version (and a recomputation), and reformatting the YAML does not.
 */
export function contentVersion(value: unknown): number {
  return parseInt(createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 8), 16) >>> 1;
}

/** A short stable key for anonymous definitions (an audience's event counters). */
export function contentKey(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}
