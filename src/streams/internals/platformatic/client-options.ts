import type { BaseOptions } from '@platformatic/kafka';
import type { KafkaSecurity } from '../../kafka-security.ts';
import { retryDelay } from './errors.ts';
import { platformaticSecurityOptions } from './security-options.ts';

/** Options every platformatic client of one port shares. */
export type BaseClientOptions = Pick<BaseOptions, 'clientId' | 'bootstrapBrokers' | 'retries' | 'retryDelay' | 'timeout' | 'connectTimeout' | 'metadataMaxAge' | 'tls' | 'tlsServerName' | 'sasl'> & { clientId: string };

export function baseClientOptions(clientId: string, brokers: readonly string[], security?: KafkaSecurity): BaseClientOptions {
  return {
    clientId,
    ...platformaticSecurityOptions(security, brokers),
    bootstrapBrokers: [...brokers],
    // Bounded (about 17 s of backoff, 3.5 s on CONCURRENT_TRANSACTIONS): a broker that stays away must
    // surface as an error the runtime can act on, not hang a call.
    retries: 20,
    retryDelay,
    // A request waits at most this long for its answer; fetches wait far less (maxWaitTime).
    timeout: 30_000,
    connectTimeout: 5_000,
  };
}
