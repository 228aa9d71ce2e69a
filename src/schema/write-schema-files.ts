import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCHEMAS, schemaFileText } from './schema-catalog.ts';
import type { SchemaName } from './schema-catalog.ts';

/** Writes `schemas/*.avsc` from the schema modules (run after changing a schema). */
const dir = fileURLToPath(new URL('../../schemas/', import.meta.url));
for (const name of Object.keys(SCHEMAS) as SchemaName[]) {
  writeFileSync(`${dir}${name}.avsc`, schemaFileText(name));
  console.log(`wrote schemas/${name}.avsc`);
}
