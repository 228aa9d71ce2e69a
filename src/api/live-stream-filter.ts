import type { LiveEntry } from './live-feed.ts';

/** What a Live Stream page asks to see; every field narrows, none set shows everything of the workspace. */
export interface LiveStreamFilter {
  readonly environment: 'development' | 'production' | 'all';
  readonly source?: string;
  /** Only batches the pipeline forwarded to this integration (known once the batch is processed). */
  readonly integration?: string;
  readonly eventType?: string;
  readonly mpid?: string;
}

export function matchesLiveFilter(entry: LiveEntry, filter: LiveStreamFilter): boolean {
  if (filter.environment !== 'all' && entry.environment !== filter.environment) return false;
  if (filter.source !== undefined && entry.source !== filter.source) return false;
  if (filter.mpid !== undefined && entry.mpid !== filter.mpid) return false;
  if (filter.eventType !== undefined && !entry.event_types.includes(filter.eventType)) return false;
  if (filter.integration !== undefined && !(entry.forwarding ?? []).some((d) => d.integration === filter.integration && d.forwarded)) return false;
  return true;
}
