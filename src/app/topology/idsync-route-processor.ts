import type { Processor, ProcessorContext, Record } from '../../streams/index.ts';
import type { Batch } from '../../schema/batch.ts';
import { InvalidIdentityError } from '../../identity/errors.ts';
import { batchIdentities, type IdentityStrategy } from '../../identity/identity-strategy.ts';
import { identityValueProblem } from '../../identity/identity-values.ts';
import { needsResolution, visitOrder } from '../../identity/resolution.ts';
import { encodeResolutionState, intentOf, RESOLUTION_INTENT_HEADER, RESOLUTION_STATE_HEADER } from '../../identity/resolution-state.ts';

export const IDSYNC_REQUESTS = 'idsync-requests';
export const IDSYNC_REQUESTS_SINK = `${IDSYNC_REQUESTS}-sink`;

/**
 * Beside the profile merge on the raw topics: a batch without MPID (unkeyed or keyed by an identity) is
 * sent to its first identity's partition to be resolved; every other batch is the merge's. A batch that
 * has no identity, or an empty or over-long one, is dead-lettered with the reason.
 */
export class IdSyncRouteProcessor implements Processor<string | null, Batch, string, Batch> {
  private ctx!: ProcessorContext<string, Batch>;

  constructor(private readonly strategy: IdentityStrategy) {}

  init(context: ProcessorContext<string, Batch>): void {
    this.ctx = context;
  }

  async process(record: Record<string | null, Batch>): Promise<void> {
    const batch = record.value;
    if (!needsResolution(batch.mpid, record.key)) return;
    const refs = batchIdentities(batch, this.strategy);
    if (refs.length === 0) throw new InvalidIdentityError('the batch has no mpid and no identity (user_identities or device_info ids) to find its user by');
    for (const ref of refs) {
      const problem = identityValueProblem(ref.value);
      if (problem) throw new InvalidIdentityError(`identity ${ref.type} ${problem}`);
    }
    const hops = visitOrder(refs);
    const { [RESOLUTION_INTENT_HEADER]: intent, ...headers } = record.headers;
    const state = encodeResolutionState({ intent: intentOf(intent), phase: 'lookup', hops, at: 0, claims: {} });
    await this.ctx.forward(record.withKey(hops[0]!).withHeaders({ ...headers, [RESOLUTION_STATE_HEADER]: state }), IDSYNC_REQUESTS_SINK);
  }
}
