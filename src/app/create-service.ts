import { StreamsService, type StreamsServiceOptions } from './streams-service.ts';

export type ServiceOptions = StreamsServiceOptions;

/** The stream processor `start` runs: the profile topology on the stream runtime. */
export function createService(options: ServiceOptions): StreamsService {
  return new StreamsService(options);
}
