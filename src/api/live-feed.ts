import type { ForwardingDecision } from '../profiles/forwarding-decision.ts';

/** One batch as the Live Stream shows it: what arrived on a raw topic, and, once processed, where it went. */
export interface LiveEntry {
  /** `<topic>:<partition>:<offset>` of the raw record: unique, and what updates refer to. */
  readonly id: string;
  /** When this instance read the record (wall clock). */
  readonly received_ms: number;
  readonly batch_ms: number;
  readonly topic: string;
  readonly source: string;
  readonly environment: string;
  readonly workspace_id: string;
  readonly mpid: string;
  readonly batch_id: string | null;
  readonly event_count: number;
  /** Distinct event names (custom event names, screen names, else the event type), at most 10. */
  readonly event_names: readonly string[];
  readonly event_types: readonly string[];
  /** The batch as decoded from Avro; what a click shows. */
  readonly batch: unknown;
  /** Set when the history topic shows the pipeline processed the batch. */
  processed_ms: number | null;
  forwarding: readonly ForwardingDecision[] | null;
}

export interface LiveEvent {
  readonly kind: 'batch' | 'update';
  /** What filters read; `batch` may be left out when `frame` is given. */
  readonly entry: LiveEntry;
  /** The Server-Sent Event as sent (`event: <kind>\ndata: <entry JSON>\n\n`), when the feed made it already. */
  readonly frame?: string;
}

export interface LiveSubscription {
  /** The latest event of each batch kept for the subscriber's workspaces, oldest batch first. */
  readonly tail: readonly LiveEvent[];
  unsubscribe(): void;
}

export interface LiveFeedStats {
  readonly state: 'stopped' | 'starting' | 'live';
  /** Raw records read but not decoded because the display budget was spent (the pipeline's rate can be far above it). */
  readonly skipped: number;
  readonly decoded: number;
  readonly subscribers: number;
}

/**
 * The Live Stream's source: a bounded, per-workspace tail of the batches arriving on the raw topics. The
 * HTTP layer sees only this port (`src/app/adapters/live-tail.ts` implements it over Kafka).
 */
export interface LiveFeed {
  /** Resolves once the feed reads live data; events of other workspaces never reach `listener`. */
  subscribe(workspaces: readonly string[], listener: (event: LiveEvent) => void): Promise<LiveSubscription>;
  stats(): LiveFeedStats;
  readonly sources: readonly string[];
  readonly integrations: readonly string[];
}
