import { z } from 'zod';
import type { UserAttributeValue } from '../schema/batch.ts';

/**
 * One test on a value (an event attribute, a user attribute, a calculated attribute). String matching
 * is case-insensitive, as in mParticle's audience builder. A list value passes a positive operator when
 * any element does; `not_equals` / `not_contains` pass when no element matches.
 */
export type ValueOperator =
  | 'equals' | 'not_equals' | 'contains' | 'not_contains' | 'matches'
  | 'exists' | 'not_exists' | 'is_empty' | 'in'
  | 'greater_than' | 'greater_than_or_equal' | 'less_than' | 'less_than_or_equal';

export type ValueCondition =
  | { readonly operator: 'exists' | 'not_exists' | 'is_empty' }
  | { readonly operator: 'equals' | 'not_equals' | 'contains' | 'not_contains'; readonly value: string }
  | { readonly operator: 'matches'; readonly value: string; readonly pattern: RegExp }
  | { readonly operator: 'in'; readonly values: readonly string[] }
  | { readonly operator: 'greater_than' | 'greater_than_or_equal' | 'less_than' | 'less_than_or_equal'; readonly value: number };

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** The YAML form: `{ operator: equals, value: Gold }`, `{ operator: in, values: [a, b] }`, `{ operator: exists }`. */
export const valueConditionSchema = z.union([
  z.strictObject({ operator: z.enum(['exists', 'not_exists', 'is_empty']) }),
  z.strictObject({ operator: z.enum(['equals', 'not_equals', 'contains', 'not_contains']), value: scalar }),
  z.strictObject({ operator: z.literal('matches'), value: z.string().min(1) }).transform((c, ctx) => {
    try {
      return { ...c, pattern: new RegExp(c.value, 'i') };
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}`, path: ['value'] });
      return z.NEVER;
    }
  }),
  z.strictObject({ operator: z.literal('in'), values: z.array(scalar).min(1) }),
  z.strictObject({ operator: z.enum(['greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal']), value: z.number() }),
]);

/** A value as text for matching and for calculated values; lists are joined with commas. */
export function textOf(value: UserAttributeValue): string {
  if (value === null) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** A finite number, or undefined: numbers as they are, strings that parse fully as a number. */
export function numberOf(value: UserAttributeValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Does `value` (undefined = absent) pass `condition`? */
export function matchesValue(condition: ValueCondition, value: UserAttributeValue | undefined): boolean {
  switch (condition.operator) {
    case 'exists':
      return value !== undefined && value !== null;
    case 'not_exists':
      return value === undefined || value === null;
    case 'is_empty':
      return value === null || value === '' || (Array.isArray(value) && value.length === 0);
    case 'not_equals':
    case 'not_contains':
      return !matchesValue({ operator: condition.operator === 'not_equals' ? 'equals' : 'contains', value: condition.value }, value);
    case 'greater_than':
    case 'greater_than_or_equal':
    case 'less_than':
    case 'less_than_or_equal': {
      const n = numberOf(value);
      if (n === undefined) return false;
      const v = condition.value;
      return condition.operator === 'greater_than' ? n > v
        : condition.operator === 'greater_than_or_equal' ? n >= v
        : condition.operator === 'less_than' ? n < v
        : n <= v;
    }
    default: {
      if (value === undefined || value === null) return false;
      const texts = (Array.isArray(value) ? value : [value]).map((v) => String(v).toLowerCase());
      return texts.some((text) => matchesText(condition, text));
    }
  }
}

function matchesText(condition: ValueCondition, text: string): boolean {
  switch (condition.operator) {
    case 'equals':
      return text === condition.value.toLowerCase();
    case 'contains':
      return text.includes(condition.value.toLowerCase());
    case 'matches':
      return condition.pattern.test(text);
    case 'in':
      return condition.values.some((v) => v.toLowerCase() === text);
    default:
      return false;
  }
}
