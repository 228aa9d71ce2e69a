import { z } from 'zod';
import type { CalculatedAttributeDefinition } from '../audiences/calculated-attribute-definition.ts';
import { CALCULATIONS, NEEDS_ATTRIBUTE } from '../audiences/calculation.ts';
import { contentVersion } from '../audiences/content-hash.ts';
import type { DateRange } from '../audiences/date-range.ts';
import { eventConditionSchema } from '../audiences/event-condition.ts';
import { AudiencesConfigUnreadableError } from '../audiences/errors.ts';
import { audiencesConfigError, conditionWording } from './audience-config-problems.ts';
import { parseDate, parseYaml, readOptionalYamlFile } from './yaml-document.ts';

// Names become keys of the profile's calculated attributes and override user attributes downstream.
const NAME = /^[A-Za-z0-9_$][A-Za-z0-9_$ .-]{0,99}$/;

const definitionSchema = z.strictObject({
  name: z.string().regex(NAME, 'letters, digits, "_", "$", " ", ".", "-" (at most 100)'),
  workspace: z.union([z.string().min(1), z.number().int()]).transform(String),
  calculation: z.enum(CALCULATIONS),
  event: eventConditionSchema,
  attribute: z.string().min(1).optional(),
  within_days: z.number().int().min(1).max(3650).optional(),
  since: z.unknown().optional(),
});

const fileSchema = z.strictObject({ calculated_attributes: z.array(z.unknown()).default([]) });

/**
 * Parses `topology/calculated-attributes.yaml`. Throws `AudiencesConfigError` naming the path and line,
 * e.g. `calculated_attributes[2].calculation: expected count|sum|... at topology/calculated-attributes.yaml:14`.
 */
export function parseCalculatedAttributesConfig(text: string, file: string): CalculatedAttributeDefinition[] {
  const y = parseYaml(text, file, audiencesConfigError, conditionWording);
  const top = y.check(fileSchema, y.value, []);
  const seen = new Map<string, number>();
  return top.calculated_attributes.map((raw, i) => {
    const at = ['calculated_attributes', i];
    const d = y.check(definitionSchema, raw, at);
    const key = `${d.workspace}\u0000${d.name}`;
    if (seen.has(key)) y.fail([...at, 'name'], `duplicate name in workspace ${d.workspace} (also calculated_attributes[${seen.get(key)}])`);
    seen.set(key, i);
    if (NEEDS_ATTRIBUTE.has(d.calculation) && d.attribute === undefined) y.fail(at, `${d.calculation} needs an attribute to aggregate`, 'calculation');
    if (!NEEDS_ATTRIBUTE.has(d.calculation) && d.attribute !== undefined) y.fail([...at, 'attribute'], `${d.calculation} reads no attribute`);
    if (d.within_days !== undefined && d.since !== undefined) y.fail([...at, 'since'], 'give within_days or since, not both');
    let range: DateRange = { kind: 'lifetime' };
    if (d.within_days !== undefined) range = { kind: 'within_days', days: d.within_days };
    if (d.since !== undefined) {
      const sinceMs = parseDate(d.since);
      if (sinceMs === undefined) y.fail([...at, 'since'], 'expected a date (2024-01-31) or an ISO-8601 date-time');
      range = { kind: 'since', sinceMs: sinceMs! };
    }
    return {
      name: d.name,
      workspace: d.workspace,
      calculation: d.calculation,
      event: d.event,
      attribute: d.attribute ?? null,
      range,
      version: contentVersion(raw),
    };
  });
}

/** Reads the file; a missing file means no calculated attributes. */
export async function loadCalculatedAttributesConfig(file: string): Promise<CalculatedAttributeDefinition[]> {
  const text = await readOptionalYamlFile(file, (f, cause) => new AudiencesConfigUnreadableError(f, cause));
  return text === undefined ? [] : parseCalculatedAttributesConfig(text, file);
}
