import type { Batch, UserAttributeValue } from './batch.ts';
import type { BatchProblem } from './errors.ts';
import { memberPath } from './json-path.ts';

/**
 * mParticle's batch limits. A batch over a limit is rejected, naming the limit: silently truncating
 * would make the profile disagree with what the sender believes it sent.
 */
export const BATCH_LIMITS = {
  /** User attributes set in one batch (`user_attributes` entries). */
  max_user_attributes_per_batch: 100,
  /** Characters in one attribute value, or in one entry of a list value. */
  max_attribute_value_length: 4096,
  /** Entries in one list-valued attribute. */
  max_attribute_list_entries: 1000,
  /** Size of the batch: UTF-8 bytes of its JSON, or of its Avro record. */
  max_batch_bytes: 128 * 1024,
} as const;

export type BatchLimit = keyof typeof BATCH_LIMITS;

/**
 * Every limit the batch breaks. Applies to batches from JSON and to decoded Avro batches alike
 * (`sizeBytes` is whatever size the caller measured; omit it to skip the size check).
 */
export function checkBatchLimits(batch: Batch, sizeBytes?: number): BatchProblem[] {
  const problems: BatchProblem[] = [];
  const over = (path: string, limit: BatchLimit, actual: number, what: string) =>
    problems.push({ path, limit, message: `${what} ${actual} is over the limit ${limit} = ${BATCH_LIMITS[limit]}` });

  if (sizeBytes !== undefined && sizeBytes > BATCH_LIMITS.max_batch_bytes) {
    over('$', 'max_batch_bytes', sizeBytes, 'batch size in bytes');
  }
  const names = Object.keys(batch.user_attributes);
  if (names.length > BATCH_LIMITS.max_user_attributes_per_batch) {
    over('$.user_attributes', 'max_user_attributes_per_batch', names.length, 'number of user attributes');
  }
  // The paths below cost more to build than the checks (one string per attribute): a batch within every value
  // limit, the usual case, skips them.
  if (withinValueLimits(batch)) return problems;
  const checkValue = (path: string, value: UserAttributeValue) => {
    if (typeof value === 'string' && value.length > BATCH_LIMITS.max_attribute_value_length) {
      over(path, 'max_attribute_value_length', value.length, 'value length');
    } else if (Array.isArray(value)) {
      if (value.length > BATCH_LIMITS.max_attribute_list_entries) over(path, 'max_attribute_list_entries', value.length, 'list length');
      value.forEach((entry, i) => {
        if (entry.length > BATCH_LIMITS.max_attribute_value_length) over(`${path}[${i}]`, 'max_attribute_value_length', entry.length, 'value length');
      });
    }
  };
  const checkMap = (path: string, map: { [name: string]: UserAttributeValue }) => {
    for (const name of Object.keys(map)) checkValue(`${path}${memberPath(name)}`, map[name]!);
  };
  checkMap('$.user_attributes', batch.user_attributes);
  batch.events.forEach((event, i) => {
    checkMap(`$.events[${i}].data.custom_attributes`, event.data.custom_attributes);
    if (event.event_type === 'user_attribute_change') checkValue(`$.events[${i}].data.new`, event.data.new);
  });
  return problems;
}

function withinValueLimits(batch: Batch): boolean {
  const ok = (value: UserAttributeValue): boolean => {
    if (typeof value === 'string') return value.length <= BATCH_LIMITS.max_attribute_value_length;
    if (!Array.isArray(value)) return true;
    if (value.length > BATCH_LIMITS.max_attribute_list_entries) return false;
    for (const entry of value) if (entry.length > BATCH_LIMITS.max_attribute_value_length) return false;
    return true;
  };
  const mapOk = (map: { [name: string]: UserAttributeValue }): boolean => {
    for (const name in map) if (Object.hasOwn(map, name) && !ok(map[name]!)) return false;
    return true;
  };
  if (!mapOk(batch.user_attributes)) return false;
  for (const event of batch.events) {
    if (!mapOk(event.data.custom_attributes)) return false;
    if (event.event_type === 'user_attribute_change' && !ok(event.data.new)) return false;
  }
  return true;
}
