import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AudienceMember, AudienceMembershipSource, HourlyChanges } from '../../api/audience-membership-source.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../../schema/avro-serde.ts';
import type { AudienceMembershipChange } from '../../schema/audience-membership-change.ts';
import { SCHEMAS } from '../../schema/schema-catalog.ts';
import { createTopicTail, type TailBatch, type TopicTail } from '../kafka/topic-tail.ts';
import { registryEndpoint, type ClientSecurity } from '../client-security.ts';

const HOUR_MS = 3_600_000;
/** Changes kept for the hourly chart: the last day and the hour it started in. */
const KEEP_MS = 25 * HOUR_MS;
/** With no record for this long after reading started, the reader counts as caught up (a topic whose last records are transaction markers never reports lag 0). */
const QUIET_MS = 2_000;

export interface AudienceMembershipReaderOptions {
  readonly topic: string;
  readonly applicationId: string;
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly security?: ClientSecurity;
}

/**
 * Current members and the last day's joins and leaves of every audience, read from the audience membership
 * topic (`<app>.audience-memberships`) from its beginning, every partition on every instance (no consumer
 * group), so every instance knows every audience without asking the others. Started by the first question,
 * then kept up to date. A change counts only when it changes membership: an `add` for a member (a replayed record,
 * at-least-once) is no join.
 */
export class AudienceMembershipReader implements AudienceMembershipSource {
  private readonly serde: AvroSerde<AudienceMembershipChange>;
  private readonly members_ = new Map<string, Map<string, number>>();
  private readonly changes = new Map<string, Array<{ ms: number; join: boolean }>>();
  private readonly clock: () => number;
  private tail: TopicTail | undefined;
  private starting: Promise<void> | undefined;
  /** partition → offset at start the reader must pass to be caught up. */
  private readonly targets = new Map<number, bigint>();
  private joinedAt = 0;
  private lastRecordAt = 0;

  constructor(private readonly options: AudienceMembershipReaderOptions) {
    this.serde = createAvroSerde<AudienceMembershipChange>({ registry: createSchemaRegistry(registryEndpoint(options.schemaRegistryUrl, options.security)), schema: SCHEMAS['audience-membership-change'] });
    this.clock = options.clock ?? Date.now;
  }

  async caughtUp(timeoutMs: number): Promise<boolean> {
    await this.start();
    const deadline = Date.now() + timeoutMs;
    while (!this.isCaughtUp()) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  private isCaughtUp(): boolean {
    if (this.joinedAt === 0) return false;
    if (this.targets.size === 0) return true;
    return Date.now() - Math.max(this.joinedAt, this.lastRecordAt) > QUIET_MS;
  }

  private start(): Promise<void> {
    this.starting ??= this.connect().catch(async (error: unknown) => {
      this.starting = undefined;
      await this.close();
      throw error;
    });
    return this.starting;
  }

  private async connect(): Promise<void> {
    const { brokers, logger, topic, applicationId } = this.options;
    const tail = createTopicTail({
      brokers, clientId: `${applicationId}-audience-reader-${randomUUID().slice(0, 8)}`, logger, security: this.options.security?.kafka,
      topics: [topic], fromBeginning: true, maxWaitMs: 200,
    });
    this.tail = tail;
    for (const o of await tail.offsets(topic)) if (BigInt(o.high) > BigInt(o.low)) this.targets.set(o.partition, BigInt(o.high));
    await tail.run({
      onBatch: (batch) => this.onBatch(batch),
      onJoin: () => {
        this.joinedAt ||= Date.now();
      },
    });
  }

  private async onBatch(batch: TailBatch): Promise<void> {
    for (const message of batch.records) {
      if (message.value === null) continue;
      const change = this.serde.deserializeSync(batch.topic, message.value) ?? (await this.serde.deserialize(batch.topic, message.value));
      this.apply(change);
      const target = this.targets.get(batch.partition);
      // Past the offset the topic ended at when the reader started: this partition is caught up.
      if (target !== undefined && BigInt(message.offset) >= target - 1n) this.targets.delete(batch.partition);
    }
    this.lastRecordAt = Date.now();
  }

  private apply(change: AudienceMembershipChange): void {
    const mpid = String(change.mpid);
    for (const a of change.audiences) {
      let members = this.members_.get(a.audience_id);
      if (!members) this.members_.set(a.audience_id, (members = new Map()));
      const join = a.action === 'add';
      if (join === members.has(mpid)) continue;
      if (join) members.set(mpid, change.timestamp_ms);
      else members.delete(mpid);
      let list = this.changes.get(a.audience_id);
      if (!list) this.changes.set(a.audience_id, (list = []));
      list.push({ ms: change.timestamp_ms, join });
    }
  }

  size(audienceId: string): number {
    return this.members_.get(audienceId)?.size ?? 0;
  }

  hourly(audienceId: string, nowMs: number, hours: number): HourlyChanges[] {
    const lastHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
    const first = lastHour - (hours - 1) * HOUR_MS;
    const buckets = Array.from({ length: hours }, (_, i) => ({ hour_ms: first + i * HOUR_MS, joins: 0, leaves: 0 }));
    const list = this.changes.get(audienceId) ?? [];
    // Drop what no chart shows any more, so the list stays a day long.
    const keepFrom = this.clock() - KEEP_MS;
    if (list.length > 0 && list[0]!.ms < keepFrom) this.changes.set(audienceId, list.filter((c) => c.ms >= keepFrom));
    for (const c of list) {
      const i = Math.floor((c.ms - first) / HOUR_MS);
      if (i < 0 || i >= hours) continue;
      if (c.join) buckets[i]!.joins++;
      else buckets[i]!.leaves++;
    }
    return buckets;
  }

  members(audienceId: string, offset: number, limit: number): { total: number; members: AudienceMember[] } {
    const all = [...(this.members_.get(audienceId) ?? new Map<string, number>())].map(([mpid, added_ms]) => ({ mpid, added_ms }));
    all.sort((a, b) => b.added_ms - a.added_ms || (a.mpid < b.mpid ? -1 : a.mpid > b.mpid ? 1 : 0));
    return { total: all.length, members: all.slice(offset, offset + limit) };
  }

  async close(): Promise<void> {
    const tail = this.tail;
    this.tail = undefined;
    await tail?.stop();
  }
}
