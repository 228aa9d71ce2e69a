import { z } from 'zod';
import type { CalculatedAttributeDefinition } from './calculated-attribute-definition.ts';
import { SeedInvalidError } from './errors.ts';
import { validateSeed, type Seed, type SeedSummary } from './seed.ts';

/**
 * One seed on the seeding topic (JSON, keyed by MPID so it reaches the task that owns the user): what
 * the user did before `cutoff_ms` for one calculated attribute. The HTTP route writes these; anyone may
 * produce them directly.
 */
export type SeedMessage = SeedSummary & {
  readonly mpid: string;
  readonly workspace_id: string;
  readonly name: string;
};

const MPID = /^-?[0-9]{1,20}$/;
const moment = z.strictObject({ timestamp_ms: z.number().int(), value: z.string().optional() });

export const seedMessageSchema = z.strictObject({
  mpid: z.string().regex(MPID, 'a decimal MPID'),
  workspace_id: z.string().min(1),
  name: z.string().min(1),
  cutoff_ms: z.number().int().positive(),
  count: z.number().optional(),
  sum: z.number().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  // A null-prototype copy is made below, so a value named "__proto__" stays a value.
  values: z.record(z.string(), z.number()).optional(),
  first: moment.optional(),
  last: moment.optional(),
});

/** Throws `SeedInvalidError` naming the first bad field. */
export function parseSeedMessage(json: unknown): SeedMessage {
  const result = seedMessageSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length === 0 ? 'seed' : issue.path.map(String).join('.');
    throw new SeedInvalidError(`${path}: ${issue.message}`);
  }
  const m = result.data;
  const values = m.values === undefined ? undefined : Object.assign(Object.create(null) as Record<string, number>, m.values);
  return { ...m, ...(values === undefined ? {} : { values }) } as SeedMessage;
}

export function seedOf(message: SeedMessage): Seed {
  const { mpid: _mpid, workspace_id, ...summary } = message;
  return { ...summary, workspace: workspace_id };
}

/**
 * Throws `SeedInvalidError` unless the seed names a calculated attribute of its workspace and carries
 * what that calculation reads: checked before a seed is accepted, so a bad one is refused up front.
 */
export function checkSeedAgainstDefinitions(message: SeedMessage, definitions: readonly CalculatedAttributeDefinition[]): CalculatedAttributeDefinition {
  const def = definitions.find((d) => d.name === message.name && d.workspace === message.workspace_id);
  if (def === undefined) {
    const known = definitions.filter((d) => d.workspace === message.workspace_id).map((d) => d.name);
    throw new SeedInvalidError(`no calculated attribute ${message.name} in workspace ${message.workspace_id} (defined there: ${known.length > 0 ? known.join(', ') : 'none'})`);
  }
  validateSeed(def.calculation, seedOf(message));
  return def;
}
