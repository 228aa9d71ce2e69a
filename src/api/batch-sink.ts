import type { Batch } from '../schema/batch.ts';

/** Where Kafka stored one batch (offset as a decimal string, 64-bit). */
export interface IngestedPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Where accepted batches go: resolves only once Kafka acknowledged them, with each batch's position in
 * the order given (a sink that cannot tell, e.g. in a test, resolves with nothing and the 202 then has
 * no `offsets`).
 */
export interface BatchSink {
  send(topic: string, batches: readonly Batch[]): Promise<readonly IngestedPosition[] | void>;
}
