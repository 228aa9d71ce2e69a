/**
 * profile-stream's stream runtime: a small Kafka Streams for Node. Users write against these types;
 * everything under `internals/` may change.
 */
export { Topology, type SourceOptions, type SinkOptions } from './topology.ts';
export type { Processor, ProcessorContext, ProcessorSupplier, Punctuator, Cancellable } from './processor.ts';
export { Record, type RecordMetadata, type Headers } from './record.ts';
export { Record as StreamRecord } from './record.ts';
export { Stores, type KeyValueStore, type ReadOnlyKeyValueStore, type KeyValue, type StoreBuilder, type StoreKind } from './store.ts';
export { Serdes, stringSerde, bufferSerde, jsonSerde, int64Serde, numberSerde, type Serde } from './serdes.ts';
export { type Clock, systemClock, ManualClock } from './clock.ts';
export { murmur2, partitionForKey, toPositive, type Partitioner } from './partitioner.ts';
export { StreamsError, TopologyError, isStreamsError, STREAMS_ERROR_CODES, type StreamsErrorCode } from './errors.ts';
export { TopologyTestDriver, type TopologyTestDriverOptions, type TestInputTopic, type TestOutputTopic } from './test-driver.ts';
export { StreamsApp, type StreamsConfig, type StreamsState, type KeyQueryMetadata, type TaskRestoreStatus } from './streams-app.ts';
export type { StreamsLogger } from './internals/logger.ts';
export { KAFKA_CLIENTS, DEFAULT_KAFKA_CLIENT, type KafkaClientName, type KafkaPortFactory, type KafkaPortContext } from './internals/kafka-client.ts';
export type { KafkaPort } from './internals/kafka-port.ts';
export { SASL_MECHANISMS, securityProtocolOf, describeKafkaSecurity, type KafkaSecurity, type KafkaTls, type KafkaSasl, type SaslMechanism } from './kafka-security.ts';
export { kafkaSecurityFailure } from './internals/security-failure.ts';
export { baseClientOptions as platformaticClientOptions, type BaseClientOptions as PlatformaticClientOptions } from './internals/platformatic/client-options.ts';
export { brokerErrorIds, isKafkaUnavailable } from './internals/platformatic/errors.ts';
