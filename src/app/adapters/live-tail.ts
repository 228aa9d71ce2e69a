import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LiveEntry, LiveEvent, LiveFeed, LiveFeedStats, LiveSubscription } from '../../api/live-feed.ts';
import type { AppConfig } from '../../config/app-config.ts';
import { forwardingDecisions } from '../../profiles/forwarding-decision.ts';
import { eventNameOf } from '../../profiles/integration-filter.ts';
import type { IntegrationConfig } from '../../profiles/integration.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../../schema/avro-serde.ts';
import type { Batch } from '../../schema/batch.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import { SCHEMAS } from '../../schema/schema-catalog.ts';
import { parseHistoryKey } from '../topology/history-store.ts';
import { createTopicTail, type TailBatch, type TopicTail } from '../kafka/topic-tail.ts';
import { registryEndpoint, type ClientSecurity } from '../client-security.ts';

export interface LiveTailOptions {
  readonly app: AppConfig;
  readonly integrations: readonly IntegrationConfig[];
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  readonly logger: Logger;
  /** Plain data: it crosses into the tail's worker thread. */
  readonly security?: ClientSecurity;
  /** Entries kept per workspace; default 300. */
  readonly tailSize?: number;
  /** Raw records decoded per second at most, across workspaces; default 50 (more than anyone reads). The rest are counted as skipped. */
  readonly maxDecodesPerSecond?: number;
  /** Records read back from each raw partition when the tail starts, so a page opens on recent batches; default 20. */
  readonly backfillPerPartition?: number;
  /** The tail stops reading this long after its last subscriber left; default 60 s. */
  readonly idleStopMs?: number;
  /** Bytes of records read per second at most (raw and history together); default 2 MiB. */
  readonly maxReadBytesPerSecond?: number;
  /** A partition further behind than this many records jumps to its last `backfillPerPartition`; default 500. */
  readonly skipAheadRecords?: number;
}

/** `workspaces` undefined: every workspace (the thread that relays to `ThreadedLiveFeed`). */
type Subscriber = { readonly workspaces: ReadonlySet<string> | undefined; readonly listener: (event: LiveEvent) => void };

/**
 * The Live Stream's tail: a reader of the raw topics (and of the history topic, to learn what became of
 * each shown batch) by direct assignment, in no consumer group, so it never touches the pipeline's offsets
 * or assignment.
 *
 * What keeps it from slowing the pipeline: it runs only while someone watches (it starts with the first
 * subscriber and stops `idleStopMs` after the last); it decodes at most `maxDecodesPerSecond` raw records
 * (a person cannot read more; the rest are counted, never queued); a history record is decoded only when its
 * key names a user with a shown batch still waiting for its outcome; one decode serves every subscriber.
 * Memory is bounded by `tailSize` entries per workspace.
 */
export class LiveTail implements LiveFeed {
  readonly sources: readonly string[];
  readonly integrations: readonly string[];
  private readonly tailSize: number;
  private readonly maxDecodes: number;
  private readonly backfill: number;
  private readonly idleStopMs: number;
  private readonly batchSerde: AvroSerde<Batch>;
  private readonly historySerde: AvroSerde<HistoryRecord>;
  private readonly tails = new Map<string, LiveEntry[]>();
  /** `<raw topic index>:<partition>:<offset>` → a shown entry whose history record has not been read yet. */
  private readonly pending = new Map<string, LiveEntry>();
  private readonly subscribers = new Set<Subscriber>();
  private state: LiveFeedStats['state'] = 'stopped';
  private tail: TopicTail | undefined;
  private clientId = '';
  private starting: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private refilledAt = Date.now();
  private skipped = 0;
  private decoded = 0;
  private readonly maxReadBytes: number;
  private readonly skipAhead: number;
  private readBytes: number;
  private readRefilledAt = Date.now();

  constructor(private readonly options: LiveTailOptions) {
    this.sources = options.app.sources;
    this.integrations = options.integrations.map((i) => i.name);
    this.tailSize = options.tailSize ?? 300;
    this.maxDecodes = options.maxDecodesPerSecond ?? 50;
    this.backfill = options.backfillPerPartition ?? 20;
    this.idleStopMs = options.idleStopMs ?? 60_000;
    this.tokens = this.maxDecodes;
    this.maxReadBytes = options.maxReadBytesPerSecond ?? 2 * 1024 * 1024;
    this.skipAhead = options.skipAheadRecords ?? 500;
    this.readBytes = this.maxReadBytes;
    const registry = createSchemaRegistry(registryEndpoint(options.schemaRegistryUrl, options.security));
    this.batchSerde = createAvroSerde<Batch>({ registry, schema: SCHEMAS.batch });
    this.historySerde = createAvroSerde<HistoryRecord>({ registry, schema: SCHEMAS['history-record'] });
  }

