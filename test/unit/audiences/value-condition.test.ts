import { describe, expect, it } from 'vitest';
import { matchesValue, valueConditionSchema, type ValueCondition } from '../../../src/audiences/value-condition.ts';
import type { UserAttributeValue } from '../../../src/schema/batch.ts';

const c = (raw: object): ValueCondition => valueConditionSchema.parse(raw);

describe('value conditions', () => {
  const cases: Array<[object, UserAttributeValue | undefined, boolean]> = [
    [{ operator: 'equals', value: 'Gold' }, 'gold', true],
    [{ operator: 'equals', value: 'Gold' }, 'golden', false],
    [{ operator: 'equals', value: 'Gold' }, undefined, false],
    [{ operator: 'equals', value: 3 }, 3, true],
    [{ operator: 'equals', value: true }, true, true],
    [{ operator: 'equals', value: 'jazz' }, ['Rock', 'JAZZ'], true],
    [{ operator: 'not_equals', value: 'Gold' }, 'Silver', true],
    [{ operator: 'not_equals', value: 'Gold' }, 'GOLD', false],
    [{ operator: 'not_equals', value: 'Gold' }, undefined, true],
    [{ operator: 'not_equals', value: 'jazz' }, ['rock', 'jazz'], false],
    [{ operator: 'contains', value: 'OLD' }, 'golden', true],
    [{ operator: 'contains', value: 'x' }, 'golden', false],
    [{ operator: 'not_contains', value: 'x' }, 'golden', true],
    [{ operator: 'not_contains', value: 'OLD' }, 'Golden', false],
    [{ operator: 'matches', value: '^user\\d+@example\\.com$' }, 'USER12@example.com', true],
    [{ operator: 'matches', value: '^a' }, 'banana', false],
    [{ operator: 'exists' }, 'x', true],
    [{ operator: 'exists' }, null, false],
    [{ operator: 'exists' }, undefined, false],
    [{ operator: 'not_exists' }, undefined, true],
    [{ operator: 'not_exists' }, 0, false],
    [{ operator: 'is_empty' }, '', true],
    [{ operator: 'is_empty' }, [], true],
    [{ operator: 'is_empty' }, null, true],
    [{ operator: 'is_empty' }, 'a', false],
    [{ operator: 'is_empty' }, undefined, false],
    [{ operator: 'in', values: ['Paris', 'Tokyo'] }, 'tokyo', true],
    [{ operator: 'in', values: ['Paris', 'Tokyo'] }, 'Berlin', false],
    [{ operator: 'greater_than', value: 10 }, 10.5, true],
    [{ operator: 'greater_than', value: 10 }, 10, false],
    [{ operator: 'greater_than', value: 10 }, '11', true],
    [{ operator: 'greater_than', value: 10 }, 'eleven', false],
    [{ operator: 'greater_than_or_equal', value: 10 }, 10, true],
    [{ operator: 'less_than', value: 10 }, 9, true],
    [{ operator: 'less_than', value: 10 }, undefined, false],
    [{ operator: 'less_than_or_equal', value: 10 }, 10, true],
    [{ operator: 'less_than_or_equal', value: 10 }, 10.01, false],
  ];
  for (const [raw, value, expected] of cases) {
    it(`${JSON.stringify(raw)} on ${JSON.stringify(value)} is ${expected}`, () => {
      expect(matchesValue(c(raw), value)).toBe(expected);
    });
  }

  it('rejects an operator with the wrong fields and an invalid pattern', () => {
    expect(valueConditionSchema.safeParse({ operator: 'exists', value: 1 }).success).toBe(false);
    expect(valueConditionSchema.safeParse({ operator: 'in', value: 'a' }).success).toBe(false);
    expect(valueConditionSchema.safeParse({ operator: 'matches', value: '(' }).success).toBe(false);
    expect(valueConditionSchema.safeParse({ operator: 'greater_than', value: 'ten' }).success).toBe(false);
  });
});
