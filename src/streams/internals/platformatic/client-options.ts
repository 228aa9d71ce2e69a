import type { BaseOptions } from '@platformatic/kafka';
import { retryDelay } from './errors.ts';

/** Options every platformatic client of one port shares. */
export type BaseClientOptions = Pick<BaseOptions, 'clientId' | 'bootstrapBrokers' | 'retries' | 'retryDelay' | 'timeout' | 'connectTimeout' | 'metadataMaxAge'> & { clientId: string };

export function baseClientOptions(clientId: string, brokers: readonly string[]): BaseClientOptions {
  return {
    clientId,
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
