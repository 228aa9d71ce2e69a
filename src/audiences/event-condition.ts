import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../schema/batch.ts';
import { attributeOf, type EventView } from './event-view.ts';
import { matchesValue, valueConditionSchema, type ValueCondition } from './value-condition.ts';

export type AttributeCondition = ValueCondition & { readonly attribute: string };

/** Which events a definition reads: by type, by name (case-insensitive), and conditions on attributes (all must hold). */
export interface EventCondition {
  readonly type: EventType | null;
  readonly name: string | null;
  readonly where: readonly AttributeCondition[];
}

const attributeConditionSchema = z
  .object({ attribute: z.string().min(1) })
  .passthrough()
  .transform((raw, ctx) => {
    const { attribute, ...rest } = raw;
    const parsed = valueConditionSchema.safeParse(rest);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message } as never);
      return z.NEVER;
    }
    return { attribute, ...parsed.data } as AttributeCondition;
  });

export const eventConditionSchema = z
  .strictObject({
    type: z.enum(EVENT_TYPES).optional(),
    name: z.string().min(1).optional(),
    where: z.array(attributeConditionSchema).default([]),
  })
  .transform((f): EventCondition => ({ type: f.type ?? null, name: f.name ?? null, where: f.where }));

export function matchesEvent(filter: EventCondition, event: EventView): boolean {
  if (filter.type !== null && filter.type !== event.type) return false;
  if (filter.name !== null && (event.name === null || event.name.toLowerCase() !== filter.name.toLowerCase())) return false;
  return filter.where.every((c) => matchesValue(c, attributeOf(event, c.attribute)));
}
