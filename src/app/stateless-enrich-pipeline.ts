import { Kafka, logLevel, type Consumer, type Producer, type Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { Deployment } from '../config/deployment.ts';
import { enrich } from '../profiles/enrich.ts';
import { mergeBatch } from '../profiles/merge-batch.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../schema/avro-serde.ts';
import type { Batch } from '../schema/batch.ts';
import type { EnrichedBatch } from '../schema/enriched-batch.ts';
import { SCHEMAS } from '../schema/schema-catalog.ts';
import { deadLetterHeaders } from './dead-letter.ts';
import { kafkajsLogCreator } from './kafkajs-logger.ts';
import type { Service } from './service.ts';

export interface StatelessPipelineOptions {
  readonly deployment: Deployment;
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  readonly logger: Logger;
  /** Consumer group; the application id by default. */
  readonly groupId?: string;
}

/**
 * The first slice of the pipeline: decode each raw batch, enrich it with the profile that batch alone
 * gives (no stored state), and forward it to every integration's topic; what fails goes to the dead-letter
 * topic with the reason. Input offsets are committed only after Kafka acknowledged the outputs and dead
 * letters of that batch, so a crash repeats work but never loses a batch (at-least-once).
 */
export class StatelessEnrichPipeline implements Service {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly batchSerde: AvroSerde<Batch>;
  private readonly enrichedSerde: AvroSerde<EnrichedBatch>;
  private running = false;
  private fatalListeners: Array<(e: Error) => void> = [];

  constructor(private readonly options: StatelessPipelineOptions) {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
    const kafka = new Kafka({ clientId: options.deployment.app.applicationId, brokers: options.brokers, logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(options.logger) });
    this.consumer = kafka.consumer({ groupId: options.groupId ?? options.deployment.app.applicationId, readUncommitted: false });
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const registry = createSchemaRegistry(options.schemaRegistryUrl);
    this.batchSerde = createAvroSerde<Batch>({ registry, schema: SCHEMAS.batch });
    this.enrichedSerde = createAvroSerde<EnrichedBatch>({ registry, schema: SCHEMAS['enriched-batch'] });
  }

  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  readiness(): { ready: boolean; detail: Record<string, unknown> } {
    return { ready: this.running, detail: { mode: 'stateless' } };
  }

  async start(): Promise<void> {
    const { app, integrations } = this.options.deployment;
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...app.rawTopics], fromBeginning: true });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (event.payload.restart) return;
      const error = event.payload.error instanceof Error ? event.payload.error : new Error(String(event.payload.error));
      this.options.logger.error({ err: error }, 'consumer crashed');
      for (const l of this.fatalListeners) l(error);
    });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const outputs = new Map<string, Message[]>();
        const deadLetters: Message[] = [];
        const push = (topic: string, message: Message) => outputs.set(topic, [...(outputs.get(topic) ?? []), message]);
        // Decode the whole fetched batch at once: no await per record on the warm path.
        const decoded = await Promise.all(
          batch.messages.map((m) =>
            m.value === null ? Promise.reject(new Error('record has no value')) : this.batchSerde.deserialize(batch.topic, m.value),
          ).map((p) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))),
        );
        const now = Date.now();
        // Kept in input order, so a user's outputs keep the order of their batches.
        const pending: Array<{ topic: string; key: Buffer | null; value: Promise<Buffer> }> = [];
        batch.messages.forEach((message, i) => {
          const source = { topic: batch.topic, partition: batch.partition, offset: message.offset };
          const result = decoded[i]!;
          try {
            if (!result.ok) throw result.error;
            const { profile } = mergeBatch(undefined, result.value, { recordTimestampMs: Number(message.timestamp), serializedBytes: message.value?.length });
            for (const integration of integrations) {
              const enriched = enrich(result.value, profile, integration, { processedAtMs: now });
              if (!enriched) continue;
              pending.push({ topic: integration.outputTopic, key: message.key, value: this.enrichedSerde.serialize(integration.outputTopic, enriched) });
            }
          } catch (error) {
            this.options.logger.warn({ err: error, ...source }, 'record sent to the dead-letter topic');
            deadLetters.push({ key: message.key, value: message.value, headers: deadLetterHeaders(error, source) });
          }
        });
        const values = await Promise.all(pending.map((p) => p.value));
        pending.forEach((p, i) => push(p.topic, { key: p.key, value: values[i]! }));
        const topicMessages = [...outputs].map(([topic, messages]) => ({ topic, messages }));
        if (deadLetters.length > 0) topicMessages.push({ topic: app.deadLetterTopic, messages: deadLetters });
        if (topicMessages.length > 0) await this.producer.sendBatch({ topicMessages, acks: -1 });
        const last = batch.messages[batch.messages.length - 1];
        if (last) {
          resolveOffset(last.offset);
          await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
        }
        await heartbeat();
      },
    });
    this.running = true;
  }

  async close(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
