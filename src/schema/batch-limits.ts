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
  // Where a value sits: `event` undefined for the batch's user_attributes, `name` undefined for a change event's
  // `new`. The path string is built only for a value over a limit: one per attribute cost more than the checks.
  const pathOf = (event: number | undefined, name: string | undefined): string =>
    event === undefined ? `$.user_attributes${memberPath(name!)}`
      : name === undefined ? `$.events[${event}].data.new`
        : `$.events[${event}].data.custom_attributes${memberPath(name)}`;
  const checkValue = (event: number | undefined, name: string | undefined, value: UserAttributeValue) => {
    if (typeof value === 'string' && value.length > BATCH_LIMITS.max_attribute_value_length) {
      over(pathOf(event, name), 'max_attribute_value_length', value.length, 'value length');
    } else if (Array.isArray(value)) {
      if (value.length > BATCH_LIMITS.max_attribute_list_entries) over(pathOf(event, name), 'max_attribute_list_entries', value.length, 'list length');
      for (let i = 0; i < value.length; i++) {
        const entry = value[i]!;
        if (entry.length > BATCH_LIMITS.max_attribute_value_length) over(`${pathOf(event, name)}[${i}]`, 'max_attribute_value_length', entry.length, 'value length');
      }
    }
  };
  for (const name of names) checkValue(undefined, name, batch.user_attributes[name]!);
  for (let i = 0; i < batch.events.length; i++) {
    const event = batch.events[i]!;
    for (const name of Object.keys(event.data.custom_attributes)) checkValue(i, name, event.data.custom_attributes[name]!);
    if (event.event_type === 'user_attribute_change') checkValue(i, undefined, event.data.new);
  }
  return problems;
}