  stats(): LiveFeedStats {
    return { state: this.state, skipped: this.skipped, decoded: this.decoded, subscribers: this.subscribers.size };
  }

  /** `workspaces` undefined: every workspace. */
  async subscribe(workspaces: readonly string[] | undefined, listener: (event: LiveEvent) => void): Promise<LiveSubscription> {
    const subscriber: Subscriber = { workspaces: workspaces === undefined ? undefined : new Set(workspaces), listener };
    this.subscribers.add(subscriber);
    clearTimeout(this.idleTimer);
    try {
      await this.start();
    } catch (error) {
      this.subscribers.delete(subscriber);
      throw error;
    }
    const entries = workspaces === undefined ? [...this.tails.values()].flat() : workspaces.flatMap((w) => this.tails.get(w) ?? []);
    return {
      tail: entries.sort((a, b) => a.received_ms - b.received_ms).map((entry) => ({ kind: entry.processed_ms === null ? 'batch' : 'update', entry })),
      unsubscribe: () => {
        this.subscribers.delete(subscriber);
        if (this.subscribers.size === 0) {
          this.idleTimer = setTimeout(() => void this.stop().catch((e: Error) => this.options.logger.warn({ err: e }, 'live tail: stop failed')), this.idleStopMs);
          this.idleTimer.unref();
        }
      },
    };
  }

