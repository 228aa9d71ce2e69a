import { dict } from '../../../src/shared/dictionary.ts';
import type { EventView } from '../../../src/audiences/event-view.ts';
import type { EventType, UserAttributeValue } from '../../../src/schema/batch.ts';

export const DAY = 24 * 60 * 60 * 1000;
/** Noon UTC, so a day's events are well inside it. */
export const NOW = Date.UTC(2025, 5, 15, 12);

export function ev(name: string, at: number, attributes: Record<string, UserAttributeValue> = {}, type: EventType = 'custom_event'): EventView {
  return { type, name, time_ms: at, attributes: dict(Object.entries(attributes)) };
}
