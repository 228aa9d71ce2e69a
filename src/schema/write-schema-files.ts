import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/package-root.ts';
import { SCHEMAS, schemaFileText } from './schema-catalog.ts';
import type { SchemaName } from './schema-catalog.ts';

/** Writes `schemas/*.avsc` from the schema modules (run after changing a schema). */
const dir = `${join(packageRoot(), 'schemas')}/`;
for (const name of Object.keys(SCHEMAS) as SchemaName[]) {
  writeFileSync(`${dir}${name}.avsc`, schemaFileText(name));
  console.log(`wrote schemas/${name}.avsc`);
}
