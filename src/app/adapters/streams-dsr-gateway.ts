import { isStreamsError, type StreamsApp } from '../../streams/index.ts';
import type { DsrGateway } from '../../api/dsr-gateway.ts';
import type { KeyOwner, Unavailable } from '../../api/profile-lookup.ts';
import type { DsrRequested, DsrStatus } from '../../profiles/erasure.ts';
import { DSR_STATUS_STORE } from '../topology/dsr-processors.ts';
import { unavailable } from './streams-profile-lookup.ts';
import { createKeyedProducer, type KeyedProducer } from '../kafka/keyed-producer.ts';
import type { ClientSecurity } from '../client-security.ts';

/**
 * `POST /v1/dsr` writes to the DSR topic (JSON keyed by request id, partitioned as Java's murmur2 does,
 * so the request lands on the partition whose task keeps its status), and
 * `GET /v1/dsr/:id` reads the `dsr-status` store through interactive queries.
 */
export class StreamsDsrGateway implements DsrGateway {
  private readonly producer: KeyedProducer;

  constructor(
    private readonly app: StreamsApp,
    brokers: string[],
    private readonly dsrTopic: string,
    clientId = 'profile-stream-dsr',
    security?: ClientSecurity,
  ) {
    this.producer = createKeyedProducer({ brokers, clientId, security: security?.kafka });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  async submit(request: DsrRequested): Promise<void> {
    await this.producer.send(this.dsrTopic, [{ key: request.request_id, value: JSON.stringify(request), timestamp: request.requested_ms }]);
  }

  async ownerOfRequest(requestId: string): Promise<KeyOwner> {
    try {
      const md = await this.app.metadataForKey(DSR_STATUS_STORE, requestId);
      return md.local ? { local: true } : { local: false, applicationServer: md.applicationServer };
    } catch (error) {
      if (isStreamsError(error) && error.code === 'PS_ERR_APP_NOT_RUNNING') return { local: true };
      throw error;
    }
  }

  async getStatus(requestId: string): Promise<{ status: DsrStatus | undefined } | Unavailable> {
    try {
      return { status: await this.app.store<string, DsrStatus>(DSR_STATUS_STORE).get(requestId) };
    } catch (error) {
      return unavailable(error);
    }
  }
}
