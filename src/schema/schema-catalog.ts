import { audienceMembershipChangeSchema } from './avro/audience-membership-change-schema.ts';
import { batchSchema } from './avro/batch-schema.ts';
import { enrichedBatchSchema } from './avro/enriched-batch-schema.ts';
import { historyRecordSchema } from './avro/history-record-schema.ts';
import { dedupeNamedTypes } from './avro/named-types.ts';
import { profileStateSchema } from './avro/profile-state-schema.ts';
import type { AvroSchema } from './avro/avro-fields.ts';

/**
 * Every schema profile-stream reads or writes, by the file name it has in `schemas/`.
 * The TypeScript modules under `avro/` are the source; `schemas/*.avsc` are written from them by
 * `npx tsx src/schema/write-schema-files.ts` so users and other languages get plain .avsc files, and a
 * unit test fails when the files are stale.
 */
export const SCHEMAS = {
  batch: dedupeNamedTypes(batchSchema),
  'enriched-batch': enrichedBatchSchema,
  'profile-state': profileStateSchema,
  'history-record': historyRecordSchema,
  'audience-membership-change': audienceMembershipChangeSchema,
} as const satisfies Record<string, AvroSchema>;

export type SchemaName = keyof typeof SCHEMAS;

/** The .avsc text of a schema, exactly as written to `schemas/<name>.avsc`. */
export function schemaFileText(name: SchemaName): string {
  return `${JSON.stringify(SCHEMAS[name], null, 2)}\n`;
}
