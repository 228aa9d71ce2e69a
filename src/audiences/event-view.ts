import type { BatchEvent, EventType, UserAttributeValue } from '../schema/batch.ts';
import { dict, entriesOf, get, type Dict } from '../shared/dictionary.ts';
import { eventTime } from '../shared/write-stamp.ts';

/**
 * What definitions can see of an event, and what the aggregates store keeps of it for recomputation:
 * its type, name, time and attributes. Commerce events add `$product_action`, `$total_amount` and
 * `$currency_code`; session ends add `$session_duration_ms`.
 */
export type EventView = {
  type: EventType;
  /** Custom event name, screen name, commerce event name (else its product action); null otherwise. */
  name: string | null;
  time_ms: number;
  attributes: Dict<UserAttributeValue>;
};

export function viewOf(event: BatchEvent, batchMs: number): EventView {
  const attributes = dict<UserAttributeValue>(entriesOf(event.data.custom_attributes));
  let name: string | null = null;
  switch (event.event_type) {
    case 'custom_event':
      name = event.data.event_name;
      break;
    case 'screen_view':
      name = event.data.screen_name;
      break;
    case 'commerce_event': {
      const action = event.data.product_action;
      name = event.data.event_name ?? action?.action ?? null;
      if (action) {
        attributes['$product_action'] = action.action;
        if (action.total_amount !== null) attributes['$total_amount'] = action.total_amount;
      }
      if (event.data.currency_code !== null) attributes['$currency_code'] = event.data.currency_code;
      break;
    }
    case 'session_end':
      if (event.data.session_duration_ms !== null) attributes['$session_duration_ms'] = event.data.session_duration_ms;
      break;
    default:
      break;
  }
  return { type: event.event_type, name, time_ms: eventTime(event, batchMs), attributes };
}

/** An attribute of the event, never one inherited from a prototype. */
export function attributeOf(view: EventView, name: string): UserAttributeValue | undefined {
  return get(view.attributes, name);
}
