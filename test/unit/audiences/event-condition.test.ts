import { describe, expect, it } from 'vitest';
import { eventConditionSchema, matchesEvent, type EventCondition } from '../../../src/audiences/event-condition.ts';
import { viewOf } from '../../../src/audiences/event-view.ts';
import type { BatchEvent } from '../../../src/schema/batch.ts';
import { NOW, ev } from './support.ts';

const cond = (raw: object): EventCondition => eventConditionSchema.parse(raw);

describe('event conditions', () => {
  it('match on event type and on event name, case-insensitively', () => {
    expect(matchesEvent(cond({ type: 'custom_event', name: 'Add To Cart' }), ev('add to cart', NOW))).toBe(true);
    expect(matchesEvent(cond({ type: 'screen_view' }), ev('add to cart', NOW))).toBe(false);
    expect(matchesEvent(cond({ name: 'checkout' }), ev('add to cart', NOW))).toBe(false);
    expect(matchesEvent(cond({}), ev('anything', NOW, {}, 'session_start'))).toBe(true);
  });

  it('an event without a name never matches a condition on the name', () => {
    expect(matchesEvent(cond({ name: 'x' }), { ...ev('x', NOW, {}, 'session_start'), name: null })).toBe(false);
  });

  // Each operator on an event attribute; value-condition.test.ts covers the operators on every value shape.
  const attrs = { plan: 'Premium Annual', price: '49.5', tags: ['Sale', 'new'], empty: '', none: null };
  const cases: Array<[object, boolean]> = [
    [{ attribute: 'plan', operator: 'equals', value: 'premium annual' }, true],
    [{ attribute: 'plan', operator: 'not_equals', value: 'PREMIUM ANNUAL' }, false],
    [{ attribute: 'plan', operator: 'contains', value: 'ANNUAL' }, true],
    [{ attribute: 'plan', operator: 'not_contains', value: 'monthly' }, true],
    [{ attribute: 'plan', operator: 'matches', value: '^premium\\s' }, true],
    [{ attribute: 'plan', operator: 'exists' }, true],
    [{ attribute: 'none', operator: 'exists' }, false],
    [{ attribute: 'missing', operator: 'not_exists' }, true],
    [{ attribute: 'empty', operator: 'is_empty' }, true],
    [{ attribute: 'plan', operator: 'is_empty' }, false],
    [{ attribute: 'tags', operator: 'in', values: ['sale', 'clearance'] }, true],
    [{ attribute: 'price', operator: 'greater_than', value: 49 }, true],
    [{ attribute: 'price', operator: 'greater_than_or_equal', value: 49.5 }, true],
    [{ attribute: 'price', operator: 'less_than', value: 49.5 }, false],
    [{ attribute: 'price', operator: 'less_than_or_equal', value: 49.5 }, true],
    [{ attribute: 'plan', operator: 'less_than', value: 100 }, false],
  ];
  for (const [where, expected] of cases) {
    it(`${JSON.stringify(where)} on ${JSON.stringify(attrs)} is ${expected}`, () => {
      expect(matchesEvent(cond({ where: [where] }), ev('buy', NOW, attrs))).toBe(expected);
    });
  }

  it('every attribute condition must hold', () => {
    const c = cond({ where: [{ attribute: 'plan', operator: 'contains', value: 'premium' }, { attribute: 'price', operator: 'greater_than', value: 100 }] });
    expect(matchesEvent(c, ev('buy', NOW, attrs))).toBe(false);
    expect(matchesEvent(c, ev('buy', NOW, { ...attrs, price: 120 }))).toBe(true);
  });

  it('an attribute named like an Object prototype member is plain data', () => {
    const c = cond({ where: [{ attribute: 'constructor', operator: 'exists' }] });
    expect(matchesEvent(c, ev('buy', NOW))).toBe(false);
    expect(matchesEvent(c, ev('buy', NOW, { constructor: 'x' }))).toBe(true);
  });

  it('commerce events are named by their event name or product action, with amount and currency as attributes', () => {
    const event = {
      event_type: 'commerce_event',
      data: {
        event_name: null, custom_attributes: {}, timestamp_unixtime_ms: NOW, currency_code: 'EUR',
        product_action: { action: 'purchase', total_amount: 99.9 },
      },
    } as unknown as BatchEvent;
    const view = viewOf(event, NOW);
    expect(matchesEvent(cond({ type: 'commerce_event', name: 'Purchase', where: [{ attribute: '$total_amount', operator: 'greater_than', value: 50 }, { attribute: '$currency_code', operator: 'equals', value: 'eur' }] }), view)).toBe(true);
  });
});
