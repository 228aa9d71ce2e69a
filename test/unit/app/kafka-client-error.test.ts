import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { sinkFailure } from '../../../src/api/sink-failure.ts';
import { KafkaClientError, kafkaClientError } from '../../../src/app/kafka/kafka-client-error.ts';

/** The client's own error classes, nested as it throws them (an operation's MultipleErrors around the causes). */
const failedProduce = (...causes: Error[]) => new MultipleErrors('Producing messages failed.', causes);

describe('kafkaClientError', () => {
  it('a broker that cannot be reached is PS_ERR_KAFKA_UNAVAILABLE, retriable, naming the address and the cause', () => {
    const e = kafkaClientError(failedProduce(new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') })), 'producing to raw');
    expect(e).toBeInstanceOf(KafkaClientError);
    expect(e.code).toBe('PS_ERR_KAFKA_UNAVAILABLE');
    expect((e as KafkaClientError).retriable).toBe(true);
    expect(e.message).toBe('producing to raw: Kafka could not be reached or did not answer in time (Producing messages failed: Connection to 127.0.0.1:1 failed: connect ECONNREFUSED 127.0.0.1:1)');
  });

  it('a retriable broker answer that outlasted the retries (too few in-sync replicas) is PS_ERR_KAFKA_UNAVAILABLE with the broker\'s error name', () => {
    const e = kafkaClientError(failedProduce(new ProtocolError('NOT_ENOUGH_REPLICAS')), 'producing to raw') as KafkaClientError;
    expect([e.code, e.retriable, e.brokerErrors]).toEqual(['PS_ERR_KAFKA_UNAVAILABLE', true, ['NOT_ENOUGH_REPLICAS']]);
    expect(e.message).toContain('[broker: NOT_ENOUGH_REPLICAS]');
  });

  it('a refusal for good (not authorised for the topic) is PS_ERR_KAFKA_REQUEST_FAILED, not retriable, with the broker\'s error name', () => {
    const e = kafkaClientError(failedProduce(new ProtocolError('TOPIC_AUTHORIZATION_FAILED')), 'producing to raw') as KafkaClientError;
    expect([e.code, e.retriable, e.brokerErrors]).toEqual(['PS_ERR_KAFKA_REQUEST_FAILED', false, ['TOPIC_AUTHORIZATION_FAILED']]);
    expect(e.message).toBe('producing to raw: Kafka refused the request (Producing messages failed: Topic authorization failed [broker: TOPIC_AUTHORIZATION_FAILED])');
  });

  it('refused SASL credentials are the runtime\'s PS_ERR_KAFKA_AUTHENTICATION, as on every other client', () => {
    const e = kafkaClientError(new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: new AuthenticationError('SASL authentication failed.') }), 'connecting the producer');
    expect(e.code).toBe('PS_ERR_KAFKA_AUTHENTICATION');
  });

  it('becomes a 503 PS_ERR_API_KAFKA_UNAVAILABLE with Retry-After on the ingestion routes, never a 500', () => {
    for (const cause of [new NetworkError('Connection to 127.0.0.1:1 failed.'), new ProtocolError('TOPIC_AUTHORIZATION_FAILED')]) {
      const api = sinkFailure(kafkaClientError(failedProduce(cause), 'producing to raw'));
      expect([api.statusCode, api.code, api.retryAfterSeconds]).toEqual([503, 'PS_ERR_API_KAFKA_UNAVAILABLE', 5]);
      expect(api.message).toContain('producing to raw: Kafka');
    }
  });
});
