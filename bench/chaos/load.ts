import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../../src/schema/avro-serde.ts';
import type { Batch } from '../../src/schema/batch.ts';
import { fromJsonBatch } from '../../src/schema/json-batch.ts';
import { SCHEMAS } from '../../src/schema/schema-catalog.ts';
import { benchKafka, sleep } from '../lib/kafka.ts';
import { batchJson, batchId, mpidOf } from './reference.ts';

export interface LoadOptions {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly rawTopic: string;
  readonly partitions: number;
  readonly users: number;
  /** Batches per second, spread over ticks of 100 ms. */
  readonly ratePerSecond: number;
  readonly runTag: string;
  readonly mpidBase: bigint;
}

/** An acknowledged batch: what the enriched topics must carry exactly once. */
export interface SentBatch {
  readonly user: number;
  readonly k: number;
  readonly partition: number;
}

const javaPartitioner = Partitioners.DefaultPartitioner();

/**
 * The partition Kafka's Java default partitioner (murmur2) gives a key, computed by kafkajs' own
 * partitioner: the load is keyed like any client would key it, not by the runtime's partitioner.
 */
export function partitionOfKey(topic: string, key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0] }));
  return javaPartitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/**
 * The producer that is not the code under test: a plain kafkajs producer with the Avro serde, sending
 * batches continuously through the real Kafka (acks=all), users round robin so one user appears at
 * most once per send. A send that fails (broker down) is retried with the same batches until it is
 * acknowledged, so every batch handed to Kafka is acknowledged in the end (a retried send may write a
 * batch twice: the service must drop the replay by its batch id). The schema id is registered before
 * the load starts, so a registry outage does not stop the producer, as with any producer whose
 * serializer caches its schema id.
 */
export class ChaosLoad {
  readonly acked = new Map<string, SentBatch>();
  /** Every batch handed to the producer, acknowledged or not, by id. */
  readonly handed = new Map<string, SentBatch>();
  /** Per user, how many batches were handed to the producer (acknowledged or in flight). */
  readonly attempted: number[];
  sendFailures = 0;
  /** When each send was acknowledged, in order. */
  readonly #ackTimes: number[] = [];
  #producer: Producer | undefined;
  #serde: AvroSerde<Batch>;
  #running = false;
  #loop: Promise<void> | undefined;
  #nextUser = 0;
  #lastTime = 0;
  readonly partitionOfUser: number[];

  constructor(private readonly o: LoadOptions) {
    this.attempted = Array.from({ length: o.users }, () => 0);
    this.partitionOfUser = Array.from({ length: o.users }, (_, u) => partitionOfKey(o.rawTopic, mpidOf(o.mpidBase, u), o.partitions));
    this.#serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(o.registryUrl), schema: SCHEMAS.batch });
  }

  /** Milliseconds from `since` to the first send acknowledged after it (undefined: none yet). */
  ackedAfter(since: number): number | undefined {
    const t = this.#ackTimes.find((x) => x > since);
    return t === undefined ? undefined : t - since;
  }

  get sent(): number {
    return this.acked.size;
  }

  async start(): Promise<void> {
    // Short retries: the loop below retries for ever, and a long client backoff would only delay the
    // first send after the broker is back (the broker scenario measures the service from that send).
    this.#producer = benchKafka(this.o.brokers, `${this.o.runTag}-load`).producer({ allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 200 } });
    await this.#producer.connect();
    // Registers the schema now (the serde keeps the id), so a later registry outage does not reach the producer.
    await this.#serde.serialize(this.o.rawTopic, fromJsonBatch(batchJson(this.o.runTag, this.o.mpidBase, 0, 0, Date.now())));
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the send in flight is acknowledged. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.#producer?.disconnect().catch(() => undefined);
  }

  async #run(): Promise<void> {
    const perTick = Math.max(1, Math.min(this.o.users, Math.round(this.o.ratePerSecond / 10)));
    while (this.#running) {
      const started = Date.now();
      const chunk: { key: string; value: Buffer; id: string; sent: SentBatch }[] = [];
      for (let i = 0; i < perTick; i++) {
        const user = this.#nextUser;
        this.#nextUser = (this.#nextUser + 1) % this.o.users;
        const k = ++this.attempted[user]!;
        // Event times strictly increase in send order, so a user's batch k is the newest when it arrives.
        this.#lastTime = Math.max(Date.now(), this.#lastTime + 1);
        const batch = fromJsonBatch(batchJson(this.o.runTag, this.o.mpidBase, user, k, this.#lastTime));
        const value = await this.#serde.serialize(this.o.rawTopic, batch);
        const sent = { user, k, partition: this.partitionOfUser[user]! };
        chunk.push({ key: batch.mpid!, value, id: batchId(this.o.runTag, user, k), sent });
        this.handed.set(batchId(this.o.runTag, user, k), sent);
      }
      const firstTry = Date.now();
      for (;;) {
        try {
          await this.#producer!.send({ topic: this.o.rawTopic, acks: -1, compression: CompressionTypes.None, messages: chunk.map((c) => ({ key: c.key, value: c.value })) });
          for (const c of chunk) this.acked.set(c.id, c.sent);
          this.#ackTimes.push(Date.now());
          break;
        } catch (err) {
          this.sendFailures++;
          // Retried for as long as the scenario runs (an outage is waited out); once it stops, a deadline.
          if (!this.#running && Date.now() - firstTry > 90_000) throw new Error(`the load producer could not send for 90 s: ${(err as Error).message}`);
          await sleep(100);
        }
      }
      await sleep(Math.max(0, 100 - (Date.now() - started)));
    }
  }
}
