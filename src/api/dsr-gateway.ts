import type { DsrRequested, DsrStatus } from '../profiles/erasure.ts';
import type { KeyOwner, Unavailable } from './profile-lookup.ts';

/** What the DSR routes need of the stream processor: a way in (the DSR topic) and the status store. */
export interface DsrGateway {
  /** Resolves once Kafka acknowledged the request on the DSR topic. */
  submit(request: DsrRequested): Promise<void>;
  ownerOfRequest(requestId: string): Promise<KeyOwner>;
  /** Only for request ids this instance owns. */
  getStatus(requestId: string): Promise<{ status: DsrStatus | undefined } | Unavailable>;
}
