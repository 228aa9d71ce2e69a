import { describe, expect, it } from 'vitest';
import type { LiveEntry } from '../../../src/api/live-feed.ts';
import { matchesLiveFilter } from '../../../src/api/live-stream-filter.ts';

const e: LiveEntry = {
  id: 't:0:1', received_ms: 1, batch_ms: 1, topic: 't', source: 'ios', environment: 'development', workspace_id: '1', mpid: '42', batch_id: null,
  event_count: 2, event_names: ['play', 'Home'], event_types: ['custom_event', 'screen_view'], batch: {}, processed_ms: 5,
  forwarding: [{ integration: 'all', forwarded: true, events_forwarded: 2, events_total: 2 }, { integration: 'ads', forwarded: false, reason: 'consent', detail: '' }],
};

describe('matchesLiveFilter', () => {
  it('narrows by each field; an integration matches only when the batch went to it', () => {
    expect(matchesLiveFilter(e, { environment: 'development' })).toBe(true);
    expect(matchesLiveFilter(e, { environment: 'production' })).toBe(false);
    expect(matchesLiveFilter(e, { environment: 'all', source: 'web' })).toBe(false);
    expect(matchesLiveFilter(e, { environment: 'all', eventType: 'screen_view', mpid: '42' })).toBe(true);
    expect(matchesLiveFilter(e, { environment: 'all', eventType: 'commerce_event' })).toBe(false);
    expect(matchesLiveFilter(e, { environment: 'all', integration: 'all' })).toBe(true);
    expect(matchesLiveFilter(e, { environment: 'all', integration: 'ads' })).toBe(false);
    expect(matchesLiveFilter({ ...e, forwarding: null }, { environment: 'all', integration: 'all' })).toBe(false);
  });
});
