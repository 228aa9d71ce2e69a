import { parseInt64 } from '../schema/avro-type.ts';

/**
 * ajv's `format: "decimal-int64"`: a string holding a decimal signed 64-bit integer (ajv-formats owns `int64`,
 * which applies to numbers only). A 20-digit pattern alone lets
 * `18446744073709551616` through to a lookup that can never find it (404 instead of 400).
 */
export const INT64_FORMAT = { type: 'string', validate: (text: string) => parseInt64(text) !== undefined } as const;