  private start(): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    this.starting ??= this.connect().catch(async (error: unknown) => {
      this.starting = undefined;
      await this.stop();
      throw error;
    });
    return this.starting;
  }

  private async connect(): Promise<void> {
    const { app, brokers, logger } = this.options;
    this.state = 'starting';
    this.tails.clear();
    this.pending.clear();
    // Every partition by direct assignment: every instance shows every batch, no group is joined, nothing is committed.
    this.clientId = `${app.applicationId}-live-tail-${randomUUID().slice(0, 8)}`;
    const topics = [...app.rawTopics, app.historyTopic];
    // Small fetches: with the read budget below, what the tail reads stays small whatever the pipeline's rate.
    const tail = createTopicTail({
      brokers, clientId: this.clientId, logger, security: this.options.security?.kafka, topics, fromBeginning: false, resolveManually: true,
      maxWaitMs: 100, maxBytesPerPartition: 64 * 1024, maxBytes: 512 * 1024,
    });
    this.tail = tail;
    let seeked = false;
    let joinedOk: () => void = () => undefined;
    let joinFailed: (error: unknown) => void = () => undefined;
    const joined = new Promise<void>((resolve, reject) => {
      joinedOk = resolve;
      joinFailed = reject;
    });
    await tail.run({
      onBatch: (batch, resolve) => this.onBatch(batch, resolve),
      onJoin: (assignment) => {
        // Read back a few records per partition, once: the page opens on recent batches instead of an empty list.
        if (seeked) return;
        seeked = true;
        void this.seekBack(assignment).then(joinedOk, joinFailed);
      },
      onCrash: (error, willRestart) => {
        joinFailed(error);
        // The tail retries a failed fetch by itself; after any other failure it is stopped, and the next page
        // to subscribe starts a new one instead of waiting on a tail that reads nothing.
        if (!willRestart && this.tail === tail) {
          logger.warn({ err: error }, 'live tail: consumer stopped; the next page restarts it');
          void this.stop();
        }
      },
    });
    const timeout = new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('live tail: no partitions assigned within 15 s')), 15_000).unref());
    await Promise.race([joined, timeout]);
    this.state = 'live';
    logger.info({ clientId: this.clientId }, 'live tail reading');
  }

  private async seekBack(assignment: Readonly<Record<string, number[]>>): Promise<void> {
    for (const [topic, partitions] of Object.entries(assignment)) {
      const offsets = await this.tail!.offsets(topic);
      // History records of the read-back raw batches sit near the end of the history partition too.
      const back = topic === this.options.app.historyTopic ? this.backfill * 3 : this.backfill;
      for (const o of offsets) {
        if (!partitions.includes(o.partition)) continue;
        const offset = BigInt(o.high) - BigInt(back);
        this.tail!.seek(topic, o.partition, String(offset < BigInt(o.low) ? BigInt(o.low) : offset));
      }
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const { tail } = this;
    this.tail = undefined;
    this.starting = undefined;
    this.state = 'stopped';
    // Nothing was committed and no group joined: stopping leaves the broker as it was.
    if (tail) await tail.stop();
  }

  private take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.maxDecodes, this.tokens + ((now - this.refilledAt) / 1000) * this.maxDecodes);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Keeps the tail's reading within `maxReadBytesPerSecond` (the client parses every record it fetches, decoded
   * or not, and the history records carry whole profiles): past the budget it waits, and a partition that
   * falls `skipAheadRecords` behind meanwhile jumps to its end. A tail shows what arrives now, not a backlog.
   */
  private async onBatch(batch: TailBatch, resolve: (offset: string) => void): Promise<void> {
    await this.decodeBatch(batch);
    const now = Date.now();
    this.readBytes = Math.min(this.maxReadBytes, this.readBytes + ((now - this.readRefilledAt) / 1000) * this.maxReadBytes);
    this.readRefilledAt = now;
    this.readBytes -= batch.records.reduce((sum, m) => sum + (m.value?.length ?? 0) + (m.key?.length ?? 0), 0);
    if (this.readBytes < 0) await new Promise((r) => setTimeout(r, Math.min(1000, (-this.readBytes / this.maxReadBytes) * 1000)));
    const lag = BigInt(batch.offsetLag);
    if (lag > BigInt(this.skipAhead) && this.tail) {
      // Not resolving the batch's offset leaves the seek as the next position.
      const to = BigInt(batch.highWatermark) - BigInt(this.backfill);
      if (batch.topic !== this.options.app.historyTopic) this.skipped += Number(to - BigInt(batch.lastOffset) - 1n);
      this.tail.seek(batch.topic, batch.partition, String(to));
    } else {
      resolve(batch.lastOffset);
    }
  }

  private async decodeBatch(batch: TailBatch): Promise<void> {
    const isHistory = batch.topic === this.options.app.historyTopic;
    for (const message of batch.records) {
      if (message.value === null || message.key === null) continue;
      if (isHistory) {
        // The key names the raw record it came from (ProfileProcessor's history sequence is the input offset
        // × 100 + the raw topic's index, and history goes to the user's raw partition): only a history
        // record of a shown batch is decoded, never one only because its user has a shown batch.
        const { sequence } = parseHistoryKey(message.key.toString('utf8'));
        if (!/^\d+$/.test(sequence)) continue;
        const seq = BigInt(sequence);
        const key = `${seq % 100n}:${batch.partition}:${seq / 100n}`;
        const entry = this.pending.get(key);
        if (!entry) continue;
        const record = this.historySerde.deserializeSync(batch.topic, message.value) ?? (await this.historySerde.deserialize(batch.topic, message.value));
        this.resolve(key, entry, record);
      } else {
        if (!this.take()) {
          this.skipped++;
          continue;
        }
        const value = this.batchSerde.deserializeSync(batch.topic, message.value) ?? (await this.batchSerde.deserialize(batch.topic, message.value));
        this.decoded++;
        this.add(this.entryOf(batch.topic, batch.partition, message.offset, message.key.toString('utf8'), value));
      }
    }
  }

  private entryOf(topic: string, partition: number, offset: string, key: string, b: Batch): LiveEntry {
    const names = new Set<string>();
    for (const e of b.events) {
      if (names.size >= 10) break;
      names.add(eventNameOf(e) ?? e.event_type);
    }
    return {
      id: `${topic}:${partition}:${offset}`,
      received_ms: Date.now(),
      batch_ms: b.timestamp_unixtime_ms ?? Date.now(),
      topic,
      source: b.source,
      environment: b.environment,
      workspace_id: b.workspace_id,
      mpid: b.mpid ?? key,
      batch_id: b.source_request_id,
      event_count: b.events.length,
      event_names: [...names],
      event_types: [...new Set(b.events.map((e) => e.event_type))],
      batch: b,
      processed_ms: null,
      forwarding: null,
    };
  }

  private add(entry: LiveEntry): void {
    let tail = this.tails.get(entry.workspace_id);
    if (!tail) this.tails.set(entry.workspace_id, (tail = []));
    tail.push(entry);
    if (tail.length > this.tailSize) this.pending.delete(this.pendingKey(tail.shift()!));
    this.pending.set(this.pendingKey(entry), entry);
    this.publish({ kind: 'batch', entry });
  }

  private pendingKey(entry: LiveEntry): string {
    const [partition, offset] = entry.id.slice(entry.topic.length + 1).split(':');
    return `${this.options.app.rawTopics.indexOf(entry.topic)}:${partition}:${offset}`;
  }

  /** A history record of a shown batch: the batch was processed; where it went follows from the profile stored with it. */
  private resolve(key: string, entry: LiveEntry, record: HistoryRecord): void {
    // An erasure's history record (no profile) or another user's (a key clash would be a bug) changes nothing.
    if (record.profile === null || (record.batch.mpid ?? entry.mpid) !== entry.mpid) return;
    entry.processed_ms = record.processed_timestamp_ms;
    entry.forwarding = forwardingDecisions(record.batch, record.profile, this.options.integrations);
    this.pending.delete(key);
    this.publish({ kind: 'update', entry });
  }

  private publish(event: LiveEvent): void {
    for (const s of this.subscribers) {
      if (s.workspaces === undefined || s.workspaces.has(event.entry.workspace_id)) s.listener(event);
    }
  }
}
