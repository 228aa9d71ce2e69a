import type { SeedMessage } from '../audiences/seed-message.ts';

/** Where accepted seeds go (the seeding topic): resolves only once Kafka acknowledged every one. */
export interface SeedSink {
  sendSeeds(seeds: readonly SeedMessage[]): Promise<void>;
}
