import type { Processor, ProcessorContext, Record } from '../../streams/index.ts';
import { parseSeedMessage, seedOf } from '../../audiences/seed-message.ts';
import { SeedInvalidError } from '../../audiences/errors.ts';
import type { AudienceStep } from './audience-step.ts';

export const SEEDS_SOURCE = 'calculated-attribute-seeds';
export const SEED_PROCESSOR = 'apply-seeds';

/**
 * Applies seeds from the seeding topic (JSON keyed by MPID) to the user's calculated attributes, in the
 * task that owns the user's profile (the seeding topic is co-partitioned with the raw topics). A seed
 * that is not valid JSON, has a bad field, names no definition of its workspace or lacks what the
 * calculation reads throws, and the runtime dead-letters it with the reason.
 */
export class SeedProcessor implements Processor<string, unknown, unknown, unknown> {
  constructor(private readonly step: AudienceStep) {}

  init(context: ProcessorContext<unknown, unknown>): void {
    this.step.init(context);
  }

  async process(record: Record<string, unknown>): Promise<void> {
    const message = parseSeedMessage(record.value);
    if (record.key !== message.mpid) {
      // Another key may have put the seed on a partition whose task does not own the user.
      throw new SeedInvalidError(`record key ${JSON.stringify(record.key)} is not the seed's mpid ${message.mpid}: key seeds by MPID`);
    }
    await this.step.applySeed(message.mpid, seedOf(message));
  }
}
